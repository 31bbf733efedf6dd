#!/usr/bin/env node
// bench/models: forward + backward time per batch of a BERT-base-sized BertForSequenceClassification and a
// ViT-B/16-sized ViT classifier, tandem (step.ts, the real src/models code) next to the same architectures
// written in torch.nn (torch_models.py, Debian's python3-torch), with the same thread count and allocator
// settings. Prints one line per model and engine, the ratios, and last `worst_ratio_vs_pytorch: <x>`
// (the largest tandem/PyTorch median step time; goal at most 1.10). The bf16 rows run both under autocast
// (tandem's withAutocast, torch.autocast) and print `<model>_bf16_step_time_ratio_vs_pytorch`,
// `<model>_bf16_speedup_vs_fp32`, then the worst of each as `bf16_step_time_ratio_vs_pytorch` (goal at most
// 1.05) and `bf16_speedup_vs_fp32`.
// Flags (both `--k=v` and `--k v`): --batch (8) --seq (128, BERT) --image (224, ViT) --steps (5) --warmup (1)
// --layers (12) --models (bert,vit) --precisions (fp32,bf16) --device (cpu; cuda on a GPU).
import { join } from 'node:path';
import { root, threads, env, python } from '../env.mjs';
import { median, serveChild as serve } from '../peer.mjs';

const FLAGS = ['batch', 'seq', 'image', 'steps', 'warmup', 'layers', 'models', 'precisions', 'device'];
const flags = {};
const argv = process.argv.slice(2);
if (argv.includes('--help') || argv.includes('-h')) {
  console.log(
    'usage: node bench/models/run.mjs [--batch 8] [--seq 128] [--image 224] [--steps 5] [--warmup 1] [--layers 12] [--models bert,vit]\n' +
      'Runs after `npm run build`; TANDEM_NUM_THREADS sets the threads of both engines, TANDEM_BENCH_PYTHON the Python with torch.',
  );
  process.exit(0);
}
for (let i = 0; i < argv.length; i++) {
  const m = /^--([a-z]+)(?:=(.*))?$/.exec(argv[i]);
  if (!m || !FLAGS.includes(m[1])) {
    console.error(`bench/models: unknown argument ${argv[i]} (flags: ${FLAGS.map((f) => `--${f}`).join(' ')})`);
    process.exit(2);
  }
  const value = m[2] ?? argv[++i];
  const integer = m[1] === 'warmup' ? /^\d+$/ : /^[1-9]\d*$/;
  const free = ['models', 'precisions', 'device'].includes(m[1]);
  if (value === undefined || (!free && !integer.test(value))) {
    console.error(
      `bench/models: --${m[1]} needs a ${m[1] === 'warmup' ? 'non-negative' : 'positive'} integer, got ${value}`,
    );
    process.exit(2);
  }
  flags[m[1]] = value;
}
const models = (flags.models ?? 'bert,vit').split(',');
for (const m of models)
  if (!['bert', 'vit'].includes(m)) {
    console.error(`bench/models: --models takes bert and/or vit, got ${m}`);
    process.exit(2);
  }
delete flags.models;
const precisions = (flags.precisions ?? 'fp32,bf16').split(',');
for (const p of precisions)
  if (!['fp32', 'bf16', 'fp16'].includes(p)) {
    console.error(`bench/models: --precisions takes fp32, bf16 and/or fp16, got ${p}`);
    process.exit(2);
  }
delete flags.precisions;

const extra = Object.entries(flags).map(([k, v]) => `--${k}=${v}`);

