// Shared helpers of the addon: tensor handles, argument conversion and error translation.
// A tensor crosses into JavaScript as a Napi::External<Holder>; the JS Tensor class owns it. dispose() resets
// the held tensor at once (deterministic release); the External's finaliser frees what escaped disposal.
#pragma once
#define NAPI_CPP_EXCEPTIONS 1
#include <napi.h>
#include <torch/torch.h>
#include <torch/version.h>
#include <c10/util/Optional.h>

#include <sstream>
#include <string>
#include <vector>

#if TORCH_VERSION_MAJOR >= 2
#define TANDEM_TORCH2 1
#else
#define TANDEM_TORCH2 0
#endif

namespace tandem {

struct Holder {
  torch::Tensor t;
};

// dtype codes shared with src/tensor/dtype.ts (DTYPE_CODE).
inline torch::ScalarType dtype_of(int code) {
  switch (code) {
    case 0: return torch::kFloat32;
    case 1: return torch::kFloat64;
    case 2: return torch::kFloat16;
    case 3: return torch::kBFloat16;
    case 4: return torch::kInt64;
    case 5: return torch::kInt32;
    case 6: return torch::kUInt8;
    case 7: return torch::kBool;
  }
  throw std::invalid_argument("unknown dtype code " + std::to_string(code));
}

inline int code_of(torch::ScalarType s) {
  switch (s) {
    case torch::kFloat32: return 0;
    case torch::kFloat64: return 1;
    case torch::kFloat16: return 2;
    case torch::kBFloat16: return 3;
    case torch::kInt64: return 4;
    case torch::kInt32: return 5;
    case torch::kUInt8: return 6;
    case torch::kBool: return 7;
    default: return -1;
  }
}

inline const char* dtype_name(torch::ScalarType s) {
  static const char* names[] = {"float32", "float64", "float16", "bfloat16", "int64", "int32", "uint8", "bool"};
  int c = code_of(s);
  return c < 0 ? c10::toString(s) : names[c];
}

struct ArgError : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};

inline Holder* holder(const Napi::CallbackInfo& info, size_t i) {
  if (i >= info.Length() || !info[i].IsExternal()) throw ArgError("argument " + std::to_string(i) + " must be a tensor");
  return info[i].As<Napi::External<Holder>>().Data();
}

inline torch::Tensor& T(const Napi::CallbackInfo& info, size_t i) {
  Holder* h = holder(info, i);
  if (!h->t.defined()) throw ArgError("argument " + std::to_string(i) + " is a disposed tensor");
  return h->t;
}

inline bool absent(const Napi::CallbackInfo& info, size_t i) {
  return i >= info.Length() || info[i].IsUndefined() || info[i].IsNull();
}

inline c10::optional<torch::Tensor> OT(const Napi::CallbackInfo& info, size_t i) {
  if (absent(info, i)) return c10::nullopt;
  return T(info, i);
}

inline torch::Tensor UT(const Napi::CallbackInfo& info, size_t i) {  // undefined tensor when absent
  if (absent(info, i)) return torch::Tensor();
  return T(info, i);
}

inline double D(const Napi::CallbackInfo& info, size_t i) {
  if (i >= info.Length() || !info[i].IsNumber()) throw ArgError("argument " + std::to_string(i) + " must be a number");
  return info[i].As<Napi::Number>().DoubleValue();
}

// A number as a Scalar that follows Python's promotion: an integer-valued number stays integral, so that
// int64 + 1 is int64 as in PyTorch (a double Scalar would promote the result to float).
inline c10::Scalar SC(const Napi::CallbackInfo& info, size_t i) {
  double v = D(info, i);
  if (std::isfinite(v) && v == std::floor(v) && std::fabs(v) < 9007199254740992.0) return c10::Scalar((int64_t)v);
  return c10::Scalar(v);
}

inline int64_t I(const Napi::CallbackInfo& info, size_t i) {
  if (i >= info.Length() || !info[i].IsNumber()) throw ArgError("argument " + std::to_string(i) + " must be an integer");
  return info[i].As<Napi::Number>().Int64Value();
}

inline bool B(const Napi::CallbackInfo& info, size_t i) {
  if (absent(info, i)) return false;
  return info[i].ToBoolean().Value();
}

