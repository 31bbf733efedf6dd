// PNG and JPEG decoding in the process (tandem_image.node), through the system's libpng and libjpeg-turbo, for
// the images src/vision/decode.ts hands it (8-bit and smaller PNGs, grey and colour JPEGs). Apart from the
// engine addon (tandem.node), which stays free of image libraries. Why: a libvips pipeline (sharp) costs about
// 0.6 ms of CPU to set up whatever the image's size, more than decoding a small image (tens of microseconds
// here), and it was the largest per-post cost left in `tandem serve` (docs/design.md, bench:serve).
//
// The pixels are what Pillow's `Image.open(f).convert('RGB')` gives, the contract of decode.ts:
// - JPEG: libjpeg-turbo with its defaults, as Pillow (accurate integer IDCT, fancy upsampling); grey replicated
//   to RGB; Adobe and JFIF colour transforms as the file says.
// - PNG: palette expanded (transparency ignored), grey of 1, 2 or 4 bits scaled to 8, grey replicated, alpha
//   dropped (not composited), gamma and colour chunks ignored, interlaced images de-interlaced.
// Anything else (16-bit PNGs, 4-component JPEGs), any error and any warning (truncated or corrupt data, which
// libjpeg and libpng would otherwise patch over) returns an error: the caller then decodes through sharp,
// which either decodes the image or names what is wrong with it. Decoding runs on libuv's thread pool.
#include "image.h"

#include <csetjmp>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include <jpeglib.h>
#include <png.h>

