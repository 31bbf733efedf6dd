// tandem_image.node: the image work that is too slow in JavaScript, apart from the engine addon (tandem.node):
// PNG and JPEG decoding (decode.cc) and the two passes of a separable resize (resample.cc).
#pragma once
#include <napi.h>

namespace tandem_image {
Napi::Value Decode(const Napi::CallbackInfo& info);
Napi::Object DecoderVersions(Napi::Env env);
Napi::Value ResampleRows(const Napi::CallbackInfo& info);
Napi::Value ResampleColumns(const Napi::CallbackInfo& info);
}  // namespace tandem_image
