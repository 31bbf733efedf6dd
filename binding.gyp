{
  "targets": [
    {
      "target_name": "tandem",
      "sources": ["native/addon.cc", "native/ops.cc", "native/nn_ops.cc", "native/distributed.cc", "native/autocast.cc"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")", "<!@(node scripts/torch-config.mjs include)"],
      "defines": ["NAPI_VERSION=8", "NODE_ADDON_API_DISABLE_DEPRECATED", "<!@(node scripts/torch-config.mjs defines)"],
      "cflags!": ["-fno-exceptions", "-fno-rtti"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti", "-std=gnu++17", "-std=gnu++20"],
      "cflags_cc": ["-std=c++17", "-fexceptions", "-frtti", "-O2", "-Wno-unused-parameter", "-Wno-deprecated-declarations"],
      "libraries": ["<!@(node scripts/torch-config.mjs libs)"]
    },
    {
      "target_name": "tandem_image",
      "sources": ["native/image/module.cc", "native/image/decode.cc", "native/image/resample.cc"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NODE_ADDON_API_DISABLE_DEPRECATED"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++17", "-std=gnu++20"],
      "cflags_cc": ["-std=c++17", "-fexceptions", "-O3", "-Wno-unused-parameter"],
      "libraries": ["-ljpeg", "-lpng16"]
    }
  ]
}
