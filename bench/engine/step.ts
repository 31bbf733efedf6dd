// tandem's side of bench/engine: fp32 matmul throughput and the training step of the engine table in docs/design.md
// model (4 post-LN transformer layers, hidden 256, 4 heads, MLP 1024, sequence 64, batch 32, cross-entropy,
// AdamW). Alone it prints one JSON line; with --serve, bench/engine/run.mjs drives it command by command,
// alternating with PyTorch's process.
import { readFileSync, readSync } from 'node:fs';
import { Embedding, LayerNorm, Linear, MLP, Module, ModuleList, MultiheadAttention } from '../../src/nn/index.js';
import { AdamW } from '../../src/optim/index.js';
import {
  F,
  getNumThreads,
  manualSeed,
  randint,
  randn,
  tidy,
  torchVersion,
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

/** One timed product of two n x n matrices (the result's sum read back, as PyTorch's side does); GFLOP/s. */
function matmulGflops(a: Tensor, b: Tensor, reps = 5): number {
  const n = a.size(0);
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < reps; i++) tidy(() => a.matmul(b).sum().item());
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  return (2 * n ** 3 * reps) / s / 1e9;
}

manualSeed(0);
const a = randn([1024, 1024]);
const b = randn([1024, 1024]);
tidy(() => a.matmul(b).sum().item());
const net = new Net();
const opt = new AdamW(net.parameters(), { lr: 1e-4 });
const ids = randint(0, 1000, [32, 64]);
const labels = randint(0, 4, [32]);
/** One training step; its wall time in ms. */
const step = (): number => {
  const t0 = process.hrtime.bigint();
  tidy(() => {
    opt.zeroGrad();
    const loss = F.crossEntropy(net.forward(ids), labels);
    loss.backward();
    opt.step();
    return loss.item();
  });
  return Number(process.hrtime.bigint() - t0) / 1e6;
};
const summary = () => ({
  engine: `tandem (libtorch ${torchVersion()})`,
  threads: getNumThreads(),
  peak_rss_mib: peakRssMiB(),
});

if (args.serve !== undefined) {
  // Driven by run.mjs, which alternates with PyTorch's process command by command so that both see the same
  // machine load: "matmul" answers {"gflops"}, "step" answers {"ms"}, "done" answers the summary and ends.
  console.log(JSON.stringify({ ready: true }));
  const buf = Buffer.alloc(64);
  let pending = '';
  for (;;) {
    const nl = pending.indexOf('\n');
    if (nl < 0) {
      const n = readSync(0, buf, 0, buf.length, null);
      if (n === 0) break;
      pending += buf.toString('utf8', 0, n);
      continue;
    }
    const cmd = pending.slice(0, nl).trim();
    pending = pending.slice(nl + 1);
    if (cmd === 'matmul') console.log(JSON.stringify({ gflops: matmulGflops(a, b) }));
    else if (cmd === 'step') console.log(JSON.stringify({ ms: step() }));
    else if (cmd === 'done') {
      console.log(JSON.stringify(summary()));
      break;
    } else throw new Error(`bench/engine/step: unknown command ${JSON.stringify(cmd)} (expected matmul, step or done)`);
  }
} else {
  const gflops = matmulGflops(a, b, 10);
  for (let i = 0; i < warmup; i++) step();
  const times = Array.from({ length: steps }, () => step()).sort((x, y) => x - y);
  console.log(
    JSON.stringify({
      ...summary(),
      matmul_gflops: gflops,
      step_ms_median: times[Math.floor(times.length / 2)],
      step_ms_min: times[0],
    }),
  );
}
