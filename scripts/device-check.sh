#!/usr/bin/env bash
# Checks tandem on a device end to end: builds the addon against the libtorch of the PyTorch wheel that
# `python3 -c 'import torch'` finds (CUDA or CPU build), runs the parity tests (every golden model family in
# fp32 and bf16 autocast, the losses, AdamW) on the device, then the benchmarks next to PyTorch on the same
# device. Usage:
#   scripts/device-check.sh [cuda|cpu]        (default: cuda when nvidia-smi sees a GPU, else cpu)
# Environment: NODE (node binary, default `node`), NODE_INCLUDE (node's headers: a folder holding node_api.h,
# or one holding include/node/node_api.h; default: next to NODE, then /usr/include/node), NODE_ADDON_API
# (folder of napi.h; default node_modules/node-addon-api), PYTHON (the Python with the wheel, default python3),
# LIBTORCH (a libtorch folder; default the wheel's), OUT (a summary is written to $OUT/summary.txt), JOBS,
# PHASES (comma-separated phase names to run, default all: parity-tests, train-smoke, bench-engine, bench-models,
# bench-train, bench-recipes, dp-gpu, family-tests-cpu).
# The CPU half (`scripts/device-check.sh cpu`) runs in CI: without a wheel that has headers it uses the addon
# already built (Debian's libtorch) and runs shorter benchmarks. Needs dist/ (npm run build) or typescript in
# node_modules. Every phase has a time limit and on a GPU the whole check stays under 9 minutes (TOTAL_LIMIT=540 s
# for the phases after the build; phases past it are skipped and reported).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
T0=$(date +%s)
NODE=${NODE:-node}
PYTHON=${PYTHON:-python3}
JOBS=${JOBS:-$(nproc)}
SUMMARY=$(mktemp)
LOGDIR=$(mktemp -d)
STATUS=0

