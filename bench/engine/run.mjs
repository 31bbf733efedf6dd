#!/usr/bin/env node
// bench/engine: runs tandem's and PyTorch's (Debian python3-torch) versions of the same benchmark, one after
// the other, with the same thread count and allocator settings, and prints their ratio, in fp32 and then in
// bf16 (tandem's autocast beside torch.autocast). Lines: `step_time_ratio_vs_pytorch: <x>` (fp32, tandem's
// median step time / PyTorch's; goal at most 1.10), `bf16_step_time_ratio_vs_pytorch` (goal at most 1.05) and
// `bf16_speedup_vs_fp32` (tandem's fp32 step time / its bf16 step time). --device=cuda runs both on a GPU;
// --no-bf16 skips the bf16 rows.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { root, threads, env, python } from '../env.mjs';

const noBf16 = process.argv.includes('--no-bf16');
const extra = process.argv.slice(2).filter((a) => a !== '--no-bf16');

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
const pair = (precision) => [
  run(process.execPath, [join(root, 'dist', 'bench', 'engine', 'step.js'), `--precision=${precision}`, ...extra]),
  run(python, [
    join(root, 'bench', 'engine', 'torch_step.py'),
    `--threads=${threads}`,
    `--precision=${precision}`,
    ...extra,
  ]),
];
const [ours, peer] = pair('fp32');
const [ours16, peer16] = noBf16 ? [null, null] : pair('bf16');
for (const r of [ours, peer, ours16, peer16].filter(Boolean))
  console.log(
    `${r.engine.padEnd(34)} matmul ${r.matmul_gflops.toFixed(1)} GFLOP/s  step ${r.step_ms_median.toFixed(1)} ms (min ${r.step_ms_min.toFixed(1)})  peak RSS ${r.peak_rss_mib.toFixed(0)} MiB`,
  );
console.log(`matmul_ratio_vs_pytorch: ${(ours.matmul_gflops / peer.matmul_gflops).toFixed(3)}`);
console.log(`peak_rss_ratio_vs_pytorch: ${(ours.peak_rss_mib / peer.peak_rss_mib).toFixed(3)}`);
if (ours16) {
  console.log(`bf16_step_time_ratio_vs_pytorch: ${(ours16.step_ms_median / peer16.step_ms_median).toFixed(3)}`);
  console.log(`bf16_speedup_vs_fp32: ${(ours.step_ms_median / ours16.step_ms_median).toFixed(3)}`);
}
console.log(`step_time_ratio_vs_pytorch: ${(ours.step_ms_median / peer.step_ms_median).toFixed(3)}`);
