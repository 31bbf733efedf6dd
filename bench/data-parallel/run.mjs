#!/usr/bin/env node
// bench/data-parallel: training samples per second with 1 process and with 2 (tandem train --nproc-per-node 2,
// Gloo over loopback), the same global batch and a late-fusion model of BERT/ViT shapes scaled down (flags:
// --count=192 --batch=16 --epochs=1 --hidden=128 --layers=2). On a 2-core machine there is no speed goal: each
// process gets one thread, so the ratio shows what the collectives cost; on a machine with more cores or GPUs
// it shows the scaling. --device=cuda runs both on the GPU; --dist-backend=gloo lets the 2 processes share one
// GPU. Last line: `data_parallel_2_vs_1_samples_per_second: <x>`.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { root, env } from '../env.mjs';

const flag = (name, dflt) => {
  const a = process.argv.find((x) => x.startsWith(`--${name}=`));
  return a ? Number(a.split('=')[1]) : dflt;
};
const text = (name, dflt) => process.argv.find((x) => x.startsWith(`--${name}=`))?.split('=')[1] ?? dflt;
const device = text('device', 'cpu');
const backend = text('dist-backend', null);
const count = flag('count', 192);
const batch = flag('batch', 16);
const epochs = flag('epochs', 1);
const hidden = flag('hidden', 128);
const layers = flag('layers', 2);
const tmp = mkdtempSync(join(tmpdir(), 'tandem-bench-dp-'));
const cli = join(root, 'dist', 'src', 'cli', 'run.js');
const run = (args, extraEnv = {}) => {
  const r = spawnSync(process.execPath, [cli, ...args], { env: { ...env, ...extraEnv }, encoding: 'utf8' });
  if (r.status !== 0) {
    console.error(r.stderr);
    process.exit(1);
  }
};
try {
  run(['data', 'synth', '--out', join(tmp, 'data'), '--count', String(count), '--size', '64', '--style', 'plain']);
  const sizes = {
    hidden_size: hidden,
    num_hidden_layers: layers,
    intermediate_size: 4 * hidden,
    num_attention_heads: 4,
  };
  writeFileSync(join(tmp, 'config.json'), JSON.stringify({ text_config: sizes, vision_config: sizes }));
  const tiny = join(root, 'examples', 'tiny-models');
  const common = [
    'train',
    '--text-model',
    join(tiny, 'bert'),
    '--image-model',
    join(tiny, 'vit'),
    '--init',
    'random',
    '--config',
    join(tmp, 'config.json'),
    '--data',
    join(tmp, 'data', 'posts.jsonl'),
    '--epochs',
    String(epochs),
    '--aux',
    'itc,itm',
    '--max-length',
    '32',
    '--no-progress',
    '--workers',
    '0',
    '--device',
    device,
    ...(backend ? ['--dist-backend', backend] : []),
  ];
  const sps = (out) => {
    const lines = readFileSync(join(out, 'log.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const xs = lines
      .slice(1)
      .map((l) => l.samples_per_second)
      .sort((a, b) => a - b); // the first step warms up
    return xs[Math.floor(xs.length / 2)];
  };
  run([...common, '--batch-size', String(batch), '--out', join(tmp, 'one')]);
  run([...common, '--batch-size', String(batch / 2), '--nproc-per-node', '2', '--out', join(tmp, 'two')]);
  const [a, b] = [sps(join(tmp, 'one')), sps(join(tmp, 'two'))];
  console.log(
    `global batch ${batch}, hidden ${hidden}, ${layers} layers, ${device}${backend ? ` (${backend})` : ''}; median samples/s over the steps`,
  );
  console.log(`1 process:   ${a.toFixed(1)} samples/s`);
  console.log(`2 processes: ${b.toFixed(1)} samples/s`);
  console.log(`data_parallel_2_vs_1_samples_per_second: ${(b / a).toFixed(3)}`);
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