say() { printf '\n== %s (t=%ss)\n' "$*" "$(($(date +%s) - T0))"; }
note() { echo "$*" | tee -a "$SUMMARY"; }
finish() {
  local rc=$?
  [ "$rc" = 0 ] || STATUS=$rc
  note "total: $(($(date +%s) - T0)) s; status: $([ "$STATUS" = 0 ] && echo ok || echo "FAILED ($STATUS)")"
  if [ -n "${OUT:-}" ]; then
    mkdir -p "$OUT"
    cp "$SUMMARY" "$OUT/summary.txt"
    cp "$LOGDIR"/*.log "$OUT/" 2>/dev/null || true
  fi
  echo
  echo "---- summary ----"
  cat "$SUMMARY"
}
trap finish EXIT
# run_phase NAME SECONDS CMD...: runs a phase with a time limit (cut to what is left of TOTAL_LIMIT), logs
# it, records a failure without stopping; a phase with under 20 s left is skipped and reported as such.
run_phase() {
  local name=$1 limit=$2 left
  shift 2
  if [ -n "${PHASES:-}" ] && [[ ",$PHASES," != *",$name,"* ]]; then
    note "$name: not run (PHASES=$PHASES)"
    return
  fi
  left=$((TOTAL_LIMIT - ($(date +%s) - T0)))
  if [ "$left" -lt 20 ]; then
    note "$name: SKIPPED (the $TOTAL_LIMIT s budget is spent)"
    STATUS=1
    return
  fi
  [ "$limit" -le "$left" ] || limit=$left
  say "$name (limit ${limit}s)"
  if timeout --kill-after=10 "$limit" "$@" 2>&1 | tee "$LOGDIR/$name.log"; then
    note "$name: ok"
  else
    note "$name: FAILED (exit ${PIPESTATUS[0]}; see $name.log)"
    STATUS=1
  fi
}

DEVICE=${1:-}
if [ -z "$DEVICE" ]; then
  if command -v nvidia-smi >/dev/null && nvidia-smi -L >/dev/null 2>&1; then DEVICE=cuda; else DEVICE=cpu; fi
fi
# Whole-run budget: 470 s on a GPU (device time is scarce), generous on a CPU (CI, small machines).
if [[ $DEVICE == cuda* ]]; then TOTAL_LIMIT=${TOTAL_LIMIT:-540}; else TOTAL_LIMIT=${TOTAL_LIMIT:-3600}; fi
case "$DEVICE" in cpu | cuda | cuda:[0-9]*) ;; *)
  echo "device-check: device must be cpu, cuda or cuda:N, got '$DEVICE'" >&2
  exit 2
  ;;
esac
"$NODE" --version >/dev/null || {
  echo "device-check: NODE=$NODE is not a working node binary" >&2
  exit 2
}
note "device-check on $DEVICE: node $("$NODE" --version), $(uname -m), $(nproc) CPUs"
if [[ $DEVICE == cuda* ]]; then note "GPU: $(nvidia-smi --query-gpu=name,compute_cap,memory.total --format=csv,noheader | head -1)"; fi

# ---- where libtorch is ----
WHEEL=$("$PYTHON" -c 'import torch, os; print(os.path.dirname(torch.__file__))' 2>/dev/null || true)
LIBTORCH=${LIBTORCH:-$WHEEL}
BUILD_NEW=0
if [ -n "$LIBTORCH" ] && [ -f "$LIBTORCH/include/torch/csrc/api/include/torch/torch.h" ]; then BUILD_NEW=1; fi
if [[ $DEVICE == cuda* ]] && [ "$BUILD_NEW" = 0 ]; then
  echo "device-check: no libtorch with headers found (PYTHON=$PYTHON: import torch gave '${WHEEL:-nothing}'; set LIBTORCH)" >&2
  exit 2
fi

# ---- build the addon against that libtorch (directly with g++: node-gyp may be absent on a device) ----
if [ "$BUILD_NEW" = 1 ]; then
  TORCH_VERSION=$("$PYTHON" -c 'import torch; print(torch.__version__)' 2>/dev/null || echo unknown)
  CXX11_ABI=$("$PYTHON" -c 'import torch; print(int(torch._C._GLIBCXX_USE_CXX11_ABI))' 2>/dev/null || echo 1)
  note "libtorch: $LIBTORCH (PyTorch $TORCH_VERSION, _GLIBCXX_USE_CXX11_ABI=$CXX11_ABI)"
  # The first folder that holds the header: NODE_INCLUDE itself, its node/ or include/node/, then the defaults.
  find_header() {
    local header=$1 d
    shift
    for d in "$@"; do
      [ -n "$d" ] && [ -f "$d/$header" ] && { echo "$d"; return 0; }
    done
    return 1
  }
  NODE_BIN_DIR=$(dirname "$(command -v "$NODE")")
  NI=${NODE_INCLUDE:-}
  NODE_INCLUDE=$(find_header node_api.h "$NI" "$NI/node" "$NI/include/node" "$NODE_BIN_DIR/../include/node" /usr/include/node /usr/local/include/node) || {
    echo "device-check: node headers (node_api.h) not found; set NODE_INCLUDE" >&2
    exit 2
  }
  NAPI=$(find_header napi.h "${NODE_ADDON_API:-}" "$ROOT/node_modules/node-addon-api" "$NI" "$NI/node-addon-api" "$NODE_INCLUDE") || {
    echo "device-check: napi.h not found (node_modules/node-addon-api; set NODE_ADDON_API)" >&2
    exit 2
  }
  note "node headers: $NODE_INCLUDE; napi.h: $NAPI"
  LIBS=(-L"$LIBTORCH/lib" -Wl,-rpath,"$LIBTORCH/lib" -Wl,--no-as-needed -ltorch -ltorch_cpu -lc10)
  CUDA_DEF=0
  NCCL_FLAGS=""
  if [ -f "$LIBTORCH/lib/libtorch_cuda.so" ]; then
    LIBS+=(-ltorch_cuda -lc10_cuda)
    CUDA_DEF=1
    # NCCL's process group (native/distributed.cc) needs CUDA's and NCCL's headers: the toolkit's, and those
    # of the wheel's nvidia-* packages.
    NCCL_FLAGS="-DTANDEM_NCCL=1 -DUSE_C10D_NCCL=1"
    for d in "${CUDA_HOME:-/usr/local/cuda}/include" $("$PYTHON" -c 'import nvidia, os; print(" ".join(os.path.join(p, d, "include") for p in nvidia.__path__ for d in sorted(os.listdir(p))))' 2>/dev/null); do
      [ -d "$d" ] && NCCL_FLAGS+=" -I$d"
    done
  fi
  LIBS+=(-Wl,--as-needed)
  MAJOR=$(echo "$TORCH_VERSION" | cut -d. -f1)
  OUTDIR=$ROOT/build/device-$DEVICE-torch$TORCH_VERSION
  OUTDIR=${OUTDIR//+/_}
  mkdir -p "$OUTDIR"
  build_addon() {
    local pids=() f
    cxx() {
      g++ -std=c++17 -O2 -fPIC -fexceptions -frtti -w -D_GLIBCXX_USE_CXX11_ABI="$CXX11_ABI" \
        -DNAPI_VERSION=8 -DNODE_ADDON_API_DISABLE_DEPRECATED -DTANDEM_CUDA="$CUDA_DEF" \
        -I"$NODE_INCLUDE" -I"$NAPI" -I"$LIBTORCH/include" -I"$LIBTORCH/include/torch/csrc/api/include" "$@"
    }
    for f in native/*.cc; do
      local o="$OUTDIR/$(basename "$f" .cc).o"
      if [ "$(basename "$f")" = distributed.cc ] && [ -n "$NCCL_FLAGS" ]; then
        # shellcheck disable=SC2086
        { cxx $NCCL_FLAGS -c "$f" -o "$o" && echo "distributed.cc: with NCCL"; } ||
          { echo "distributed.cc: the NCCL build failed (above); built without NCCL"; cxx -c "$f" -o "$o"; } &
      else
        cxx -c "$f" -o "$o" &
      fi
      pids+=($!)
    done
    for p in "${pids[@]}"; do wait "$p"; done
    g++ -shared -o "$OUTDIR/tandem.node" "$OUTDIR"/*.o "${LIBS[@]}"
  }
  say "build the addon against PyTorch $TORCH_VERSION (major $MAJOR, CUDA=$CUDA_DEF) into $OUTDIR"
  B0=$(date +%s)
  # 4 files in parallel: about 2 minutes against libtorch 2.x on a many-core machine; a 2-core CPU needs more.
  BUILD_LIMIT=${BUILD_LIMIT:-$([ "$(nproc)" -ge 8 ] && echo 240 || echo 1500)}
  if ! timeout "$BUILD_LIMIT" bash -c "$(declare -f build_addon); $(declare -p OUTDIR CXX11_ABI CUDA_DEF NCCL_FLAGS NODE_INCLUDE NAPI LIBTORCH LIBS); build_addon" 2>&1 | tee "$LOGDIR/build.log"; then
    note "build: FAILED (see build.log)"
    STATUS=1
    exit 1
  fi
  note "build: ok in $(($(date +%s) - B0)) s; $(grep -h '^distributed.cc:' "$LOGDIR/build.log" || echo 'distributed.cc: without NCCL (a CPU libtorch)')"
  export TANDEM_ADDON=$OUTDIR/tandem.node
else
  note "libtorch: the addon already built (build/Release, Debian's libtorch); no wheel with headers here"
fi

# ---- compiled TypeScript ----
if [ ! -f dist/src/cli/run.js ]; then
  if [ -x node_modules/.bin/tsc ]; then
    say "compile TypeScript"
    "$NODE" node_modules/typescript/bin/tsc -p tsconfig.json
  else
    echo "device-check: dist/ is missing and node_modules has no typescript: run npm run build first" >&2
    exit 2
  fi
fi
"$NODE" -e "const a=require('${TANDEM_ADDON:-$ROOT/build/Release/tandem.node}'); console.log('addon: libtorch', a.torch_version(), '| cuda available:', a.cuda_is_available(), '| GPUs:', a.cuda_device_count(), '| SDPA:', a.has_sdpa())" | tee -a "$SUMMARY"

# ---- parity tests on the device ----
export TANDEM_TEST_DEVICE=$DEVICE
run_phase parity-tests 180 "$NODE" scripts/run-tests.mjs models/precision-golden objectives/losses-golden optim/adamw-golden tensor/autocast optim/grad-scaler tensor/attention-kernel tensor/device-copies
grep -E '^# (pass|fail) ' "$LOGDIR/parity-tests.log" | sed 's/^# /parity tests /' >>"$SUMMARY" || true
grep -E 'worst bf16 difference|^# +(no mask|additive|bool|causal|cross)' "$LOGDIR/parity-tests.log" | sed 's/^# /  /' >>"$SUMMARY" || true
unset TANDEM_TEST_DEVICE

# ---- training end to end on the device: tiny ViLT on synthetic posts, in bf16 and (CUDA) fp16 ----
train_smoke() {
  local tmp precisions=(bf16) p
  tmp=$(mktemp -d)
  [[ $DEVICE == cuda* ]] && precisions+=(fp16 fp32)
  "$NODE" dist/src/cli/run.js data synth --out "$tmp/data" --count 64 --size 32 --colours 2 --style plain --seed 1
  for p in "${precisions[@]}"; do
    "$NODE" dist/src/cli/run.js train --model test/fixtures/golden/models/vilt --init random --max-length 16 \
      --data "$tmp/data/posts.jsonl" --out "$tmp/run-$p" --epochs 1 --batch-size 8 --steps 6 --lr 3e-3 \
      --device "$DEVICE" --precision "$p" --no-progress --json >"$tmp/$p.json"
    "$NODE" -e "const r=require('$tmp/run-$p/results.json'); const log=require('fs').readFileSync('$tmp/run-$p/log.jsonl','utf8').trim().split('\n').map(JSON.parse); if (r.precision !== '$p' || r.status !== 'finished') throw new Error('unexpected results: ' + JSON.stringify(r)); console.log('train $p on $DEVICE:', r.steps, 'steps, dev f1_macro', r.dev && r.dev.f1_macro, '| last loss', log.at(-1).loss.toFixed(4), log.at(-1).loss_scale !== undefined ? '| loss scale ' + log.at(-1).loss_scale + ', skipped ' + log.filter((x) => x.skipped).length : '')"
  done
  rm -rf "$tmp"
}
run_phase train-smoke 120 bash -c "$(declare -f train_smoke); $(declare -p DEVICE NODE); train_smoke"
grep -E '^train ' "$LOGDIR/train-smoke.log" >>"$SUMMARY" || true

# ---- benchmarks next to PyTorch on the same device ----
# The peer: the Python whose torch the addon was built against (else bench/env.mjs's default, Debian's).
if [ -n "$WHEEL" ]; then export TANDEM_BENCH_PYTHON=$(command -v "$PYTHON"); fi
if [[ $DEVICE == cuda* ]]; then
  ENGINE_ARGS=(--device="$DEVICE" --steps=20 --warmup=5)
  MODELS_ARGS=(--device "$DEVICE" --steps 10 --warmup 3 --batch 16)
  PAPER_ARGS=(--paper-device="$DEVICE" --paper-steps=10 --paper-warmup=3 --paper-batch=16 --paper-eval-posts=450)
else
  # CI-sized on a CPU: two layers, a few steps.
  ENGINE_ARGS=(--steps=3 --warmup=1)
  MODELS_ARGS=(--steps 2 --warmup 1 --layers 2)
  PAPER_ARGS=(--paper-steps=2 --paper-warmup=1 --paper-layers=1 --paper-batch=4 --paper-seq=32 --paper-eval-batch=8 --paper-eval-posts=16)
fi
if [[ $DEVICE == cuda* ]]; then BL=(120 150 150); else BL=(600 900 600); fi
run_phase bench-engine "${BL[0]}" "$NODE" bench/engine/run.mjs "${ENGINE_ARGS[@]}"
run_phase bench-models "${BL[1]}" "$NODE" bench/models/run.mjs "${MODELS_ARGS[@]}"
run_phase bench-train "${BL[2]}" "$NODE" bench/train/run.mjs --paper-scale-only "${PAPER_ARGS[@]}"
if [[ $DEVICE == cuda* ]]; then
  # The recipes at the sizes users fine-tune on a GPU, next to the same recipes over transformers.
  run_phase bench-recipes 180 "$NODE" bench/recipes/run.mjs --device="$DEVICE" --steps=10 --warmup=3
  # Data parallelism on one GPU: NCCL needs a GPU per process (the launcher refuses more processes than GPUs
  # before starting them, exit 2), and a wheel's libtorch has no Gloo headers, so one GPU runs the NCCL path as
  # one rank under a launcher's environment, next to the plain run (the same losses, and its overhead).
  dp_gpu() {
    local out rc
    out=$("$NODE" dist/src/cli/run.js train --nproc-per-node "$(($(nvidia-smi -L | wc -l) + 1))" --device "$DEVICE" \
      --model test/fixtures/golden/models/vilt --data /nonexistent.jsonl --out /tmp/dp-refused 2>&1) && return 1
    rc=$?
    grep -q 'NCCL needs one per process' <<<"$out" || { echo "unexpected refusal (exit $rc): $out"; return 1; }
    echo "more processes than GPUs with NCCL: exit $rc, $out"
    "$NODE" bench/data-parallel/run.mjs --device="$DEVICE" --dist-backend=nccl --world=1 --count=384 --batch=32 --hidden=256 --layers=4
  }
  run_phase dp-gpu 120 bash -c "$(declare -f dp_gpu); $(declare -p DEVICE NODE); dp_gpu"
fi
for b in bench-engine bench-models bench-train bench-recipes dp-gpu; do
  [ -f "$LOGDIR/$b.log" ] && grep -E '^[a-z0-9]+_[a-z0-9_]+: [0-9.]+' "$LOGDIR/$b.log" | sed "s/^/$b /" >>"$SUMMARY" || true
done
if [ "$BUILD_NEW" = 1 ]; then
  # The family tests against transformers on the CPU with this libtorch (2.x takes other code paths: SDPA).
  run_phase family-tests-cpu 150 "$NODE" scripts/run-tests.mjs models/ tensor/attention-kernel tensor/gradcheck
  grep -E '^# (pass|fail) ' "$LOGDIR/family-tests-cpu.log" | sed 's/^# /family tests (cpu) /' >>"$SUMMARY" || true
fi
exit "$STATUS"
