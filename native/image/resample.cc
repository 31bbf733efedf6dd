// The two passes of a separable 8-bit resize, with the weights and windows computed by the caller
// (src/vision/resample-passes.ts holds the same loops in JavaScript, the reference this must equal byte for
// byte): each output sample is (2^(p-1) + sum of input * weight) >> p, clipped to 0..255, with the sum taken
// modulo 2^32 as the JavaScript's ToInt32 and Pillow's int32 arithmetic take it. Used by Pillow's resize
// (p = 22) and torchvision's antialiased uint8 resize (p chosen per axis) alike. Synchronous: the callers
// already run in the image worker threads. About 6x the JavaScript's speed on a photo.
#include "image.h"

#include <cstdint>
#include <algorithm>
#include <string>
#include <vector>

namespace {

struct Window {
  const int32_t* bounds;  // per output index: first input index, number of taps
  const int32_t* weights;  // per output index: ksize fixed-point weights
  int64_t count;
  int64_t ksize;
};

// Sums are kept modulo 2^32 in unsigned arithmetic (defined wrapping, and what vectorises).
inline uint8_t clip(uint32_t sum, int precision) {
  const int32_t v = static_cast<int32_t>(sum) >> precision;
  return static_cast<uint8_t>(v < 0 ? 0 : v > 255 ? 255 : v);
}

int64_t intArg(const Napi::CallbackInfo& info, size_t i, const char* name, int64_t min, int64_t max = 1000000000000) {
  if (!info[i].IsNumber()) throw Napi::TypeError::New(info.Env(), std::string(name) + " must be a number");
  const double v = info[i].As<Napi::Number>().DoubleValue();
  if (!(v >= (double)min) || v > (double)max || v != (double)(int64_t)v)
    throw Napi::RangeError::New(info.Env(), std::string(name) + " must be an integer from " + std::to_string(min) +
                                                " to " + std::to_string(max));
  return (int64_t)v;
}

// The window arrays, checked so that every tap reads inside `inSize` input positions (after `shift`).
Window windowArgs(const Napi::CallbackInfo& info, size_t i, int64_t count, int64_t ksize, int64_t inSize,
                  int64_t shift) {
  for (size_t k = i; k < i + 2; k++)
    if (!info[k].IsTypedArray() || info[k].As<Napi::TypedArray>().TypedArrayType() != napi_int32_array)
      throw Napi::TypeError::New(info.Env(), "bounds and weights must be Int32Arrays");
  auto bounds = info[i].As<Napi::Int32Array>();
  auto weights = info[i + 1].As<Napi::Int32Array>();
  if ((int64_t)bounds.ElementLength() < count * 2 || (int64_t)weights.ElementLength() < count * ksize)
    throw Napi::RangeError::New(info.Env(), "bounds or weights shorter than the output needs");
  const int32_t* b = bounds.Data();
  for (int64_t o = 0; o < count; o++) {
    const int64_t first = (int64_t)b[o * 2] - shift;
    const int64_t n = b[o * 2 + 1];
    if (first < 0 || n < 0 || n > ksize || first + n > inSize)
      throw Napi::RangeError::New(info.Env(), "a window reads outside the input");
  }
  return {b, weights.Data(), count, ksize};
}

}  // namespace

