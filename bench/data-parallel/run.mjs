#!/usr/bin/env node
// bench/data-parallel: training samples per second with 1 process and with 2 (tandem train --nproc-per-node 2,
// Gloo over loopback), the same global batch and a late-fusion model of BERT/ViT shapes scaled down (flags:
// --count=192 --batch=16 --epochs=1 --hidden=128 --layers=2). On a 2-core machine there is no speed goal: each
// process gets one thread, so the ratio shows what the collectives cost; on a machine with more cores or GPUs
// it shows the scaling. --device=cuda runs both on the GPU; --dist-backend=gloo lets the 2 processes share one
// GPU (Gloo); --world=1 runs one rank under a launcher's environment instead of two (on one GPU, NCCL's path:
// --dist-backend=nccl). Last line: `data_parallel_2_vs_1_samples_per_second: <x>` (or `..._1_rank_vs_plain_...`).
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
const world = flag('world', 2);
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
  const lastLoss = (out) => JSON.parse(readFileSync(join(out, 'log.jsonl'), 'utf8').trim().split('\n').pop()).loss;
  run([...common, '--batch-size', String(batch), '--out', join(tmp, 'one')]);
  if (world === 1) {
    // One rank under a launcher's environment: the data-parallel path (process group, broadcast, bucketed
    // all-reduce, gathered ITC) with nothing to share, against the plain run: same losses, its overhead.
    const port = String(20000 + (process.pid % 20000));
    const launcher = { RANK: '0', WORLD_SIZE: '1', LOCAL_RANK: '0', MASTER_ADDR: '127.0.0.1', MASTER_PORT: port };
    run([...common, '--batch-size', String(batch), '--out', join(tmp, 'rank')], launcher);
    const [a, b] = [sps(join(tmp, 'one')), sps(join(tmp, 'rank'))];
    console.log(
      `global batch ${batch}, hidden ${hidden}, ${layers} layers, ${device} (${backend ?? 'default backend'})`,
    );
    console.log(`plain: ${a.toFixed(1)} samples/s, last loss ${lastLoss(join(tmp, 'one'))}`);
    console.log(`1 rank: ${b.toFixed(1)} samples/s, last loss ${lastLoss(join(tmp, 'rank'))}`);
    console.log(`data_parallel_1_rank_vs_plain_samples_per_second: ${(b / a).toFixed(3)}`);
  } else {
    run([...common, '--batch-size', String(batch / 2), '--nproc-per-node', '2', '--out', join(tmp, 'two')]);
    const [a, b] = [sps(join(tmp, 'one')), sps(join(tmp, 'two'))];
    console.log(
      `global batch ${batch}, hidden ${hidden}, ${layers} layers, ${device}${backend ? ` (${backend})` : ''}; median samples/s over the steps`,
    );
    console.log(`1 process:   ${a.toFixed(1)} samples/s`);
    console.log(`2 processes: ${b.toFixed(1)} samples/s`);
    console.log(`data_parallel_2_vs_1_samples_per_second: ${(b / a).toFixed(3)}`);
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
