#!/usr/bin/env node
// bench/train: samples per second of a training step with CE only, +ITC, +ITM and +both, for late fusion and
// ViLT at reduced sizes (flags: --batch=16 --seq=48 --hidden=256 --layers=4 --image=96 --steps=8). The peer
// is the same classifier trained with CE only, run in the same process: the ratios say what each auxiliary
// objective costs. The last line is `late_fusion_itm_step_ratio: <x>` (goal: ITM adds at most 15%).
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { root, env } from '../env.mjs';

const r = spawnSync(process.execPath, [join(root, 'dist', 'bench', 'train', 'step.js'), ...process.argv.slice(2)], {
  env,
  encoding: 'utf8',
});
if (r.status !== 0) {
  console.error(r.stderr);
  process.exit(1);
}
const rows = r.stdout
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
