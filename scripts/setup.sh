#!/usr/bin/env bash
# Installs everything tandem needs on a fresh Debian 12 machine: libtorch (CPU) with OpenBLAS, jemalloc,
# libjpeg-turbo and libpng (the in-process image decoder, native/image),
# PyTorch for Python (only the benchmarks use it, as the peer), then the npm packages and the native addon.
set -euo pipefail
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
  g++ make python3 libtorch-dev libgloo-dev libopenblas0 libjemalloc2 libjpeg62-turbo-dev libpng-dev python3-torch \
  chromium >/dev/null
npm ci
