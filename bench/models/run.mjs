#!/usr/bin/env node
// bench/models: forward + backward time per batch of a BERT-base-sized BertForSequenceClassification and a
// ViT-B/16-sized ViT classifier, tandem (step.ts, the real src/models code) next to the same architectures
// written in torch.nn (torch_models.py, Debian's python3-torch), with the same thread count and allocator
// settings. Prints one line per model and engine, the ratios, and last `worst_ratio_vs_pytorch: <x>`
// (the largest tandem/PyTorch median step time; goal at most 1.10).
// Flags (both `--k=v` and `--k v`): --batch (8) --seq (128, BERT) --image (224, ViT) --steps (5) --warmup (1)
// --layers (12) --models (bert,vit).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { existsSync } from 'node:fs';

const FLAGS = ['batch', 'seq', 'image', 'steps', 'warmup', 'layers', 'models'];
const flags = {};
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const m = /^--([a-z]+)(?:=(.*))?$/.exec(argv[i]);
  if (!m || !FLAGS.includes(m[1])) {
    console.error(`bench/models: unknown argument ${argv[i]} (flags: ${FLAGS.map((f) => `--${f}`).join(' ')})`);
    process.exit(2);
  }
  const value = m[2] ?? argv[++i];
  if (value === undefined || (m[1] !== 'models' && !/^[1-9]\d*$|^0$/.test(value))) {
    console.error(`bench/models: --${m[1]} needs a non-negative integer, got ${value}`);
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

const root = fileURLToPath(new URL('../..', import.meta.url));
const { processSetupEnv } = await import(join(root, 'dist', 'src', 'runtime', 'setup-env.js'));
const { physicalCores } = await import(join(root, 'dist', 'src', 'tensor', 'runtime.js'));
const threads = Number(process.env.TANDEM_NUM_THREADS) || physicalCores();
const env = { ...process.env, ...(processSetupEnv(process.env) ?? {}), TANDEM_NUM_THREADS: String(threads), OMP_NUM_THREADS: String(threads) };
const extra = Object.entries(flags).map(([k, v]) => `--${k}=${v}`);
const python = process.env.TANDEM_BENCH_PYTHON ?? (existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3'); // Debian's python3-torch

function run(cmd, args) {
  const r = spawnSync(cmd, args, { env, cwd: root, encoding: 'utf8', maxBuffer: 1 << 24 });
  if (r.status !== 0) {
    console.error(`${cmd} ${args.join(' ')} failed:\n${r.stderr}`);
    process.exit(1);
  }
  return JSON.parse(r.stdout.trim().split('\n').pop());
}

const describe = {
  bert: () => `BERT-base seq-classification: 12x768 (${flags.layers ?? 12} layers), batch ${flags.batch ?? 8}, seq ${flags.seq ?? 128}`,
  vit: () => `ViT-B/16 classifier: 768 hidden (${flags.layers ?? 12} layers), batch ${flags.batch ?? 8}, ${flags.image ?? 224}px, patch 16`,
};
console.log(`threads: ${threads}; LD_PRELOAD=${env.LD_PRELOAD ?? ''}; OMP_WAIT_POLICY=${env.OMP_WAIT_POLICY}; forward+backward per batch, training mode`);
const ratios = [];
for (const model of models) {
  console.log(describe[model]());
  const ours = run(process.execPath, [join(root, 'dist', 'bench', 'models', 'step.js'), `--model=${model}`, ...extra]);
  const peer = run(python, [join(root, 'bench', 'models', 'torch_models.py'), `--model=${model}`, `--threads=${threads}`, ...extra]);
  if (ours.params !== peer.params) console.log(`  WARNING: parameter counts differ (tandem ${ours.params}, PyTorch ${peer.params})`);
  for (const r of [ours, peer])
    console.log(
      `  ${r.engine.padEnd(26)} step ${r.step_ms_median.toFixed(0).padStart(6)} ms (min ${r.step_ms_min.toFixed(0)})  forward ${r.forward_ms_median.toFixed(0)} ms  backward ${r.backward_ms_median.toFixed(0)} ms  peak RSS ${r.peak_rss_mib.toFixed(0)} MiB`,
    );
  const ratio = ours.step_ms_median / peer.step_ms_median;
  ratios.push(ratio);
  console.log(`${model}_step_ratio_vs_pytorch: ${ratio.toFixed(3)} (forward ${(ours.forward_ms_median / peer.forward_ms_median).toFixed(3)}, backward ${(ours.backward_ms_median / peer.backward_ms_median).toFixed(3)})`);
}
console.log(`worst_ratio_vs_pytorch: ${Math.max(...ratios).toFixed(3)}`);
