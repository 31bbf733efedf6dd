// tandem's side of bench/engine: fp32 matmul throughput and the training step of DESIGN.md's benchmark
// model (4 post-LN transformer layers, hidden 256, 4 heads, MLP 1024, sequence 64, batch 32, cross-entropy,
// AdamW). Prints one JSON line. Run through bench/engine/run.mjs, which runs PyTorch beside it.
// --precision=bf16 runs the matmul in bf16 and the forward pass and loss under autocast; --device=cuda on a GPU.
import { readFileSync } from 'node:fs';
import { Embedding, LayerNorm, Linear, MLP, Module, ModuleList, MultiheadAttention } from '../../src/nn/index.js';
import { AdamW } from '../../src/optim/index.js';
import {
  F,
  getNumThreads,
  manualSeed,
  randint,
  randn,
  synchronize,
  tidy,
  torchVersion,
  withPrecision,
  type Device,
  type Precision,
  type Tensor,
} from '../../src/tensor/index.js';

const args = Object.fromEntries(
  process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=')) as [string, string][],
);
const steps = Number(args.steps ?? 20);
const warmup = Number(args.warmup ?? 5);
const precision = (args.precision ?? 'fp32') as Precision;
const device = (args.device ?? 'cpu') as Device;

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

function matmulGflops(n = 1024, reps = 10): number {
  const dtype = precision === 'bf16' ? 'bfloat16' : precision === 'fp16' ? 'float16' : 'float32';
  const a = randn([n, n], { device }).to(dtype);
  const b = randn([n, n], { device }).to(dtype);
  tidy(() => a.matmul(b).sum().item());
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < reps; i++) tidy(() => a.matmul(b).sum().item());
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  return (2 * n ** 3 * reps) / s / 1e9;
}

manualSeed(0);
const gflops = matmulGflops();
const net = new Net();
if (device !== 'cpu') net.to(device);
const opt = new AdamW(net.parameters(), { lr: 1e-4 });
const ids = randint(0, 1000, [32, 64]).to(device);
const labels = randint(0, 4, [32]).to(device);
const step = () =>
  tidy(() => {
    opt.zeroGrad();
    const loss = withPrecision(precision, device, () => F.crossEntropy(net.forward(ids), labels));
    loss.backward();
    opt.step();
    return loss.item();
  });
for (let i = 0; i < warmup; i++) step();
const times: number[] = [];
for (let i = 0; i < steps; i++) {
  const t0 = process.hrtime.bigint();
  step();
  synchronize();
  times.push(Number(process.hrtime.bigint() - t0) / 1e6);
}
times.sort((x, y) => x - y);
console.log(
  JSON.stringify({
    engine: `tandem (libtorch ${torchVersion()}) ${precision}`,
    precision,
    device,
    threads: getNumThreads(),
    matmul_gflops: gflops,
    step_ms_median: times[Math.floor(times.length / 2)],
    step_ms_min: times[0],
    peak_rss_mib: peakRssMiB(),
  }),
);
