// Module entry, tensor lifetime and data exchange, creation and random numbers, autograd, runtime settings,
// and the optimiser kernels (AdamW, SGD, clipping) written with the same arithmetic as PyTorch's.
#include "common.h"

#include <ATen/Parallel.h>
#include <cstring>

using namespace tandem;

std::vector<OpEntry>& tandem::registry() {
  static std::vector<OpEntry> r;
  return r;
}

// ---- lifetime and metadata ----
OP(dispose) {
  holder(info, 0)->t = torch::Tensor();
  return env.Undefined();
}
OP(is_disposed) { return Napi::Boolean::New(env, !holder(info, 0)->t.defined()); }
OP(shape) {
  auto& t = T(info, 0);
  Napi::Array a = Napi::Array::New(env, t.dim());
  for (int64_t d = 0; d < t.dim(); d++) a.Set((uint32_t)d, Napi::Number::New(env, (double)t.size(d)));
  return a;
}
OP(strides) {
  auto& t = T(info, 0);
  Napi::Array a = Napi::Array::New(env, t.dim());
  for (int64_t d = 0; d < t.dim(); d++) a.Set((uint32_t)d, Napi::Number::New(env, (double)t.stride(d)));
  return a;
}
OP(dtype) {
  int c = code_of(T(info, 0).scalar_type());
  if (c < 0) throw ArgError(std::string("tensor has unsupported dtype ") + c10::toString(T(info, 0).scalar_type()));
  return Napi::Number::New(env, c);
}
OP(device) { return Napi::String::New(env, T(info, 0).device().str()); }
OP(numel) { return Napi::Number::New(env, (double)T(info, 0).numel()); }
OP(is_contiguous) { return Napi::Boolean::New(env, T(info, 0).is_contiguous()); }
OP(same_storage) {
  return Napi::Boolean::New(env, T(info, 0).storage().unsafeGetStorageImpl() == T(info, 1).storage().unsafeGetStorageImpl());
}
OP(nbytes) { return Napi::Number::New(env, (double)(T(info, 0).numel() * T(info, 0).element_size())); }

// ---- data in and out ----
// from_buffer(typedArrayOrBuffer, dtype, shape, device?): one copy into tensor-owned memory (the JS buffer
// may be freed or moved by V8 at any time after this call returns).
OP(from_buffer) {
  if (!info[0].IsTypedArray() && !info[0].IsArrayBuffer()) throw ArgError("argument 0 must be a TypedArray, Buffer or ArrayBuffer");
  const uint8_t* data;
  size_t len;
  if (info[0].IsTypedArray()) {
    auto ta = info[0].As<Napi::TypedArray>();
    data = static_cast<const uint8_t*>(ta.ArrayBuffer().Data()) + ta.ByteOffset();
    len = ta.ByteLength();
  } else {
    auto ab = info[0].As<Napi::ArrayBuffer>();
    data = static_cast<const uint8_t*>(ab.Data());
    len = ab.ByteLength();
  }
  auto dt = DT(info, 1);
  auto shape = IL(info, 2);
  int64_t numel = 1;
  for (auto s : shape) {
    if (s < 0) throw ArgError("negative dimension in shape");
    numel *= s;
  }
  size_t need = (size_t)numel * c10::elementSize(dt);
  if (need != len)
    throw ArgError("buffer holds " + std::to_string(len) + " bytes but shape and dtype need " + std::to_string(need));
  auto dev = absent(info, 3) ? torch::Device(torch::kCPU) : DEV(info, 3);
  // For a GPU: staged in pinned host memory (libtorch's caching host allocator) and copied without blocking,
  // so the copy runs on the device's stream while the host goes on queueing the step's kernels; the allocator
  // keeps the pinned block until the copy has finished, and the caller's buffer is free to reuse at once.
  bool pinned = dev.is_cuda() && len > 0;
  auto t = torch::empty(shape, torch::TensorOptions().dtype(dt).pinned_memory(pinned));
  if (len) std::memcpy(t.data_ptr(), data, len);
  if (!dev.is_cpu()) t = t.to(dev, /*non_blocking=*/pinned);
  return W(env, t);
}

// to_buffer(t): an ArrayBuffer over the tensor's own memory (no copy for a contiguous CPU tensor; a copy is
// made otherwise). The buffer keeps the tensor alive until V8 collects it.
OP(to_buffer) {
  torch::Tensor t = T(info, 0).detach();
  if (!t.device().is_cpu()) t = t.to(torch::kCPU);
  t = t.contiguous();
  auto* h = new Holder{t};
  size_t len = (size_t)t.numel() * t.element_size();
  if (len == 0) {
    delete h;
    return Napi::ArrayBuffer::New(env, 0);
  }
  return Napi::ArrayBuffer::New(env, t.data_ptr(), len, [](Napi::Env, void*, Holder* hh) { delete hh; }, h);
}

OP(item) {
  auto& t = T(info, 0);
  if (t.numel() != 1) throw ArgError("item() needs a tensor with one element, got " + shape_str(t));
  return Napi::Number::New(env, t.item<double>());
}

