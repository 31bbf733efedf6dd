// bench/recipes, tandem's side: one CE + ITC + ITM training step (convex weights 0.1 / 0.1, AdamW) of the
// late-fusion, ViLT and CLIP recipes at the sizes in the shapes file that run.mjs writes (the golden
// checkpoints' configs with base-size overrides, random weights, synthetic batches), in fp32 and under
// autocast. Prints one JSON line per recipe and precision: {recipe, precision, batch, step_s, samples_per_second}.
// Flags: --shapes=FILE --recipes=late-fusion,vilt,clip --precisions=fp32,bf16 --device=cuda --steps=10 --warmup=3
import { readFileSync } from 'node:fs';
import { classifierFromConfig, recipeConfigFor } from '../../src/multimodal/builder.js';
import type { MultimodalClassifier, RecipeConfig } from '../../src/multimodal/types.js';
import { AdamW, decayGroups } from '../../src/optim/index.js';
import { objectiveLosses } from '../../src/train/trainer.js';
import { manualSeed, synchronize, tidy, withPrecision, type Device, type Precision } from '../../src/tensor/index.js';
import { objectives, syntheticBatch } from '../synthetic.js';
import type { RecipeShape } from './shapes.js';

const args = Object.fromEntries(
  process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=')) as [string, string][],
);
const shapes = JSON.parse(readFileSync(args.shapes!, 'utf8')) as Record<string, RecipeShape>;
const device = (args.device ?? 'cuda') as Device;
const steps = Number(args.steps ?? 10);
const warmup = Number(args.warmup ?? 3);

/** Merges the overrides into the recipe config's sub-configs (one level of nesting, as CLIP's text_config). */
function override(target: Record<string, unknown>, patch: Record<string, unknown>): void {
  for (const [k, v] of Object.entries(patch)) {
    const t = target[k];
    if (v && typeof v === 'object' && t && typeof t === 'object') Object.assign(t, v);
    else target[k] = v;
  }
}

function build(name: string, s: RecipeShape): MultimodalClassifier {
  const spec = { recipe: name, ...s.folders, numLabels: 3, labelNames: ['a', 'b', 'c'] };
  const cfg = recipeConfigFor(spec as never) as RecipeConfig & Record<string, Record<string, unknown>>;
  for (const [sub, patch] of Object.entries(s.overrides)) override(cfg[sub]!, patch);
  const m = classifierFromConfig(cfg);
  if (device !== 'cpu') m.to(device);
  return m;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

for (const name of (args.recipes ?? 'late-fusion,vilt,clip').split(',')) {
  const s = shapes[name];
  if (!s) throw new Error(`bench/recipes: no shape for recipe ${name} (have ${Object.keys(shapes).join(', ')})`);
  manualSeed(0);
  const model = build(name, s);
  const b = syntheticBatch({ ...s, pixelMask: s.pixel_mask, device });
  model.train();
  for (const precision of (args.precisions ?? 'fp32,bf16').split(',') as Precision[]) {
    const opt = new AdamW(decayGroups(model, { weightDecay: 0.01 }), { lr: 1e-5 });
    const one = () =>
      tidy(() => {
        opt.zeroGrad();
        withPrecision(precision, device, () => objectiveLosses(model, b, objectives())).total.backward();
        opt.step();
      });
    for (let i = 0; i < warmup; i++) one();
    synchronize();
    const times = Array.from({ length: steps }, () => {
      const t0 = process.hrtime.bigint();
      one();
      synchronize();
      return Number(process.hrtime.bigint() - t0) / 1e9;
    });
    opt.dispose();
    const step = median(times);
    console.log(
      JSON.stringify({ recipe: name, precision, batch: s.batch, step_s: step, samples_per_second: s.batch / step }),
    );
  }
  model.dispose();
}
