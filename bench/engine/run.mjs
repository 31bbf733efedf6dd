#!/usr/bin/env node
// bench/engine: tandem's and PyTorch's (Debian python3-torch) versions of the same benchmark, with the same
// thread count and allocator settings, in fp32 and then in bf16 (tandem's autocast beside torch.autocast).
// Both processes stay up and take turns measurement by measurement (tandem, PyTorch, PyTorch, tandem, ...), so
// load from other processes on the machine falls on both alike; each figure is a median with its spread
// (min-max over the rounds) and the ratio's spread over the rounds. Lines:
//   `bf16_step_time_ratio_vs_pytorch` (goal at most 1.05), `bf16_speedup_vs_fp32` (tandem's fp32 step time /
//   its bf16 step time) and, last, `step_time_ratio_vs_pytorch` (fp32, median of tandem's step time /
//   PyTorch's; goal at most 1.10).
// Flags: --steps=N (20) --warmup=N (5) --matmul=N (7 rounds of 5 products of 1024 x 1024 matrices)
//        --no-bf16 (fp32 only) --device=cuda (both engines on a GPU).
import { join } from 'node:path';
import { root, threads, env, python } from '../env.mjs';
import { median, serveChild as serve, spread } from '../peer.mjs';

const flags = Object.fromEntries(
  process.argv.slice(2).map((a) => {
    const [k, v] = a.replace(/^--/, '').split('=');
    return [k, v ?? ''];
  }),
);
const known = ['steps', 'warmup', 'matmul', 'no-bf16', 'device'];
for (const k of Object.keys(flags))
  if (!known.includes(k)) {
    console.error(`bench/engine: unknown flag --${k} (expected ${known.map((f) => `--${f}`).join(', ')})`);
    process.exit(2);
  }
const steps = Number(flags.steps ?? 20);
const warmup = Number(flags.warmup ?? 5);
const matmulRounds = Number(flags.matmul ?? 7);
const device = flags.device ?? 'cpu';
const precisions = flags['no-bf16'] !== undefined ? ['fp32'] : ['fp32', 'bf16'];

const perRound = (xs, ys) => xs.map((x, i) => x / ys[i]);

console.log(
  `threads: ${threads}; device: ${device}; LD_PRELOAD=${env.LD_PRELOAD ?? ''}; OMP_WAIT_POLICY=${env.OMP_WAIT_POLICY}; OPENBLAS_CORETYPE=${env.OPENBLAS_CORETYPE ?? '(unset)'}; alternating between the engines, median (min-max)`,
);
const engines = [
  serve(process.execPath, [join(root, 'dist', 'bench', 'engine', 'step.js'), '--serve', `--device=${device}`]),
  serve(python, [
    join(root, 'bench', 'engine', 'torch_step.py'),
    `--threads=${threads}`,
    '--serve',
    `--device=${device}`,
  ]),
];
for (const e of engines) await e.ask(null);

/** Rounds of one command, the engines taking turns (the first alternates); returns the answers per engine. */
async function alternate(command, rounds, skip = 0) {
  const got = [[], []];
  for (let i = 0; i < skip + rounds; i++)
    for (const k of i % 2 ? [1, 0] : [0, 1]) {
      // A pause lets the other engine's BLAS threads stop spinning before this one is timed.
      await new Promise((r) => setTimeout(r, 100));
      const answer = await engines[k].ask(command);
      if (i >= skip) got[k].push(answer);
    }
  return got;
}

const results = {};
for (const p of precisions)
  results[p] = {
    matmul: (await alternate(`matmul ${p}`, matmulRounds, 1)).map((xs) => xs.map((x) => x.gflops)),
    step: (await alternate(`step ${p}`, steps, warmup)).map((xs) => xs.map((x) => x.ms)),
  };
const [ours, peer] = await Promise.all(engines.map((e) => e.ask('done')));
for (const p of precisions)
  [ours, peer].forEach((r, k) =>
    console.log(
      `${`${r.engine} ${p}`.padEnd(33)} matmul ${spread(results[p].matmul[k])} GFLOP/s  step ${spread(results[p].step[k])} ms`,
    ),
  );
console.log(`peak RSS: tandem ${ours.peak_rss_mib.toFixed(0)} MiB, PyTorch ${peer.peak_rss_mib.toFixed(0)} MiB`);
const ratio = (name, xs, ys) =>
  console.log(`${name}: ${(median(xs) / median(ys)).toFixed(3)} (per round ${spread(perRound(xs, ys), 3)})`);
const { fp32, bf16 } = results;
ratio('matmul_ratio_vs_pytorch', fp32.matmul[0], fp32.matmul[1]);
console.log(`peak_rss_ratio_vs_pytorch: ${(ours.peak_rss_mib / peer.peak_rss_mib).toFixed(3)}`);
if (bf16) {
  ratio('bf16_matmul_ratio_vs_pytorch', bf16.matmul[0], bf16.matmul[1]);
  ratio('bf16_step_time_ratio_vs_pytorch', bf16.step[0], bf16.step[1]);
  ratio('bf16_speedup_vs_fp32', fp32.step[0], bf16.step[0]);
  ratio('pytorch_bf16_speedup_vs_fp32', fp32.step[1], bf16.step[1]);
}
ratio('step_time_ratio_vs_pytorch', fp32.step[0], fp32.step[1]);
