#!/usr/bin/env node
// bench/train: samples per second of a training step with CE only, +ITC, +ITM and +both, for late fusion and
// ViLT at reduced sizes (flags: --batch=16 --seq=48 --hidden=256 --layers=4 --image=96 --steps=8). The peer
// is the same classifier trained with CE only, run in the same process: the ratios say what each auxiliary
// objective costs. Then the paper-scale step (paper-scale.ts: BERT-base + frozen ViT-B/16, batch 8) in fp32
// and bf16, printing `paper_scale_bf16_samples_per_second`, `paper_scale_bf16_speedup` and the end-of-run
// evaluation time before/after (--no-paper-scale skips it; --paper-scale-only runs only it; flags of the form
// --paper-<flag>=<v> go to it, e.g. --paper-steps=2 --paper-device=cuda). The last line is
// `late_fusion_itm_step_ratio: <x>` (goal: ITM adds at most 15%).
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { root, env } from '../env.mjs';

const argv = process.argv.slice(2);
const paperArgs = argv
  .filter((a) => a.startsWith('--paper-') && a.includes('='))
  .map((a) => a.replace('--paper-', '--'));
const ownArgs = argv.filter((a) => !a.startsWith('--paper-') && a !== '--no-paper-scale');
function node(file, args) {
  const r = spawnSync(process.execPath, [join(root, 'dist', 'bench', 'train', file), ...args], {
    env,
    encoding: 'utf8',
  });
  if (r.status !== 0) {
    console.error(r.stderr);
    process.exit(1);
  }
  return r.stdout;
}
if (!argv.includes('--no-paper-scale')) {
  const p = JSON.parse(node('paper-scale.js', paperArgs).trim().split('\n').pop());
  console.log(
    `paper scale (late fusion BERT-base + frozen ViT-B/16, CE+ITC+ITM, batch ${p.batch}, seq ${p.seq}, ${p.device}, ${p.threads} threads): fp32 ${p.paper_scale_fp32_samples_per_second.toFixed(2)} samples/s, bf16 ${p.paper_scale_bf16_samples_per_second.toFixed(2)} samples/s`,
  );
  console.log(
    `evaluation of ${p.eval_posts_per_split} posts per split, batch ${p.eval_batch}: end of run ${p.end_of_run_eval_s_before.toFixed(0)} s before -> ${p.end_of_run_eval_s_after.toFixed(0)} s after (${p.end_of_run_eval_s_after_bf16.toFixed(0)} s in bf16); each later epoch's dev evaluation ${p.per_epoch_dev_eval_s_before.toFixed(0)} s -> ${p.per_epoch_dev_eval_s_after.toFixed(0)} s (${p.per_epoch_dev_eval_s_after_bf16.toFixed(0)} s in bf16)`,
  );
  console.log(`paper_scale_fp32_samples_per_second: ${p.paper_scale_fp32_samples_per_second.toFixed(3)}`);
  console.log(`paper_scale_bf16_samples_per_second: ${p.paper_scale_bf16_samples_per_second.toFixed(3)}`);
  console.log(`paper_scale_bf16_speedup: ${p.paper_scale_bf16_speedup.toFixed(3)}`);
  console.log(`end_of_run_eval_seconds_before: ${p.end_of_run_eval_s_before.toFixed(1)}`);
  console.log(`end_of_run_eval_seconds_after: ${p.end_of_run_eval_s_after.toFixed(1)}`);
}
if (argv.includes('--paper-scale-only')) process.exit(0);
const rows = node('step.js', ownArgs)
  .trim()
  .split('\n')
  .map((l) => JSON.parse(l));
const base = Object.fromEntries(rows.filter((x) => x.objectives === 'ce').map((x) => [x.recipe, x.step_ms]));
console.log(`threads: ${rows[0].threads}; LD_PRELOAD=${env.LD_PRELOAD ?? ''}`);
for (const x of rows)
  console.log(
    `${x.recipe.padEnd(12)} ${x.objectives.padEnd(11)} ${x.samples_per_second.toFixed(1).padStart(7)} samples/s  step ${x.step_ms.toFixed(0).padStart(6)} ms  x${(x.step_ms / base[x.recipe]).toFixed(3)} vs CE only`,
  );
const lf = Object.fromEntries(rows.filter((x) => x.recipe === 'late-fusion').map((x) => [x.objectives, x.step_ms]));
console.log(`late_fusion_itc_step_ratio: ${(lf['ce+itc'] / lf.ce).toFixed(3)}`);
console.log(`late_fusion_itc_itm_vs_itc_step_ratio: ${(lf['ce+itc+itm'] / lf['ce+itc']).toFixed(3)}`);
console.log(`late_fusion_itm_step_ratio: ${(lf['ce+itm'] / lf.ce).toFixed(3)}`);