inline std::string S(const Napi::CallbackInfo& info, size_t i) {
  if (i >= info.Length() || !info[i].IsString()) throw ArgError("argument " + std::to_string(i) + " must be a string");
  return info[i].As<Napi::String>().Utf8Value();
}

inline std::vector<int64_t> IL(const Napi::CallbackInfo& info, size_t i) {
  if (i >= info.Length() || !info[i].IsArray()) throw ArgError("argument " + std::to_string(i) + " must be an array of integers");
  Napi::Array a = info[i].As<Napi::Array>();
  std::vector<int64_t> v(a.Length());
  for (uint32_t k = 0; k < a.Length(); k++) {
    Napi::Value e = a.Get(k);
    if (!e.IsNumber()) throw ArgError("argument " + std::to_string(i) + " element " + std::to_string(k) + " must be an integer");
    v[k] = e.As<Napi::Number>().Int64Value();
  }
  return v;
}

inline std::vector<double> DL(const Napi::CallbackInfo& info, size_t i) {
  if (i >= info.Length() || !info[i].IsArray()) throw ArgError("argument " + std::to_string(i) + " must be an array of numbers");
  Napi::Array a = info[i].As<Napi::Array>();
  std::vector<double> v(a.Length());
  for (uint32_t k = 0; k < a.Length(); k++) {
    Napi::Value e = a.Get(k);
    if (!e.IsNumber()) throw ArgError("argument " + std::to_string(i) + " element " + std::to_string(k) + " must be a number");
    v[k] = e.As<Napi::Number>().DoubleValue();
  }
  return v;
}

inline std::vector<torch::Tensor> TL(const Napi::CallbackInfo& info, size_t i) {
  if (i >= info.Length() || !info[i].IsArray()) throw ArgError("argument " + std::to_string(i) + " must be an array of tensors");
  Napi::Array a = info[i].As<Napi::Array>();
  std::vector<torch::Tensor> v;
  v.reserve(a.Length());
  for (uint32_t k = 0; k < a.Length(); k++) {
    Napi::Value e = a.Get(k);
    if (!e.IsExternal()) throw ArgError("argument " + std::to_string(i) + " element " + std::to_string(k) + " must be a tensor");
    Holder* h = e.As<Napi::External<Holder>>().Data();
    if (!h->t.defined()) throw ArgError("argument " + std::to_string(i) + " element " + std::to_string(k) + " is a disposed tensor");
    v.push_back(h->t);
  }
  return v;
}

// An advanced-indexing list: each element a tensor, or null/undefined for a whole dimension (Python's ':').
inline c10::List<c10::optional<torch::Tensor>> IDX(const Napi::CallbackInfo& info, size_t i) {
  if (i >= info.Length() || !info[i].IsArray()) throw ArgError("argument " + std::to_string(i) + " must be an array of tensors or nulls");
  Napi::Array a = info[i].As<Napi::Array>();
  c10::List<c10::optional<torch::Tensor>> idx;
  for (uint32_t k = 0; k < a.Length(); k++) {
    Napi::Value e = a.Get(k);
    if (e.IsNull() || e.IsUndefined()) {
      idx.push_back(c10::optional<torch::Tensor>());
      continue;
    }
    std::string at = "argument " + std::to_string(i) + " element " + std::to_string(k);
    if (!e.IsExternal()) throw ArgError(at + " must be a tensor or null");
    Holder* h = e.As<Napi::External<Holder>>().Data();
    if (!h->t.defined()) throw ArgError(at + " is a disposed tensor");
    idx.push_back(c10::optional<torch::Tensor>(h->t));
  }
  return idx;
}

inline torch::ScalarType DT(const Napi::CallbackInfo& info, size_t i) { return dtype_of((int)I(info, i)); }

inline torch::Device DEV(const Napi::CallbackInfo& info, size_t i) {
  if (absent(info, i)) return torch::Device(torch::kCPU);
  std::string s = S(info, i);
  torch::Device d(s);
  if (d.is_cuda() && !torch::cuda::is_available())
    throw ArgError("device '" + s + "' requested but this libtorch has no CUDA or no GPU is visible (torch::cuda::is_available() is false)");
  return d;
}

inline Napi::Value W(Napi::Env env, torch::Tensor t) {
  return Napi::External<Holder>::New(env, new Holder{std::move(t)}, [](Napi::Env, Holder* h) { delete h; });
}

