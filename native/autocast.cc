// Automatic mixed precision: libtorch's autocast (the same per-op cast policy as torch.autocast) switched on
// and off around a region, for cpu (bf16) and cuda (bf16 or fp16). The autocast API changed in libtorch 2.4
// (device-typed calls replaced the per-device ones); both spellings live in this file only.
#include "common.h"

#include <ATen/autocast_mode.h>

using namespace tandem;

#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
#define TANDEM_AUTOCAST_DEVICE_TYPED 1
#else
#define TANDEM_AUTOCAST_DEVICE_TYPED 0
#endif

namespace {

c10::DeviceType autocast_device(const std::string& name) {
  if (name == "cpu") return c10::DeviceType::CPU;
  if (name == "cuda") {
#if TANDEM_CUDA
    return c10::DeviceType::CUDA;
#else
    throw ArgError("autocast device 'cuda' needs an addon built against a CUDA libtorch (this one is CPU-only)");
#endif
  }
  throw ArgError("autocast device must be 'cpu' or 'cuda', got '" + name + "'");
}

bool is_on(c10::DeviceType d) {
#if TANDEM_AUTOCAST_DEVICE_TYPED
  return at::autocast::is_autocast_enabled(d);
#else
  return d == c10::DeviceType::CPU ? at::autocast::is_cpu_enabled() : at::autocast::is_enabled();
#endif
}

void set_on(c10::DeviceType d, bool on) {
#if TANDEM_AUTOCAST_DEVICE_TYPED
  at::autocast::set_autocast_enabled(d, on);
#else
  if (d == c10::DeviceType::CPU) at::autocast::set_cpu_enabled(on);
  else at::autocast::set_enabled(on);
#endif
}

at::ScalarType get_dtype(c10::DeviceType d) {
#if TANDEM_AUTOCAST_DEVICE_TYPED
  return at::autocast::get_autocast_dtype(d);
#else
  return d == c10::DeviceType::CPU ? at::autocast::get_autocast_cpu_dtype() : at::autocast::get_autocast_gpu_dtype();
#endif
}

void set_dtype(c10::DeviceType d, at::ScalarType t) {
#if TANDEM_AUTOCAST_DEVICE_TYPED
  at::autocast::set_autocast_dtype(d, t);
#else
  if (d == c10::DeviceType::CPU) at::autocast::set_autocast_cpu_dtype(t);
  else at::autocast::set_autocast_gpu_dtype(t);
#endif
}

Napi::Value state_of(Napi::Env env, c10::DeviceType d) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("enabled", Napi::Boolean::New(env, is_on(d)));
  o.Set("dtype", Napi::Number::New(env, code_of(get_dtype(d))));
  return o;
}

}  // namespace

// autocast_enter(device, dtype, enabled) -> previous {enabled, dtype}: as torch.autocast.__enter__ (set the
// dtype and the switch, count one more nesting level; the weight-cast cache stays on).
OP(autocast_enter) {
  auto d = autocast_device(S(info, 0));
  auto dt = DT(info, 1);
  bool on = B(info, 2);
  if (on && dt != torch::kBFloat16 && dt != torch::kFloat16)
    throw ArgError(std::string("autocast dtype must be bfloat16 or float16, got ") + dtype_name(dt));
  if (on && d == c10::DeviceType::CPU && dt != torch::kBFloat16)
    throw ArgError("CPU autocast in libtorch supports bfloat16 only (float16 is a CUDA precision)");
  Napi::Value prev = state_of(env, d);
  set_dtype(d, dt);
  set_on(d, on);
  at::autocast::increment_nesting();
  return prev;
}

// autocast_exit(device, prevEnabled, prevDtype): as torch.autocast.__exit__ (the cache of weights cast to the
// low precision is cleared when the outermost region ends, then the previous state comes back).
OP(autocast_exit) {
  auto d = autocast_device(S(info, 0));
  bool prev_on = B(info, 1);
  auto prev_dt = DT(info, 2);
  if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
  set_on(d, prev_on);
  set_dtype(d, prev_dt);
  return env.Undefined();
}

OP(autocast_state) { return state_of(env, autocast_device(S(info, 0))); }
