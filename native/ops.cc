// Elementwise arithmetic, comparisons, reductions, shape and indexing ops, linear algebra.
#include "common.h"

using namespace tandem;

#define UNARY(NAME, EXPR) \
  OP(NAME) {              \
    auto& x = T(info, 0); \
    return W(env, EXPR);  \
  }

UNARY(neg, x.neg())
UNARY(abs, x.abs())
UNARY(exp, x.exp())
UNARY(log, x.log())
UNARY(log1p, x.log1p())
UNARY(sqrt, x.sqrt())
UNARY(rsqrt, x.rsqrt())
UNARY(sin, x.sin())
UNARY(cos, x.cos())
UNARY(sign, x.sign())
UNARY(floor, x.floor())
UNARY(ceil, x.ceil())
UNARY(round, x.round())
UNARY(reciprocal, x.reciprocal())
UNARY(logical_not, x.logical_not())
UNARY(isnan, x.isnan())
UNARY(isfinite, x.isfinite())

// Binary ops take a tensor or a number as the second operand (`_s` variants take a number).
#define BINARY(NAME, EXPR_T, EXPR_S) \
  OP(NAME) {                         \
    auto& a = T(info, 0);            \
    auto& b = T(info, 1);            \
    return W(env, EXPR_T);           \
  }                                  \
  OP(NAME##_s) {                     \
    auto& a = T(info, 0);            \
    c10::Scalar s = SC(info, 1);     \
    return W(env, EXPR_S);           \
  }

BINARY(add, a.add(b), a.add(s))
BINARY(sub, a.sub(b), a.sub(s))
BINARY(mul, a.mul(b), a.mul(s))
BINARY(div, a.div(b), a.div(s))
BINARY(pow, a.pow(b), a.pow(s))
BINARY(maximum, torch::maximum(a, b), torch::clamp_min(a, s))
BINARY(minimum, torch::minimum(a, b), torch::clamp_max(a, s))
BINARY(eq, a.eq(b), a.eq(s))
BINARY(ne, a.ne(b), a.ne(s))
BINARY(lt, a.lt(b), a.lt(s))
BINARY(le, a.le(b), a.le(s))
BINARY(gt, a.gt(b), a.gt(s))
BINARY(ge, a.ge(b), a.ge(s))
BINARY(remainder, a.remainder(b), a.remainder(s))
OP(rsub_s) { return W(env, torch::rsub(T(info, 0), SC(info, 1))); }  // s - a
OP(rdiv_s) { return W(env, T(info, 0).reciprocal().mul(D(info, 1))); }
OP(add_scaled) { return W(env, T(info, 0).add(T(info, 1), D(info, 2))); }  // a + alpha * b
OP(logical_and) { return W(env, T(info, 0).logical_and(T(info, 1))); }
OP(logical_or) { return W(env, T(info, 0).logical_or(T(info, 1))); }
OP(where) { return W(env, torch::where(T(info, 0), T(info, 1), T(info, 2))); }
OP(where_s) { return W(env, torch::where(T(info, 0), T(info, 1), torch::scalar_tensor(SC(info, 2), T(info, 1).options()))); }
OP(clamp) {
  c10::optional<c10::Scalar> lo, hi;
  if (!absent(info, 1)) lo = D(info, 1);
  if (!absent(info, 2)) hi = D(info, 2);
  return W(env, torch::clamp(T(info, 0), lo, hi));
}
OP(allclose) { return Napi::Boolean::New(env, torch::allclose(T(info, 0), T(info, 1), D(info, 2), D(info, 3))); }
OP(equal) { return Napi::Boolean::New(env, torch::equal(T(info, 0), T(info, 1))); }

// in-place updates (used under no-grad by optimisers and initialisers)
OP(add_) {
  torch::NoGradGuard g;
  T(info, 0).add_(T(info, 1), absent(info, 2) ? 1.0 : D(info, 2));
  return info[0];
}
OP(mul_s_) {
  torch::NoGradGuard g;
  T(info, 0).mul_(D(info, 1));
  return info[0];
}
OP(clamp_) {
  torch::NoGradGuard g;
  c10::optional<c10::Scalar> lo, hi;
  if (!absent(info, 1)) lo = D(info, 1);
  if (!absent(info, 2)) hi = D(info, 2);
  T(info, 0).clamp_(lo, hi);
  return info[0];
}

