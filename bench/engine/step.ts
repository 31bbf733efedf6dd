// tandem's side of bench/engine: matmul throughput and the training step of the design's benchmark model
// (4 post-LN transformer layers, hidden 256, 4 heads, MLP 1024, sequence 64, batch 32, cross-entropy, AdamW),
// in fp32 and under autocast (bf16/fp16). Alone it prints one JSON line for --precision; with --serve,
// bench/engine/run.mjs drives it command by command ("matmul fp32", "step bf16", ...), alternating with
// PyTorch's process. --device=cuda runs on a GPU.
import { readFileSync } from 'node:fs';
import { answerCommands } from '../command-loop.js';
import { Embedding, LayerNorm, Linear, MLP, Module, ModuleList, MultiheadAttention } from '../../src/nn/index.js';
import { AdamW } from '../../src/optim/index.js';
import {
  F,
  getNumThreads,
  manualSeed,
  parseDevice,
  randint,
  randn,
  synchronize,
  tidy,
  torchVersion,
  withPrecision,
  type Precision,
  type Tensor,
} from '../../src/tensor/index.js';

const args: Record<string, string> = Object.fromEntries(
  process.argv.slice(2).map((a) => {
    const [k, v] = a.replace(/^--/, '').split('=');
    return [k!, v ?? ''];
  }),
);
const steps = Number(args.steps ?? 20);
const warmup = Number(args.warmup ?? 5);
const device = parseDevice(args.device ?? 'cpu', '--device');
const PRECISIONS: readonly Precision[] = ['fp32', 'bf16', 'fp16'];
function precisionOf(s: string | undefined): Precision {
  const p = (s ?? 'fp32') as Precision;
  if (!PRECISIONS.includes(p))
    throw new Error(`bench/engine/step: unknown precision ${s} (expected fp32, bf16 or fp16)`);
  return p;
}

class Layer extends Module {
  attn = this.child('attn', new MultiheadAttention(256, 4));
  ln1 = this.child('ln1', new LayerNorm(256));
  mlp = this.child('mlp', new MLP(256, 1024, 256, 'gelu'));
  ln2 = this.child('ln2', new LayerNorm(256));
  forward(x: Tensor): Tensor {
    const h = this.ln1.forward(x.add(this.attn.forward(x, x, x)));
    return this.ln2.forward(h.add(this.mlp.forward(h)));
  }
}
class Net extends Module {
  emb = this.child('emb', new Embedding(1000, 256));
  layers = this.child('layers', new ModuleList([new Layer(), new Layer(), new Layer(), new Layer()]));
  head = this.child('head', new Linear(256, 4));
  forward(ids: Tensor): Tensor {
    let x = this.emb.forward(ids);
    for (const l of this.layers) x = l.forward(x);
    return this.head.forward(x.mean(1));
  }
}

function peakRssMiB(): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

manualSeed(0);
const DTYPE = { fp32: 'float32', bf16: 'bfloat16', fp16: 'float16' } as const;
const a32 = randn([1024, 1024], { device });
const b32 = randn([1024, 1024], { device });
const operands = new Map<Precision, [Tensor, Tensor]>();
/** The matmul operands in one precision, made (and warmed) once. */
function operandsIn(p: Precision): [Tensor, Tensor] {
  let ab = operands.get(p);
  if (!ab) {
    ab = [a32.to(DTYPE[p]), b32.to(DTYPE[p])];
    const [a, b] = ab;
    tidy(() => a.matmul(b).sum().item());
    operands.set(p, ab);
  }
  return ab;
}

/** Products of two 1024 x 1024 matrices (the result's sum read back, as PyTorch's side does); GFLOP/s. */
function matmulGflops(p: Precision, reps = 5): number {
  const [a, b] = operandsIn(p);
  const n = a.size(0);
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < reps; i++) tidy(() => a.matmul(b).sum().item());
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  return (2 * n ** 3 * reps) / s / 1e9;
}

const net = new Net();
if (device !== 'cpu') net.to(device);
const opt = new AdamW(net.parameters(), { lr: 1e-4 });
const ids = randint(0, 1000, [32, 64]).to(device);
const labels = randint(0, 4, [32]).to(device);
/** One training step in a precision (fp32 master weights either way); its wall time in ms. */
const step = (p: Precision): number => {
  const t0 = process.hrtime.bigint();
  tidy(() => {
    opt.zeroGrad();
    const loss = withPrecision(p, device, () => F.crossEntropy(net.forward(ids), labels));
    loss.backward();
    opt.step();
    return loss.item();
  });
  synchronize();
  return Number(process.hrtime.bigint() - t0) / 1e6;
};
const summary = () => ({
  engine: `tandem (libtorch ${torchVersion()})`,
  device,
  threads: getNumThreads(),
  peak_rss_mib: peakRssMiB(),
});

if (args.serve !== undefined) {
  // Driven by run.mjs, which alternates with PyTorch's process command by command so that both see the same
  // machine load: "matmul P" answers {"gflops"}, "step P" answers {"ms"}, "done" answers the summary and ends.
  answerCommands(
    'bench/engine/step',
    {
      matmul: (p) => ({ gflops: matmulGflops(precisionOf(p)) }),
      step: (p) => ({ ms: step(precisionOf(p)) }),
    },
    summary,
  );
} else {
  const p = precisionOf(args.precision);
  const gflops = matmulGflops(p, 10);
  for (let i = 0; i < warmup; i++) step(p);
  const times = Array.from({ length: steps }, () => step(p)).sort((x, y) => x - y);
  console.log(
    JSON.stringify({
      ...summary(),
      precision: p,
      matmul_gflops: gflops,
      step_ms_median: times[Math.floor(times.length / 2)],
      step_ms_min: times[0],
    }),
  );
}
