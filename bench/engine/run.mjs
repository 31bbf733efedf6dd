#!/usr/bin/env node
// bench/engine: runs tandem's and PyTorch's (Debian python3-torch) versions of the same benchmark, one after
// the other, with the same thread count and allocator settings, and prints their ratio. The last line is
// `step_time_ratio_vs_pytorch: <x>` (tandem's median step time / PyTorch's; goal at most 1.10).
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { root, threads, env, python } from '../env.mjs';

const extra = process.argv.slice(2);

function run(cmd, args) {
  const r = spawnSync(cmd, args, { env, cwd: root, encoding: 'utf8' });
  if (r.status !== 0) {
    console.error(`${cmd} ${args.join(' ')} failed:\n${r.stderr}`);
    process.exit(1);
  }
  return JSON.parse(r.stdout.trim().split('\n').pop());
}

console.log(
  `threads: ${threads}; LD_PRELOAD=${env.LD_PRELOAD ?? ''}; OMP_WAIT_POLICY=${env.OMP_WAIT_POLICY}; OPENBLAS_CORETYPE=${env.OPENBLAS_CORETYPE ?? '(unset)'}`,
);
const ours = run(process.execPath, [join(root, 'dist', 'bench', 'engine', 'step.js'), ...extra]);
const peer = run(python, [join(root, 'bench', 'engine', 'torch_step.py'), `--threads=${threads}`, ...extra]);
for (const r of [ours, peer])
  console.log(
    `${r.engine.padEnd(28)} matmul ${r.matmul_gflops.toFixed(1)} GFLOP/s  step ${r.step_ms_median.toFixed(1)} ms (min ${r.step_ms_min.toFixed(1)})  peak RSS ${r.peak_rss_mib.toFixed(0)} MiB`,
  );
console.log(`matmul_ratio_vs_pytorch: ${(ours.matmul_gflops / peer.matmul_gflops).toFixed(3)}`);
console.log(`peak_rss_ratio_vs_pytorch: ${(ours.peak_rss_mib / peer.peak_rss_mib).toFixed(3)}`);
console.log(`step_time_ratio_vs_pytorch: ${(ours.step_ms_median / peer.step_ms_median).toFixed(3)}`);