// ---- reductions: dims = [] means all dimensions ----
static c10::optional<torch::ScalarType> odt(const Napi::CallbackInfo& info, size_t i) {
  if (absent(info, i)) return c10::nullopt;
  return DT(info, i);
}
OP(sum) {
  auto dims = IL(info, 1);
  auto& x = T(info, 0);
  if (dims.empty()) return W(env, B(info, 2) ? x.sum(odt(info, 3)).reshape(std::vector<int64_t>(x.dim(), 1)) : x.sum(odt(info, 3)));
  return W(env, x.sum(dims, B(info, 2), odt(info, 3)));
}
OP(mean) {
  auto dims = IL(info, 1);
  auto& x = T(info, 0);
  if (dims.empty()) return W(env, B(info, 2) ? x.mean().reshape(std::vector<int64_t>(x.dim(), 1)) : x.mean());
  return W(env, x.mean(dims, B(info, 2)));
}
OP(max_all) { return W(env, T(info, 0).max()); }
OP(min_all) { return W(env, T(info, 0).min()); }
OP(max_dim) {
  auto r = T(info, 0).max(I(info, 1), B(info, 2));
  return WL(env, {std::get<0>(r), std::get<1>(r)});
}
OP(min_dim) {
  auto r = T(info, 0).min(I(info, 1), B(info, 2));
  return WL(env, {std::get<0>(r), std::get<1>(r)});
}
OP(argmax) {
  if (absent(info, 1)) return W(env, T(info, 0).argmax());
  return W(env, T(info, 0).argmax(I(info, 1), B(info, 2)));
}
OP(argmin) {
  if (absent(info, 1)) return W(env, T(info, 0).argmin());
  return W(env, T(info, 0).argmin(I(info, 1), B(info, 2)));
}
OP(logsumexp) { return W(env, T(info, 0).logsumexp(IL(info, 1), B(info, 2))); }
// var/std(x, dims, correction(0|1), keepdim)
OP(var) {
  auto dims = IL(info, 1);
  auto& x = T(info, 0);
  if (dims.empty()) for (int64_t d = 0; d < x.dim(); d++) dims.push_back(d);
  return W(env, x.var(dims, I(info, 2) != 0, B(info, 3)));
}
OP(std) {
  auto dims = IL(info, 1);
  auto& x = T(info, 0);
  if (dims.empty()) for (int64_t d = 0; d < x.dim(); d++) dims.push_back(d);
  return W(env, x.std(dims, I(info, 2) != 0, B(info, 3)));
}
OP(norm) {
  auto dims = IL(info, 2);
  auto& x = T(info, 0);
  if (dims.empty()) return W(env, x.norm(D(info, 1)));
  return W(env, x.norm(D(info, 1), dims, B(info, 3)));
}
OP(all) { return W(env, T(info, 0).all()); }
OP(any) { return W(env, T(info, 0).any()); }
OP(cumsum) { return W(env, T(info, 0).cumsum(I(info, 1))); }
OP(topk) {
  auto r = T(info, 0).topk(I(info, 1), I(info, 2), B(info, 3), true);
  return WL(env, {std::get<0>(r), std::get<1>(r)});
}
OP(sort) {
  auto r = T(info, 0).sort(I(info, 1), B(info, 2));
  return WL(env, {std::get<0>(r), std::get<1>(r)});
}

// ---- shape ----
OP(reshape) { return W(env, T(info, 0).reshape(IL(info, 1))); }
OP(view) { return W(env, T(info, 0).view(IL(info, 1))); }
OP(permute) { return W(env, T(info, 0).permute(IL(info, 1))); }
OP(transpose) { return W(env, T(info, 0).transpose(I(info, 1), I(info, 2))); }
OP(expand) { return W(env, T(info, 0).expand(IL(info, 1))); }
OP(repeat) { return W(env, T(info, 0).repeat(IL(info, 1))); }
OP(squeeze) {
  if (absent(info, 1)) return W(env, T(info, 0).squeeze());
  return W(env, T(info, 0).squeeze(I(info, 1)));
}
OP(unsqueeze) { return W(env, T(info, 0).unsqueeze(I(info, 1))); }
OP(flatten) { return W(env, T(info, 0).flatten(I(info, 1), I(info, 2))); }
OP(narrow) { return W(env, T(info, 0).narrow(I(info, 1), I(info, 2), I(info, 3))); }
OP(slice) { return W(env, T(info, 0).slice(I(info, 1), I(info, 2), I(info, 3), I(info, 4))); }
OP(select) { return W(env, T(info, 0).select(I(info, 1), I(info, 2))); }
OP(flip) { return W(env, T(info, 0).flip(IL(info, 1))); }
OP(tril) { return W(env, T(info, 0).tril(I(info, 1))); }
OP(triu) { return W(env, T(info, 0).triu(I(info, 1))); }
OP(cat) { return W(env, torch::cat(TL(info, 0), I(info, 1))); }
OP(stack) { return W(env, torch::stack(TL(info, 0), I(info, 1))); }
OP(split) {
  if (info[1].IsArray()) return WL(env, T(info, 0).split_with_sizes(IL(info, 1), I(info, 2)));
  return WL(env, T(info, 0).split(I(info, 1), I(info, 2)));
}
OP(chunk) { return WL(env, T(info, 0).chunk(I(info, 1), I(info, 2))); }
OP(unbind) { return WL(env, T(info, 0).unbind(I(info, 1))); }

// ---- indexing ----
OP(index_select) { return W(env, T(info, 0).index_select(I(info, 1), T(info, 2))); }
OP(gather) { return W(env, T(info, 0).gather(I(info, 1), T(info, 2))); }
OP(scatter) { return W(env, T(info, 0).scatter(I(info, 1), T(info, 2), T(info, 3))); }
OP(scatter_add) { return W(env, T(info, 0).scatter_add(I(info, 1), T(info, 2), T(info, 3))); }
OP(masked_fill) { return W(env, T(info, 0).masked_fill(T(info, 1), SC(info, 2))); }
OP(masked_select) { return W(env, T(info, 0).masked_select(T(info, 1))); }
OP(nonzero) { return W(env, T(info, 0).nonzero()); }
// index(x, [idx|null, ...]): advanced indexing as x[idx0, idx1, ...] with null for ':'.
OP(index) { return W(env, at::index(T(info, 0), IDX(info, 1))); }
OP(index_put) { return W(env, at::index_put(T(info, 0), IDX(info, 1), T(info, 2), B(info, 3))); }
OP(one_hot) { return W(env, torch::one_hot(T(info, 0), I(info, 1))); }

// ---- linear algebra ----
OP(matmul) { return W(env, T(info, 0).matmul(T(info, 1))); }
OP(mm) { return W(env, T(info, 0).mm(T(info, 1))); }
OP(bmm) { return W(env, T(info, 0).bmm(T(info, 1))); }
OP(linear) { return W(env, torch::linear(T(info, 0), T(info, 1), UT(info, 2))); }
OP(einsum) { return W(env, torch::einsum(S(info, 0), TL(info, 1))); }
OP(outer) { return W(env, torch::outer(T(info, 0), T(info, 1))); }