// ---- creation ----
static torch::TensorOptions opts(const Napi::CallbackInfo& info, size_t dtype_i, size_t dev_i) {
  auto o = torch::TensorOptions().dtype(absent(info, dtype_i) ? torch::kFloat32 : DT(info, dtype_i));
  return o.device(DEV(info, dev_i));
}
OP(zeros) { return W(env, torch::zeros(IL(info, 0), opts(info, 1, 2))); }
OP(ones) { return W(env, torch::ones(IL(info, 0), opts(info, 1, 2))); }
OP(empty) { return W(env, torch::empty(IL(info, 0), opts(info, 1, 2))); }
OP(full) { return W(env, torch::full(IL(info, 0), D(info, 1), opts(info, 2, 3))); }
OP(arange) { return W(env, torch::arange(D(info, 0), D(info, 1), D(info, 2), opts(info, 3, 4))); }
OP(linspace) { return W(env, torch::linspace(D(info, 0), D(info, 1), I(info, 2), opts(info, 3, 4))); }
OP(eye) { return W(env, torch::eye(I(info, 0), opts(info, 1, 2))); }
OP(rand) { return W(env, torch::rand(IL(info, 0), opts(info, 1, 2))); }
OP(randn) { return W(env, torch::randn(IL(info, 0), opts(info, 1, 2))); }
OP(randint) {
  auto o = torch::TensorOptions().dtype(absent(info, 3) ? torch::kInt64 : DT(info, 3)).device(DEV(info, 4));
  return W(env, torch::randint(I(info, 0), I(info, 1), IL(info, 2), o));
}
OP(randperm) {
  auto o = torch::TensorOptions().dtype(torch::kInt64).device(DEV(info, 1));
  return W(env, torch::randperm(I(info, 0), o));
}
OP(multinomial) { return W(env, torch::multinomial(T(info, 0), I(info, 1), B(info, 2))); }
OP(bernoulli) { return W(env, torch::bernoulli(T(info, 0))); }
OP(uniform_) {
  torch::NoGradGuard g;
  T(info, 0).uniform_(D(info, 1), D(info, 2));
  return info[0];
}
OP(normal_) {
  torch::NoGradGuard g;
  T(info, 0).normal_(D(info, 1), D(info, 2));
  return info[0];
}
OP(manual_seed) {
  uint64_t seed = (uint64_t)I(info, 0);
  torch::manual_seed(seed);
  return env.Undefined();
}
OP(rng_state) { return W(env, at::detail::getDefaultCPUGenerator().get_state()); }
OP(set_rng_state) {
  at::Generator gen = at::detail::getDefaultCPUGenerator();
  gen.set_state(T(info, 0));
  return env.Undefined();
}

// ---- conversion ----
OP(to_dtype) { return W(env, T(info, 0).to(DT(info, 1))); }
OP(to_device) { return W(env, T(info, 0).to(DEV(info, 1))); }
OP(contiguous) { return W(env, T(info, 0).contiguous()); }
OP(clone) { return W(env, T(info, 0).clone()); }
OP(detach) { return W(env, T(info, 0).detach()); }
OP(copy_) {
  torch::NoGradGuard g;
  T(info, 0).copy_(T(info, 1));
  return info[0];
}
OP(zero_) {
  torch::NoGradGuard g;
  T(info, 0).zero_();
  return info[0];
}
OP(fill_) {
  torch::NoGradGuard g;
  T(info, 0).fill_(D(info, 1));
  return info[0];
}

// ---- autograd ----
OP(requires_grad) { return Napi::Boolean::New(env, T(info, 0).requires_grad()); }
OP(set_requires_grad) {
  T(info, 0).requires_grad_(B(info, 1));
  return info[0];
}
OP(is_leaf) { return Napi::Boolean::New(env, T(info, 0).is_leaf()); }
OP(retain_grad) {
  T(info, 0).retain_grad();
  return info[0];
}
OP(backward) {
  auto g = UT(info, 1);
  T(info, 0).backward(g, B(info, 2), false);
  return env.Undefined();
}
OP(grad) {
  auto& t = T(info, 0);
  const auto& g = t.grad();
  if (!g.defined()) return env.Null();
  return W(env, g);
}
OP(has_grad) { return Napi::Boolean::New(env, T(info, 0).grad().defined()); }
OP(set_grad) {
  auto& t = T(info, 0);
  t.mutable_grad() = UT(info, 1);
  return env.Undefined();
}
// autograd_grad(outputs[], inputs[], grad_outputs[]|null, retain, create): torch.autograd.grad.
OP(autograd_grad) {
  auto outs = TL(info, 0);
  auto ins = TL(info, 1);
  std::vector<torch::Tensor> gos;
  if (!absent(info, 2)) gos = TL(info, 2);
  auto r = torch::autograd::grad(outs, ins, gos, B(info, 3), B(info, 4), true);
  Napi::Array a = Napi::Array::New(env, r.size());
  for (size_t k = 0; k < r.size(); k++) a.Set((uint32_t)k, r[k].defined() ? W(env, r[k]) : env.Null());
  return a;
}
OP(set_grad_enabled) {
  bool prev = torch::GradMode::is_enabled();
  torch::GradMode::set_enabled(B(info, 0));
  return Napi::Boolean::New(env, prev);
}
OP(is_grad_enabled) { return Napi::Boolean::New(env, torch::GradMode::is_enabled()); }