const steps = Number(flags.steps ?? 5);
const warmup = Number(flags.warmup ?? 1);
const describe = {
  bert: () =>
    `BERT-base seq-classification: 12x768 (${flags.layers ?? 12} layers), batch ${flags.batch ?? 8}, seq ${flags.seq ?? 128}`,
  vit: () =>
    `ViT-B/16 classifier: 768 hidden (${flags.layers ?? 12} layers), batch ${flags.batch ?? 8}, ${flags.image ?? 224}px, patch 16`,
};
console.log(
  `threads: ${threads}; LD_PRELOAD=${env.LD_PRELOAD ?? ''}; OMP_WAIT_POLICY=${env.OMP_WAIT_POLICY}; forward+backward per batch, training mode; ${warmup} warm-up + ${steps} timed steps, alternating between the engines`,
);
const ratios = [];
const bf16 = { ratios: [], speedups: [] };
async function measure(model, precision) {
  // Both processes stay up and take turns (tandem, PyTorch, PyTorch, tandem, ...), so load from other
  // processes on the machine falls on both alike.
  const engines = [
    serve(process.execPath, [
      join(root, 'dist', 'bench', 'models', 'step.js'),
      `--model=${model}`,
      `--precision=${precision}`,
      '--serve',
      ...extra,
    ]),
    serve(python, [
      join(root, 'bench', 'models', 'torch_models.py'),
      `--model=${model}`,
      `--threads=${threads}`,
      `--precision=${precision}`,
      '--serve',
      ...extra,
    ]),
  ];
  for (const e of engines) await e.ask(null);
  const times = [[], []];
  for (let i = 0; i < warmup + steps; i++)
    for (const k of i % 2 ? [1, 0] : [0, 1]) {
      // A pause lets the other engine's BLAS threads stop spinning before this one is timed.
      await new Promise((r) => setTimeout(r, 150));
      const t = await engines[k].ask('step');
      if (i >= warmup) times[k].push(t);
    }
  const [ours, peer] = await Promise.all(engines.map((e) => e.ask('done')));
  if (ours.params !== peer.params)
    console.log(`  WARNING: parameter counts differ (tandem ${ours.params}, PyTorch ${peer.params})`);
  const stats = times.map((ts) => ({
    step: median(ts.map((t) => t.forward_ms + t.backward_ms)),
    min: Math.min(...ts.map((t) => t.forward_ms + t.backward_ms)),
    forward: median(ts.map((t) => t.forward_ms)),
    backward: median(ts.map((t) => t.backward_ms)),
    cpu: median(ts.map((t) => t.cpu_ms)),
  }));
  [ours, peer].forEach((r, k) =>
    console.log(
      `  ${r.engine.padEnd(26)} step ${stats[k].step.toFixed(0).padStart(6)} ms (min ${stats[k].min.toFixed(0)})  forward ${stats[k].forward.toFixed(0)} ms  backward ${stats[k].backward.toFixed(0)} ms  CPU ${stats[k].cpu.toFixed(0)} ms  peak RSS ${r.peak_rss_mib.toFixed(0)} MiB`,
    ),
  );
  const ratio = stats[0].step / stats[1].step;
  const prefix = precision === 'fp32' ? model : `${model}_${precision}`;
  console.log(
    `${prefix}_step${precision === 'fp32' ? '' : '_time'}_ratio_vs_pytorch: ${ratio.toFixed(3)} (forward ${(stats[0].forward / stats[1].forward).toFixed(3)}, backward ${(stats[0].backward / stats[1].backward).toFixed(3)}, CPU time ${(stats[0].cpu / stats[1].cpu).toFixed(3)})`,
  );
  return { ratio, step: stats[0].step };
}
for (const model of models) {
  console.log(describe[model]());
  const byPrecision = {};
  for (const precision of precisions) byPrecision[precision] = await measure(model, precision);
  if (byPrecision.fp32) ratios.push(byPrecision.fp32.ratio);
  if (byPrecision.bf16) {
    bf16.ratios.push(byPrecision.bf16.ratio);
    if (byPrecision.fp32) {
      const speedup = byPrecision.fp32.step / byPrecision.bf16.step;
      bf16.speedups.push(speedup);
      console.log(`${model}_bf16_speedup_vs_fp32: ${speedup.toFixed(3)}`);
    }
  }
}
if (bf16.ratios.length) console.log(`bf16_step_time_ratio_vs_pytorch: ${Math.max(...bf16.ratios).toFixed(3)}`);
if (bf16.speedups.length) console.log(`bf16_speedup_vs_fp32: ${Math.min(...bf16.speedups).toFixed(3)}`);
if (ratios.length) console.log(`worst_ratio_vs_pytorch: ${Math.max(...ratios).toFixed(3)}`);
