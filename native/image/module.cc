// Module entry of tandem_image.node (see image.h).
#include "image.h"

namespace {
Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("decode", Napi::Function::New(env, tandem_image::Decode, "decode"));
  exports.Set("versions", tandem_image::DecoderVersions(env));
  exports.Set("resampleRows", Napi::Function::New(env, tandem_image::ResampleRows, "resampleRows"));
  exports.Set("resampleColumns", Napi::Function::New(env, tandem_image::ResampleColumns, "resampleColumns"));
  return exports;
}
}  // namespace

NODE_API_MODULE(tandem_image, Init)