namespace {

struct Decoded {
  uint32_t width = 0;
  uint32_t height = 0;
  std::vector<uint8_t> rgb;
  std::string error;
};

// ---- JPEG ----
struct JpegErrors {
  jpeg_error_mgr pub;
  jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
};

void jpegErrorExit(j_common_ptr c) {
  auto* e = reinterpret_cast<JpegErrors*>(c->err);
  (*c->err->format_message)(c, e->message);
  longjmp(e->jump, 1);
}

// Warnings (level -1: corrupt or missing data that libjpeg fills in) are counted, not printed; any makes the
// decode fail afterwards. Trace messages (level >= 0) are ignored.
void jpegMessage(j_common_ptr c, int level) {
  if (level < 0) {
    auto* e = reinterpret_cast<JpegErrors*>(c->err);
    if (c->err->num_warnings++ == 0) (*c->err->format_message)(c, e->message);
  }
}

// No C++ object with a destructor lives in this function's frame after setjmp (longjmp would skip it).
bool decodeJpeg(const uint8_t* data, size_t size, double maxPixels, Decoded& out) {
  jpeg_decompress_struct cinfo;
  JpegErrors err;
  err.message[0] = 0;
  cinfo.err = jpeg_std_error(&err.pub);
  err.pub.error_exit = jpegErrorExit;
  err.pub.emit_message = jpegMessage;
  if (setjmp(err.jump)) {
    jpeg_destroy_decompress(&cinfo);
    out.error = std::string("jpeg: ") + err.message;
    return false;
  }
  jpeg_create_decompress(&cinfo);
  jpeg_mem_src(&cinfo, data, (unsigned long)size);
  jpeg_read_header(&cinfo, TRUE);
  if (cinfo.num_components != 1 && cinfo.num_components != 3) {
    std::snprintf(err.message, sizeof err.message, "%d components (only grey and colour are decoded here)",
                  cinfo.num_components);
    longjmp(err.jump, 1);
  }
  if ((double)cinfo.image_width * (double)cinfo.image_height > maxPixels) {
    std::snprintf(err.message, sizeof err.message, "%ux%u is over the pixel limit", cinfo.image_width,
                  cinfo.image_height);
    longjmp(err.jump, 1);
  }
  cinfo.out_color_space = JCS_RGB;
  cinfo.dct_method = JDCT_ISLOW;
  cinfo.do_fancy_upsampling = TRUE;
  jpeg_start_decompress(&cinfo);
  out.width = cinfo.output_width;
  out.height = cinfo.output_height;
  if (cinfo.output_components != 3) {
    std::snprintf(err.message, sizeof err.message, "decoder gave %d channels", cinfo.output_components);
    longjmp(err.jump, 1);
  }
  out.rgb.resize((size_t)out.width * out.height * 3);
  while (cinfo.output_scanline < cinfo.output_height) {
    JSAMPROW row = out.rgb.data() + (size_t)cinfo.output_scanline * out.width * 3;
    jpeg_read_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_decompress(&cinfo);
  const long warnings = err.pub.num_warnings;
  jpeg_destroy_decompress(&cinfo);
  if (warnings > 0) {
    out.error = std::string("jpeg: ") + err.message;
    return false;
  }
  return true;
}

// ---- PNG ----
struct PngSource {
  const uint8_t* data;
  size_t size;
  size_t pos;
  std::string message;
  bool warned;
};

void pngRead(png_structp p, png_bytep dest, size_t n) {
  auto* s = static_cast<PngSource*>(png_get_io_ptr(p));
  if (n > s->size - s->pos) png_error(p, "unexpected end of data");
  std::memcpy(dest, s->data + s->pos, n);
  s->pos += n;
}

void pngError(png_structp p, png_const_charp message) {
  auto* s = static_cast<PngSource*>(png_get_error_ptr(p));
  s->message = message;
  png_longjmp(p, 1);
}

void pngWarning(png_structp p, png_const_charp message) {
  auto* s = static_cast<PngSource*>(png_get_error_ptr(p));
  if (!s->warned) s->message = message;
  s->warned = true;
}

bool decodePng(const uint8_t* data, size_t size, double maxPixels, Decoded& out) {
  PngSource src{data, size, 0, std::string(), false};
  png_structp p = png_create_read_struct(PNG_LIBPNG_VER_STRING, &src, pngError, pngWarning);
  if (!p) {
    out.error = "png: out of memory";
    return false;
  }
  png_infop info = png_create_info_struct(p);
  std::vector<uint8_t> pixels;  // before setjmp: its destructor runs whichever way this returns
  std::vector<png_bytep> rows;
  if (!info || setjmp(png_jmpbuf(p))) {
    png_destroy_read_struct(&p, info ? &info : nullptr, nullptr);
    out.error = "png: " + (src.message.empty() ? std::string("cannot decode") : src.message);
    return false;
  }
  png_set_read_fn(p, &src, pngRead);
  // The whole image is checked by libpng's own limits too; the caller's pixel limit comes first.
  png_set_user_limits(p, 0x7fffffff, 0x7fffffff);
  png_read_info(p, info);
  png_uint_32 width = 0, height = 0;
  int depth = 0, colour = 0, interlace = 0;
  png_get_IHDR(p, info, &width, &height, &depth, &colour, &interlace, nullptr, nullptr);
  if (depth > 8) png_error(p, "16-bit samples (decoded elsewhere)");
  if ((double)width * (double)height > maxPixels) png_error(p, "over the pixel limit");
  if (colour == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(p);
  if (colour == PNG_COLOR_TYPE_GRAY && depth < 8) png_set_expand_gray_1_2_4_to_8(p);
  if (colour == PNG_COLOR_TYPE_GRAY || colour == PNG_COLOR_TYPE_GRAY_ALPHA) png_set_gray_to_rgb(p);
  png_set_interlace_handling(p);
  png_read_update_info(p, info);
  // 3 channels, or 4 where there is alpha (a palette's transparency may come through as alpha): dropped below.
  const int channels = png_get_channels(p, info);
  const size_t rowBytes = png_get_rowbytes(p, info);
  if ((channels != 3 && channels != 4) || png_get_bit_depth(p, info) != 8 || rowBytes != (size_t)width * channels)
    png_error(p, "unexpected layout after the transforms");
  pixels.resize(rowBytes * height);
  rows.resize(height);
  for (png_uint_32 y = 0; y < height; y++) rows[y] = pixels.data() + y * rowBytes;
  png_read_image(p, rows.data());
  png_read_end(p, nullptr);
  png_destroy_read_struct(&p, &info, nullptr);
  if (src.warned) {
    out.error = "png: " + src.message;
    return false;
  }
  out.width = width;
  out.height = height;
  if (channels == 3) {
    out.rgb = std::move(pixels);
  } else {
    out.rgb.resize((size_t)width * height * 3);
    for (size_t i = 0, n = (size_t)width * height; i < n; i++) std::memcpy(&out.rgb[i * 3], &pixels[i * 4], 3);
  }
  return true;
}

bool isPng(const uint8_t* d, size_t n) { return n >= 8 && std::memcmp(d, "\x89PNG\r\n\x1a\n", 8) == 0; }
bool isJpeg(const uint8_t* d, size_t n) { return n >= 3 && d[0] == 0xff && d[1] == 0xd8 && d[2] == 0xff; }

class DecodeWorker : public Napi::AsyncWorker {
 public:
  DecodeWorker(Napi::Env env, Napi::Uint8Array bytes, double maxPixels)
      : Napi::AsyncWorker(env),
        deferred_(Napi::Promise::Deferred::New(env)),
        data_(bytes.Data()),
        size_(bytes.ByteLength()),
        maxPixels_(maxPixels) {
    // The bytes stay alive (and in place) while a pool thread reads them.
    keep_ = Napi::Persistent(static_cast<Napi::Object>(bytes));
  }
  Napi::Promise promise() { return deferred_.Promise(); }

  void Execute() override {
    bool ok = isPng(data_, size_)    ? decodePng(data_, size_, maxPixels_, out_)
              : isJpeg(data_, size_) ? decodeJpeg(data_, size_, maxPixels_, out_)
                                     : (out_.error = "neither PNG nor JPEG", false);
    if (!ok) SetError(out_.error);
  }
  void OnOK() override {
    Napi::Env env = Env();
    auto* pixels = new std::vector<uint8_t>(std::move(out_.rgb));
    auto buffer = Napi::Buffer<uint8_t>::New(env, pixels->data(), pixels->size(),
                                             [](Napi::Env, uint8_t*, std::vector<uint8_t>* v) { delete v; }, pixels);
    Napi::Object result = Napi::Object::New(env);
    result.Set("width", Napi::Number::New(env, out_.width));
    result.Set("height", Napi::Number::New(env, out_.height));
    result.Set("data", buffer);
    deferred_.Resolve(result);
  }
  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  Napi::ObjectReference keep_;
  const uint8_t* data_;
  size_t size_;
  double maxPixels_;
  Decoded out_;
};

}  // namespace

// decode(bytes: Uint8Array, maxPixels: number): Promise<{ width, height, data: Buffer }> (HWC RGB, 8-bit).
Napi::Value tandem_image::Decode(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto bytes = bytesArg(info, 0, "decode: bytes");
  if (info.Length() < 2 || !info[1].IsNumber()) throw Napi::TypeError::New(env, "decode: maxPixels must be a number");
  auto* worker = new DecodeWorker(env, bytes, info[1].As<Napi::Number>().DoubleValue());
  Napi::Promise promise = worker->promise();
  worker->Queue();
  return promise;
}

Napi::Object tandem_image::DecoderVersions(Napi::Env env) {
  Napi::Object versions = Napi::Object::New(env);
  versions.Set("libjpeg", Napi::Number::New(env, JPEG_LIB_VERSION));
  versions.Set("libpng", Napi::String::New(env, png_get_libpng_ver(nullptr)));
  return versions;
}