inline Napi::Value WL(Napi::Env env, const std::vector<torch::Tensor>& ts) {
  Napi::Array a = Napi::Array::New(env, ts.size());
  for (size_t k = 0; k < ts.size(); k++) a.Set((uint32_t)k, W(env, ts[k]));
  return a;
}

inline std::string shape_str(const torch::Tensor& t) {
  std::ostringstream o;
  o << "[";
  for (int64_t d = 0; d < t.dim(); d++) o << (d ? "," : "") << t.size(d);
  o << "]";
  return o.str();
}

// "op(float32[2,3] on cpu, int64[4], 1.5)" for error messages.
inline std::string describe_args(const Napi::CallbackInfo& info) {
  std::ostringstream o;
  for (size_t i = 0; i < info.Length(); i++) {
    if (i) o << ", ";
    Napi::Value v = info[i];
    if (v.IsExternal()) {
      Holder* h = v.As<Napi::External<Holder>>().Data();
      if (!h->t.defined()) o << "<disposed>";
      else o << dtype_name(h->t.scalar_type()) << shape_str(h->t) << (h->t.is_cuda() ? "@cuda" : "");
    } else if (v.IsNumber()) {
      o << v.As<Napi::Number>().DoubleValue();
    } else if (v.IsBoolean()) {
      o << (v.As<Napi::Boolean>().Value() ? "true" : "false");
    } else if (v.IsString()) {
      o << '\'' << v.As<Napi::String>().Utf8Value() << '\'';
    } else if (v.IsArray()) {
      Napi::Array a = v.As<Napi::Array>();
      o << "[";
      for (uint32_t k = 0; k < a.Length() && k < 8; k++) {
        Napi::Value e = a.Get(k);
        if (k) o << ",";
        if (e.IsNumber()) o << e.As<Napi::Number>().Int64Value();
        else if (e.IsExternal()) {
          Holder* h = e.As<Napi::External<Holder>>().Data();
          o << (h->t.defined() ? shape_str(h->t) : "<disposed>");
        } else o << "?";
      }
      if (a.Length() > 8) o << ",...";
      o << "]";
    } else if (v.IsUndefined() || v.IsNull()) {
      o << "none";
    } else {
      o << "?";
    }
  }
  return o.str();
}

// First line of a libtorch message, without the C++ backtrace.
inline std::string first_lines(const std::string& s) {
  std::string out = s;
  size_t p = out.find("\nException raised from");
  if (p != std::string::npos) out = out.substr(0, p);
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out;
}

[[noreturn]] inline void rethrow(const Napi::CallbackInfo& info, const char* name, const std::string& what, bool type_error) {
  std::string msg = std::string("tandem.") + name + "(" + describe_args(info) + "): " + first_lines(what);
  if (type_error) throw Napi::TypeError::New(info.Env(), msg);
  throw Napi::Error::New(info.Env(), msg);
}

using Fn = Napi::Value (*)(const Napi::CallbackInfo&);
struct OpEntry {
  const char* name;
  Fn fn;
};
std::vector<OpEntry>& registry();
struct Registrar {
  Registrar(const char* name, Fn fn) { registry().push_back({name, fn}); }
};

}  // namespace tandem

// OP(name) { body returning Napi::Value } defines and registers a function `name` with libtorch errors turned
// into JavaScript errors that name the op and its arguments.
#define OP(NAME)                                                                                      \
  static Napi::Value NAME##_impl(const Napi::CallbackInfo& info, Napi::Env env);                     \
  static Napi::Value NAME##_entry(const Napi::CallbackInfo& info) {                                  \
    try {                                                                                             \
      return NAME##_impl(info, info.Env());                                                          \
    } catch (const Napi::Error&) {                                                                   \
      throw;                                                                                          \
    } catch (const tandem::ArgError& e) {                                                            \
      tandem::rethrow(info, #NAME, e.what(), true);                                                  \
    } catch (const c10::Error& e) {                                                                  \
      tandem::rethrow(info, #NAME, e.what_without_backtrace(), false);                               \
    } catch (const std::exception& e) {                                                              \
      tandem::rethrow(info, #NAME, e.what(), false);                                                 \
    }                                                                                                 \
  }                                                                                                   \
  static tandem::Registrar NAME##_reg(#NAME, NAME##_entry);                                         \
  static Napi::Value NAME##_impl(const Napi::CallbackInfo& info, Napi::Env env)
