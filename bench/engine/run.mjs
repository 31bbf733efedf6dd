#!/usr/bin/env node
// bench/engine: tandem's and PyTorch's (Debian python3-torch) versions of the same benchmark, with the same
// thread count and allocator settings. Both processes stay up and take turns measurement by measurement
// (tandem, PyTorch, PyTorch, tandem, ...), so load from other processes on the machine falls on both alike;
// each figure is a median with its spread (min-max over the rounds) and the ratio's spread over the rounds.
// The last line is `step_time_ratio_vs_pytorch: <x>` (median of tandem's step time / PyTorch's; goal <= 1.10).
// Flags: --steps=N (20) --warmup=N (5) --matmul=N (7 rounds of 5 products of 1024 x 1024 matrices).
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { root, threads, env, python } from '../env.mjs';

const flags = Object.fromEntries(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=')));
const steps = Number(flags.steps ?? 20);
const warmup = Number(flags.warmup ?? 5);
const matmulRounds = Number(flags.matmul ?? 7);

/** A child that answers one JSON line per command line (step.ts / torch_step.py with --serve). */
function serve(cmd, args) {
  const child = spawn(cmd, args, { env, cwd: root, stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const lines = createInterface({ input: child.stdout });
  const queue = [];
  const waiting = [];
  const fail = (why) => {
    console.error(`${cmd} ${args.join(' ')} ${why}:\n${stderr}`);
    process.exit(1);
  };
  lines.on('line', (l) => (waiting.length ? waiting.shift()(l) : queue.push(l)));
  child.on('exit', (code) => code !== 0 && fail(`exited with ${code}`));
  const next = () => (queue.length ? Promise.resolve(queue.shift()) : new Promise((r) => waiting.push(r)));
  return {
    async ask(command) {
      if (command !== null) child.stdin.write(`${command}\n`);
      const line = await next();
      try {
        return JSON.parse(line);
      } catch {
        return fail(`answered ${JSON.stringify(line)}`);
      }
    },
  };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const spread = (xs, digits = 1) =>
  `${median(xs).toFixed(digits)} (${Math.min(...xs).toFixed(digits)}-${Math.max(...xs).toFixed(digits)})`;

console.log(
  `threads: ${threads}; LD_PRELOAD=${env.LD_PRELOAD ?? ''}; OMP_WAIT_POLICY=${env.OMP_WAIT_POLICY}; OPENBLAS_CORETYPE=${env.OPENBLAS_CORETYPE ?? '(unset)'}; alternating between the engines, median (min-max)`,
);
const engines = [
  serve(process.execPath, [join(root, 'dist', 'bench', 'engine', 'step.js'), '--serve']),
  serve(python, [join(root, 'bench', 'engine', 'torch_step.py'), `--threads=${threads}`, '--serve']),
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

const matmul = (await alternate('matmul', matmulRounds, 1)).map((xs) => xs.map((x) => x.gflops));
const step = (await alternate('step', steps, warmup)).map((xs) => xs.map((x) => x.ms));
const [ours, peer] = await Promise.all(engines.map((e) => e.ask('done')));
[ours, peer].forEach((r, k) =>
  console.log(
    `${r.engine.padEnd(28)} matmul ${spread(matmul[k])} GFLOP/s  step ${spread(step[k])} ms  peak RSS ${r.peak_rss_mib.toFixed(0)} MiB`,
  ),
);
const perRound = (xs, ys) => xs.map((x, i) => x / ys[i]);
console.log(
  `matmul_ratio_vs_pytorch: ${(median(matmul[0]) / median(matmul[1])).toFixed(3)} (per round ${spread(perRound(matmul[0], matmul[1]), 3)})`,
);
console.log(`peak_rss_ratio_vs_pytorch: ${(ours.peak_rss_mib / peer.peak_rss_mib).toFixed(3)}`);
console.log(
  `step_time_ratio_vs_pytorch: ${(median(step[0]) / median(step[1])).toFixed(3)} (per round ${spread(perRound(step[0], step[1]), 3)})`,
);
