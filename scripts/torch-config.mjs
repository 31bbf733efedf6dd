#!/usr/bin/env node
// Tells binding.gyp where libtorch is. Default: Debian's libtorch-dev (headers in /usr/include, libraries in
// the multiarch dir). LIBTORCH=<dir> points at any other libtorch (for example the one inside a PyTorch
// wheel: python3 -c 'import torch,os;print(os.path.dirname(torch.__file__))'); LIBTORCH_INCLUDE and
// LIBTORCH_LIB override the two halves separately. A CUDA libtorch is detected by libtorch_cuda.so.
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const what = process.argv[2];
const root = process.env.LIBTORCH;
let include = process.env.LIBTORCH_INCLUDE ?? (root ? join(root, 'include') : '/usr/include');
let lib = process.env.LIBTORCH_LIB ?? (root ? join(root, 'lib') : null);
if (!lib) {
  const cands = ['/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib'];
  lib = cands.find((d) => existsSync(join(d, 'libtorch.so'))) ?? cands[0];
}
const api = join(include, 'torch', 'csrc', 'api', 'include');
if (!existsSync(join(api, 'torch', 'torch.h'))) {
  console.error(
    `tandem: libtorch headers not found under ${include} (expected torch/csrc/api/include/torch/torch.h).\n` +
      "Install Debian's libtorch-dev (see README) or set LIBTORCH=<libtorch dir>.",
  );
  process.exit(1);
}
const hasCuda = existsSync(join(lib, 'libtorch_cuda.so'));
switch (what) {
  case 'include':
    console.log([include, api].join(' '));
    break;
  case 'libs': {
    const libs = ['-L' + lib, '-Wl,-rpath,' + lib, '-Wl,--no-as-needed', '-ltorch', '-ltorch_cpu', '-lc10'];
    if (hasCuda) libs.push('-ltorch_cuda', '-lc10_cuda');
    libs.push('-Wl,--as-needed');
    console.log(libs.join(' '));
    break;
  }
  case 'defines':
    // NCCL's process group comes with CUDA builds of libtorch that ship its header.
    console.log(
      [
        hasCuda ? 'TANDEM_CUDA=1' : 'TANDEM_CUDA=0',
        hasCuda && existsSync(join(include, 'torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp'))
          ? 'TANDEM_NCCL=1 USE_C10D_NCCL=1'
          : 'TANDEM_NCCL=0',
      ].join(' '),
    );
    break;
  default:
    console.error('usage: torch-config.mjs include|libs|defines');
    process.exit(2);
}
