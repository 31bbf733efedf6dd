#!/usr/bin/env node
// bench/recipes: training samples per second of the late-fusion, ViLT and CLIP recipes with CE + ITC + ITM
// at the sizes users fine-tune on a GPU (shapes.ts), tandem (step.ts, the real recipes and trainer's
// objectives) next to the same recipes written over transformers (torch_recipes.py) on the same device, in
// fp32 and bf16 autocast. Prints a line per recipe and precision, then
// `<recipe>_<precision>_step_time_ratio_vs_pytorch: <x>` (tandem's median step time over PyTorch's) and last
// `recipes_worst_step_time_ratio_vs_pytorch`. Made for a GPU (scripts/device-check.sh runs it there); on a
// CPU use --layers 1 and expect minutes. The peer needs transformers: TANDEM_BENCH_PYTHON names a Python that
// has it (a PyTorch wheel's; Debian's python3-torch has none).
// Flags (--k=v): --device (cuda) --recipes (late-fusion,vilt,clip) --precisions (fp32,bf16) --steps (10)
// --warmup (3) --layers (12)
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { root, env, python } from '../env.mjs';

const FLAGS = {
  device: 'cuda',
  recipes: 'late-fusion,vilt,clip',
  precisions: 'fp32,bf16',
  steps: '10',
  warmup: '3',
  layers: '12',
};
const flags = { ...FLAGS };
for (const a of process.argv.slice(2)) {
  const m = /^--([a-z]+)=(.+)$/.exec(a);
  if (a === '--help' || a === '-h') {
    console.log(
      `usage: node bench/recipes/run.mjs ${Object.entries(FLAGS)
        .map(([k, v]) => `[--${k}=${v}]`)
        .join(' ')}`,
    );
    process.exit(0);
  }
  if (!m || !(m[1] in FLAGS)) {
    console.error(
      `bench/recipes: unknown argument ${a} (flags: ${Object.keys(FLAGS)
        .map((f) => `--${f}=`)
        .join(' ')})`,
    );
    process.exit(2);
  }
  flags[m[1]] = m[2];
}
for (const k of ['steps', 'warmup', 'layers'])
  if (!/^\d+$/.test(flags[k]) || (k !== 'warmup' && Number(flags[k]) < 1)) {
    console.error(
      `bench/recipes: --${k} needs a ${k === 'warmup' ? 'non-negative' : 'positive'} integer, got ${flags[k]}`,
    );
    process.exit(2);
  }
const { recipeShapes } = await import(join(root, 'dist', 'bench', 'recipes', 'shapes.js'));
const shapes = recipeShapes(join(root, 'test', 'fixtures', 'golden', 'models'), Number(flags.layers));
for (const r of flags.recipes.split(','))
  if (!shapes[r]) {
    console.error(`bench/recipes: --recipes takes ${Object.keys(shapes).join(', ')}; got ${r}`);
    process.exit(2);
  }
const probe = spawnSync(
  python,
  ['-c', 'import transformers, torch; print(transformers.__version__, torch.__version__)'],
  {
    encoding: 'utf8',
  },
);
if (probe.status !== 0) {
  console.error(
    `bench/recipes: the peer needs transformers in ${python} (set TANDEM_BENCH_PYTHON): ${probe.stderr.trim().split('\n').pop()}`,
  );
  process.exit(2);
}
const tmp = mkdtempSync(join(tmpdir(), 'tandem-bench-recipes-'));
const file = join(tmp, 'shapes.json');
writeFileSync(file, JSON.stringify(shapes));
const common = Object.entries(flags)
  .filter(([k]) => k !== 'layers')
  .map(([k, v]) => `--${k}=${v}`);
const rows = (cmd, args) => {
  const r = spawnSync(cmd, [...args, `--shapes=${file}`, ...common], { env, cwd: root, encoding: 'utf8' });
  if (r.status !== 0) {
    console.error(`${cmd} ${args.join(' ')} exited with ${r.status}:\n${r.stderr}`);
    process.exit(1);
  }
  return r.stdout
    .trim()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l));
};
try {
  const ours = rows(process.execPath, [join(root, 'dist', 'bench', 'recipes', 'step.js')]);
  const theirs = rows(python, [join(root, 'bench', 'recipes', 'torch_recipes.py')]);
  console.log(
    `device ${flags.device}; PyTorch ${probe.stdout.trim().split(' ')[1]}, transformers ${probe.stdout.split(' ')[0]}`,
  );
  const ratios = [];
  for (const a of ours) {
    const b = theirs.find((x) => x.recipe === a.recipe && x.precision === a.precision);
    const ratio = a.step_s / b.step_s;
    ratios.push(ratio);
    console.log(
      `${a.recipe.padEnd(12)} ${a.precision} batch ${a.batch}: tandem ${a.samples_per_second.toFixed(1)} samples/s, PyTorch ${b.samples_per_second.toFixed(1)} samples/s`,
    );
    console.log(`${a.recipe.replace('-', '_')}_${a.precision}_step_time_ratio_vs_pytorch: ${ratio.toFixed(3)}`);
  }
  console.log(`recipes_worst_step_time_ratio_vs_pytorch: ${Math.max(...ratios).toFixed(3)}`);
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