// ---- runtime ----
OP(set_num_threads) {
  at::set_num_threads((int)I(info, 0));
  return env.Undefined();
}
OP(get_num_threads) { return Napi::Number::New(env, at::get_num_threads()); }
OP(cuda_is_available) { return Napi::Boolean::New(env, torch::cuda::is_available()); }
OP(cuda_device_count) { return Napi::Number::New(env, (double)torch::cuda::device_count()); }
OP(cuda_synchronize) {
#if TANDEM_CUDA
  if (torch::cuda::is_available()) torch::cuda::synchronize();
#endif
  return env.Undefined();
}
OP(cuda_manual_seed_all) {
#if TANDEM_CUDA
  torch::cuda::manual_seed_all((uint64_t)I(info, 0));
#endif
  return env.Undefined();
}
OP(torch_version) { return Napi::String::New(env, TORCH_VERSION); }
OP(parallel_info) { return Napi::String::New(env, at::get_parallel_info()); }
OP(has_sdpa) { return Napi::Boolean::New(env, TANDEM_TORCH2 != 0); }
OP(set_deterministic) {
  at::globalContext().setDeterministicAlgorithms(B(info, 0), false);
  return env.Undefined();
}

// ---- optimisers ----
// adamw_step(params, exp_avgs, exp_avg_sqs, step, lr, beta1, beta2, eps, weight_decay): one step of
// torch.optim.AdamW (single-tensor path, amsgrad off) on parameters that have a grad.
OP(adamw_step) {
  torch::NoGradGuard g;
  auto ps = TL(info, 0);
  auto m = TL(info, 1);
  auto v = TL(info, 2);
  double step = D(info, 3), lr = D(info, 4), b1 = D(info, 5), b2 = D(info, 6), eps = D(info, 7), wd = D(info, 8);
  if (ps.size() != m.size() || ps.size() != v.size()) throw ArgError("params and state lists differ in length");
  double bc1 = 1.0 - std::pow(b1, step);
  double bc2 = 1.0 - std::pow(b2, step);
  double step_size = lr / bc1;
  double bc2_sqrt = std::sqrt(bc2);
  for (size_t k = 0; k < ps.size(); k++) {
    auto& p = ps[k];
    const auto& gr = p.grad();
    if (!gr.defined()) continue;
    if (wd != 0) p.mul_(1.0 - lr * wd);
    m[k].lerp_(gr, 1.0 - b1);
    v[k].mul_(b2).addcmul_(gr, gr, 1.0 - b2);
    auto denom = (v[k].sqrt() / bc2_sqrt).add_(eps);
    p.addcdiv_(m[k], denom, -step_size);
  }
  return env.Undefined();
}

// sgd_step(params, momentum_bufs, lr, momentum, dampening, weight_decay, nesterov, first): torch.optim.SGD.
OP(sgd_step) {
  torch::NoGradGuard g;
  auto ps = TL(info, 0);
  auto bufs = TL(info, 1);
  double lr = D(info, 2), mom = D(info, 3), damp = D(info, 4), wd = D(info, 5);
  bool nesterov = B(info, 6), first = B(info, 7);
  for (size_t k = 0; k < ps.size(); k++) {
    auto& p = ps[k];
    if (!p.grad().defined()) continue;
    auto d = p.grad();
    if (wd != 0) d = d.add(p, wd);
    if (mom != 0) {
      auto& b = bufs[k];
      if (first) b.copy_(d);
      else b.mul_(mom).add_(d, 1.0 - damp);
      d = nesterov ? d.add(b, mom) : b;
    }
    p.add_(d, -lr);
  }
  return env.Undefined();
}

// clip_grad_norm(params, max_norm, norm_type): torch.nn.utils.clip_grad_norm_; returns the total norm.
OP(clip_grad_norm) {
  torch::NoGradGuard g;
  auto ps = TL(info, 0);
  double max_norm = D(info, 1), p = D(info, 2);
  std::vector<torch::Tensor> norms;
  for (auto& t : ps)
    if (t.grad().defined()) norms.push_back(std::isinf(p) ? t.grad().abs().max() : t.grad().norm(p));
  if (norms.empty()) return Napi::Number::New(env, 0.0);
  auto total = std::isinf(p) ? torch::stack(norms).max() : torch::stack(norms).norm(p);
  auto coef = torch::clamp(max_norm / (total + 1e-6), c10::nullopt, 1.0);
  for (auto& t : ps)
    if (t.grad().defined()) t.grad().mul_(coef.to(t.grad().device()));
  return Napi::Number::New(env, total.item<double>());
}

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  for (auto& e : registry()) exports.Set(e.name, Napi::Function::New(env, e.fn, e.name));
  return exports;
}

NODE_API_MODULE(tandem, Init)
