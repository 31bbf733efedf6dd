// tandem's side of bench/models: forward + backward time per batch of a BERT-base-sized
// BertForSequenceClassification (src/models/bert.ts) or a ViT-B/16-sized ViT with an image-classification
// head (src/models/vit.ts), randomly initialised, in training mode. Prints one JSON line. Run through
// bench/models/run.mjs, which runs the same architecture written in torch.nn (torch_models.py) beside it.
// --precision=bf16 runs the forward pass and loss under autocast (fp32 weights); --device=cuda on a GPU.
import { readFileSync } from 'node:fs';
import { answerCommands } from '../command-loop.js';
import { BertForSequenceClassification, family as bertFamily } from '../../src/models/bert.js';
import { family as vitFamily } from '../../src/models/vit.js';
import { Linear } from '../../src/nn/index.js';
import {
  F,
  getNumThreads,
  manualSeed,
  ones,
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

const args: Record<string, string> = Object.fromEntries(
  process.argv.slice(2).map((a) => {
    const [k, v] = a.replace(/^--/, '').split('=');
    return [k, v ?? ''];
  }),
);
const num = (key: string, dflt: number): number => {
  const v = args[key] === undefined ? dflt : Number(args[key]);
  if (!Number.isInteger(v) || v < 0)
    throw new Error(`bench/models/step: --${key} must be a non-negative integer, got ${args[key]}`);
  return v;
};
const model = args.model ?? 'bert';
const batch = num('batch', 8);
const steps = Math.max(1, num('steps', 5));
const warmup = num('warmup', 1);
const layers = num('layers', 12);
const hidden = num('hidden', 768);
const heads = num('heads', 12);
const intermediate = num('intermediate', 3072);
const seq = num('seq', 128);
const image = num('image', 224);
const patch = num('patch', 16);
const numLabels = 2;
const precision = (args.precision ?? 'fp32') as Precision;
const device = (args.device ?? 'cpu') as Device;

function peakRssMiB(): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

manualSeed(0);

/** One training batch: returns the loss tensor from the forward pass (backward is timed separately). */
let forward: () => Tensor;
let zeroGrad: () => void;
let params: number;
if (model === 'bert') {
  const net = bertFamily.build({
    model_type: 'bert',
    architectures: ['BertForSequenceClassification'],
    hidden_size: hidden,
    num_hidden_layers: layers,
    num_attention_heads: heads,
    intermediate_size: intermediate,
    hidden_act: 'gelu',
    num_labels: numLabels,
  });
  if (!(net instanceof BertForSequenceClassification))
    throw new Error('bench/models/step: expected a BertForSequenceClassification');
  net.train();
  if (device !== 'cpu') net.to(device);
  const inputIds = randint(0, 30522, [batch, seq], { device });
  const attentionMask = ones([batch, seq], { dtype: 'int64', device });
  const tokenTypeIds = randint(0, 2, [batch, seq], { device });
  const labels = randint(0, numLabels, [batch], { device });
  forward = () =>
    net.forward({ input_ids: inputIds, attention_mask: attentionMask, token_type_ids: tokenTypeIds, labels }).loss!;
  zeroGrad = () => net.zeroGrad();
  params = net.parameters().reduce((s, p) => s + p.numel, 0);
} else if (model === 'vit') {
  // ViTForImageClassification's encoder (no pooler) plus its linear head on the [CLS] token.
  const net = vitFamily.build({
    model_type: 'vit',
    architectures: ['ViTForImageClassification'],
    hidden_size: hidden,
    num_hidden_layers: layers,
    num_attention_heads: heads,
    intermediate_size: intermediate,
    hidden_act: 'gelu',
    image_size: image,
    patch_size: patch,
  });
  const head = new Linear(hidden, numLabels);
  net.train();
  if (device !== 'cpu') [net, head].forEach((m) => m.to(device));
  const pixels = randn([batch, 3, image, image], { device });
  const labels = randint(0, numLabels, [batch], { device });
  forward = () => F.crossEntropy(head.forward(net.forward(pixels).last_hidden_state.select(1, 0)), labels);
  zeroGrad = () => {
    net.zeroGrad();
    head.zeroGrad();
  };
  params = [...net.parameters(), ...head.parameters()].reduce((s, p) => s + p.numel, 0);
} else throw new Error(`bench/models/step: --model must be bert or vit, got ${model}`);

interface StepTimes {
  forward_ms: number;
  backward_ms: number;
  /** CPU time of the whole process (all threads) during the step: less sensitive to other processes' load. */
  cpu_ms: number;
}
const ms = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e6;
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
/** One step. The CPU engine is synchronous, so item() and backward() return when the work is done. */
function step(): StepTimes {
  return tidy(() => {
    zeroGrad();
    const c0 = cpuMs();
    const t0 = process.hrtime.bigint();
    const loss = withPrecision(precision, device, forward);
    loss.item();
    const forwardMs = ms(t0);
    const t1 = process.hrtime.bigint();
    loss.backward();
    synchronize();
    return { forward_ms: forwardMs, backward_ms: ms(t1), cpu_ms: cpuMs() - c0 };
  });
}

const summary = () => ({
  engine: `tandem (libtorch ${torchVersion()}) ${precision}`,
  model,
  threads: getNumThreads(),
  params,
  batch,
  peak_rss_mib: peakRssMiB(),
});

if (args.serve !== undefined) {
  // Driven by run.mjs, which alternates steps between this process and PyTorch's so that both see the same
  // machine load: each stdin line "step" runs one step and answers {"forward_ms", "backward_ms", "cpu_ms"}; "done"
  // answers the summary and ends.
  answerCommands('bench/models/step', { step: () => step() }, summary);
} else {
  for (let i = 0; i < warmup; i++) step();
  const all = Array.from({ length: steps }, () => step());
  const median = (xs: number[]) => {
    const s = [...xs].sort((x, y) => x - y);
    return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  };
  const total = all.map((t) => t.forward_ms + t.backward_ms);
  console.log(
    JSON.stringify({
      ...summary(),
      step_ms_median: median(total),
      step_ms_min: Math.min(...total),
      forward_ms_median: median(all.map((t) => t.forward_ms)),
      backward_ms_median: median(all.map((t) => t.backward_ms)),
      cpu_ms_median: median(all.map((t) => t.cpu_ms)),
    }),
  );
}
