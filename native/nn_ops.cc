// Neural-network functions, losses and the fused attention and MLP blocks (their backward is libtorch's).
#include "common.h"

using namespace tandem;
namespace F = torch::nn::functional;

OP(softmax) { return W(env, torch::softmax(T(info, 0), I(info, 1))); }
OP(log_softmax) { return W(env, torch::log_softmax(T(info, 0), I(info, 1))); }
OP(layer_norm) { return W(env, torch::layer_norm(T(info, 0), IL(info, 1), OT(info, 2), OT(info, 3), D(info, 4), true)); }
OP(gelu) { return W(env, torch::gelu(T(info, 0), B(info, 1) ? "tanh" : "none")); }
OP(relu) { return W(env, torch::relu(T(info, 0))); }
OP(tanh) { return W(env, torch::tanh(T(info, 0))); }
OP(sigmoid) { return W(env, torch::sigmoid(T(info, 0))); }
OP(erf) { return W(env, torch::erf(T(info, 0))); }
OP(silu) { return W(env, torch::silu(T(info, 0))); }
OP(logsigmoid) { return W(env, torch::log_sigmoid(T(info, 0))); }
OP(dropout) { return W(env, torch::dropout(T(info, 0), D(info, 1), B(info, 2))); }
OP(embedding) { return W(env, torch::embedding(T(info, 0), T(info, 1), absent(info, 2) ? -1 : I(info, 2), false, false)); }
OP(conv2d) {
  return W(env, torch::conv2d(T(info, 0), T(info, 1), OT(info, 2), IL(info, 3), IL(info, 4), IL(info, 5), I(info, 6)));
}
OP(avg_pool2d) { return W(env, torch::avg_pool2d(T(info, 0), IL(info, 1), IL(info, 2))); }
OP(adaptive_avg_pool2d) { return W(env, torch::adaptive_avg_pool2d(T(info, 0), IL(info, 1))); }

// interpolate(x, size[]|null, scale[]|null, mode, align_corners, antialias)
OP(interpolate) {
  auto o = F::InterpolateFuncOptions();
  if (!absent(info, 1)) o = o.size(IL(info, 1));
  if (!absent(info, 2)) {
    o = o.scale_factor(DL(info, 2));
  }
  std::string mode = S(info, 3);
  bool nearest = mode == "nearest";
  if (nearest) o = o.mode(torch::kNearest);
  else if (mode == "bilinear") o = o.mode(torch::kBilinear);
  else if (mode == "bicubic") o = o.mode(torch::kBicubic);
  else throw ArgError("interpolate mode must be 'nearest', 'bilinear' or 'bicubic', got '" + mode + "'");
  if (!nearest) o = o.align_corners(B(info, 4));
  else if (B(info, 4)) throw ArgError("align_corners applies to bilinear and bicubic modes only");
  if (B(info, 5)) {
#if TANDEM_TORCH2
    o = o.antialias(true);
#else
    throw ArgError("antialiased interpolation needs libtorch 2.x");
#endif
  }
  return W(env, F::interpolate(T(info, 0), o));
}

OP(normalize) {
  return W(env, F::normalize(T(info, 0), F::NormalizeFuncOptions().p(D(info, 1)).dim(I(info, 2)).eps(D(info, 3))));
}

static int64_t reduction(const Napi::CallbackInfo& info, size_t i) {
  if (absent(info, i)) return at::Reduction::Mean;
  std::string r = S(info, i);
  if (r == "mean") return at::Reduction::Mean;
  if (r == "sum") return at::Reduction::Sum;
  if (r == "none") return at::Reduction::None;
  throw ArgError("reduction must be 'mean', 'sum' or 'none', got '" + r + "'");
}

// cross_entropy(logits, target, weight?, ignore_index, label_smoothing, reduction)
OP(cross_entropy) {
  return W(env, torch::cross_entropy_loss(T(info, 0), T(info, 1), OT(info, 2), reduction(info, 5), I(info, 3), D(info, 4)));
}
OP(nll_loss) { return W(env, torch::nll_loss(T(info, 0), T(info, 1), OT(info, 2), reduction(info, 4), I(info, 3))); }
// bce_with_logits(logits, target, weight?, pos_weight?, reduction)
OP(bce_with_logits) {
  return W(env, torch::binary_cross_entropy_with_logits(T(info, 0), T(info, 1), OT(info, 2), OT(info, 3), reduction(info, 4)));
}
OP(mse_loss) { return W(env, torch::mse_loss(T(info, 0), T(info, 1), reduction(info, 2))); }

// attention(q, k, v, mask?, dropout_p, training, scale (0: 1/sqrt(head_dim)), causal)
// q, k, v: [..., L, D]. mask: additive float broadcastable to [..., Lq, Lk], or bool (true = attend).
OP(attention) {
  auto& q = T(info, 0);
  auto& k = T(info, 1);
  auto& v = T(info, 2);
  auto mask = OT(info, 3);
  double p = B(info, 5) ? D(info, 4) : 0.0;
  double scale = D(info, 6);
  bool causal = B(info, 7);
#if TANDEM_TORCH2
  // libtorch 2.x's fused kernel, except in float64: called from here on 2.11's CPU, its float64 gradients came
  // out wrong (ViLT's and LXMERT's against finite differences, CLIP's key bias not 0), while PyTorch's own SDPA
  // was exact in Python on the same machine (cause not pinned down; test/tensor/attention-kernel.test.ts), and
  // float64 is for checking, not for speed.
  if (q.scalar_type() != torch::kDouble) {
    c10::optional<double> sc;
    if (scale > 0) sc = scale;
    return W(env, at::scaled_dot_product_attention(q, k, v, mask, p, causal, sc));
  }
#endif
  double s = scale > 0 ? scale : 1.0 / std::sqrt((double)q.size(-1));
  auto scores = torch::matmul(q, k.transpose(-2, -1)).mul(s);
  if (causal) {
    auto L = q.size(-2), S = k.size(-2);
    auto keep = torch::ones({L, S}, torch::TensorOptions().dtype(torch::kBool).device(q.device())).tril();
    scores = scores.masked_fill(keep.logical_not(), -std::numeric_limits<double>::infinity());
  }
  if (mask) {
    if (mask->scalar_type() == torch::kBool) scores = scores.masked_fill(mask->logical_not(), -std::numeric_limits<double>::infinity());
    else scores = scores.add(*mask);
  }
  auto probs = torch::softmax(scores, -1);
  if (p > 0) probs = torch::dropout(probs, p, true);
  return W(env, torch::matmul(probs, v));
}

static torch::Tensor activation(const torch::Tensor& x, const std::string& act) {
  if (act == "gelu") return torch::gelu(x);
  if (act == "gelu_tanh") return torch::gelu(x, "tanh");
  if (act == "relu") return torch::relu(x);
  if (act == "quick_gelu") return x.mul(torch::sigmoid(x.mul(1.702)));
  if (act == "tanh") return torch::tanh(x);
  if (act == "silu") return torch::silu(x);
  throw ArgError("unknown activation '" + act + "' (expected gelu, gelu_tanh, relu, quick_gelu, tanh, silu)");
}
OP(activation) { return W(env, activation(T(info, 0), S(info, 1))); }

// mlp(x, w1, b1?, w2, b2?, act): linear -> activation -> linear, one call instead of three.
OP(mlp) {
  auto h = activation(torch::linear(T(info, 0), T(info, 1), UT(info, 2)), S(info, 5));
  return W(env, torch::linear(h, T(info, 3), UT(info, 4)));
}
