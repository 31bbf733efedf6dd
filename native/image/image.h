// tandem_image.node: the image work that is too slow in JavaScript, apart from the engine addon (tandem.node):
// PNG and JPEG decoding (decode.cc) and the two passes of a separable resize (resample.cc).
#pragma once
#include <napi.h>

#include <string>

namespace tandem_image {
// Argument i as a Uint8Array (a Buffer is one), else a TypeError naming it.
inline Napi::Uint8Array bytesArg(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (info.Length() <= i || !info[i].IsTypedArray() ||
      info[i].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array)
    throw Napi::TypeError::New(info.Env(), std::string(name) + " must be a Uint8Array");
  return info[i].As<Napi::Uint8Array>();
}

Napi::Value Decode(const Napi::CallbackInfo& info);
Napi::Object DecoderVersions(Napi::Env env);
Napi::Value ResampleRows(const Napi::CallbackInfo& info);
Napi::Value ResampleColumns(const Napi::CallbackInfo& info);
}  // namespace tandem_image