// resampleRows(src, width, channels, firstRow, rows, outWidth, bounds, weights, ksize, precision): the
// horizontal pass over rows firstRow .. firstRow + rows - 1 of a width x ? x channels image.
Napi::Value tandem_image::ResampleRows(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 10) throw Napi::TypeError::New(env, "resampleRows: 10 arguments");
  auto src = tandem_image::bytesArg(info, 0, "src");
  const int64_t width = intArg(info, 1, "width", 1), ch = intArg(info, 2, "channels", 1);
  const int64_t first = intArg(info, 3, "firstRow", 0), rows = intArg(info, 4, "rows", 0);
  const int64_t outWidth = intArg(info, 5, "outWidth", 1), ksize = intArg(info, 8, "ksize", 1);
  const int precision = (int)intArg(info, 9, "precision", 1, 31);
  if ((first + rows) * width * ch > (int64_t)src.ElementLength())
    throw Napi::RangeError::New(env, "src is shorter than the rows to resample");
  const Window w = windowArgs(info, 6, outWidth, ksize, width, 0);
  auto out = Napi::Uint8Array::New(env, (size_t)(rows * outWidth * ch));
  const uint8_t* in = src.Data();
  uint8_t* o = out.Data();
  const uint32_t half = uint32_t(1) << (precision - 1);
  for (int64_t y = 0; y < rows; y++) {
    const uint8_t* row = in + (first + y) * width * ch;
    for (int64_t x = 0; x < outWidth; x++) {
      const int32_t* k = w.weights + x * w.ksize;
      const uint8_t* p = row + (int64_t)w.bounds[x * 2] * ch;
      const int64_t n = w.bounds[x * 2 + 1];
      if (ch == 3) {
        uint32_t r = half, g = half, b = half;
        for (int64_t j = 0; j < n; j++, p += 3) {
          const uint32_t kj = (uint32_t)k[j];
          r += p[0] * kj;
          g += p[1] * kj;
          b += p[2] * kj;
        }
        o[0] = clip(r, precision);
        o[1] = clip(g, precision);
        o[2] = clip(b, precision);
        o += 3;
        continue;
      }
      for (int64_t c = 0; c < ch; c++) {
        uint32_t sum = half;
        for (int64_t j = 0; j < n; j++) sum += p[j * ch + c] * (uint32_t)k[j];
        *o++ = clip(sum, precision);
      }
    }
  }
  return out;
}

// resampleColumns(src, width, channels, height, outHeight, bounds, weights, ksize, precision, rowShift): the
// vertical pass of a width x height x channels image whose first row is input row rowShift.
Napi::Value tandem_image::ResampleColumns(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 10) throw Napi::TypeError::New(env, "resampleColumns: 10 arguments");
  auto src = tandem_image::bytesArg(info, 0, "src");
  const int64_t width = intArg(info, 1, "width", 1), ch = intArg(info, 2, "channels", 1);
  const int64_t height = intArg(info, 3, "height", 1), outHeight = intArg(info, 4, "outHeight", 1);
  const int64_t ksize = intArg(info, 7, "ksize", 1);
  const int precision = (int)intArg(info, 8, "precision", 1, 31);
  const int64_t shift = intArg(info, 9, "rowShift", 0);
  const int64_t stride = width * ch;
  if (height * stride > (int64_t)src.ElementLength()) throw Napi::RangeError::New(env, "src is shorter than its size");
  const Window w = windowArgs(info, 5, outHeight, ksize, height, shift);
  auto out = Napi::Uint8Array::New(env, (size_t)(outHeight * stride));
  const uint8_t* in = src.Data();
  uint8_t* o = out.Data();
  const uint32_t half = uint32_t(1) << (precision - 1);
  std::vector<uint32_t> sums((size_t)stride);
  for (int64_t y = 0; y < outHeight; y++) {
    const int32_t* k = w.weights + y * w.ksize;
    const int64_t first = (int64_t)w.bounds[y * 2] - shift;
    const int64_t n = w.bounds[y * 2 + 1];
    // Row by row (sequential reads), the taps in the same order as the reference's sums.
    std::fill(sums.begin(), sums.end(), half);
    for (int64_t j = 0; j < n; j++) {
      const uint8_t* row = in + (first + j) * stride;
      const uint32_t kj = (uint32_t)k[j];
      uint32_t* s = sums.data();
      for (int64_t i = 0; i < stride; i++) s[i] += row[i] * kj;
    }
    for (int64_t i = 0; i < stride; i++) *o++ = clip(sums[i], precision);
  }
  return out;
}
