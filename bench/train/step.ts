// bench/train: training samples per second of a classifier with CE only, +ITC, +ITM and +both, for late
// fusion (BERT + ViT, reduced sizes) and ViLT (reduced), on synthetic batches (random token ids and
// pixels: the data pipeline is benchmarked separately). Prints one JSON line per configuration.
import { join } from 'node:path';
import { packageRoot } from '../../src/runtime/package-root.js';
import { classifierFromConfig, recipeConfigFor } from '../../src/multimodal/builder.js';
import type { MultimodalClassifier, RecipeConfig } from '../../src/multimodal/types.js';
import { AdamW, decayGroups } from '../../src/optim/index.js';
import { objectiveLosses } from '../../src/train/trainer.js';
import { manualSeed, tidy, getNumThreads } from '../../src/tensor/index.js';
import { objectives, syntheticBatch } from '../synthetic.js';

const GOLDEN = join(packageRoot(import.meta.url), 'test', 'fixtures', 'golden', 'models');

const args = Object.fromEntries(
  process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=')) as [string, string][],
);
const steps = Number(args.steps ?? 8);
const warmup = Number(args.warmup ?? 2);
const batchSize = Number(args.batch ?? 16);
const seq = Number(args.seq ?? 48);
const hidden = Number(args.hidden ?? 256);
const layers = Number(args.layers ?? 4);
const image = Number(args.image ?? 96);

const sizes = {
  hidden_size: hidden,
  num_hidden_layers: layers,
  num_attention_heads: hidden / 64,
  intermediate_size: 4 * hidden,
};

function build(recipe: 'late-fusion' | 'vilt'): MultimodalClassifier {
  const labels = ['a', 'b', 'c'];
  const spec =
    recipe === 'late-fusion'
      ? { recipe, textModel: join(GOLDEN, 'bert'), imageModel: join(GOLDEN, 'vit'), numLabels: 3, labelNames: labels }
      : { recipe, model: join(GOLDEN, 'vilt'), numLabels: 3, labelNames: labels };
  const cfg = recipeConfigFor(spec as never) as RecipeConfig & Record<string, Record<string, unknown>>;
  if (recipe === 'late-fusion') {
    Object.assign(cfg.text_config!, sizes, { max_position_embeddings: 512 });
    Object.assign(cfg.vision_config!, sizes, { image_size: image, patch_size: 16 });
  } else Object.assign(cfg.model_config!, sizes, { image_size: image, patch_size: 16, max_position_embeddings: 512 });
  return classifierFromConfig(cfg) as MultimodalClassifier;
}

manualSeed(0);
for (const recipe of ['late-fusion', 'vilt'] as const) {
  const model = build(recipe);
  model.train();
  const data = syntheticBatch({ batch: batchSize, seq, image, vocab: 300, pixelMask: recipe === 'vilt' });
  for (const [name, aux] of [
    ['ce', { itc: false, itm: false }],
    ['ce+itc', { itc: true, itm: false }],
    ['ce+itm', { itc: false, itm: true }],
    ['ce+itc+itm', { itc: true, itm: true }],
  ] as const) {
    const opt = new AdamW(decayGroups(model, { weightDecay: 2.5e-4 }), { lr: 1e-5 });
    const o = objectives(aux);
    const step = () =>
      tidy(() => {
        opt.zeroGrad();
        objectiveLosses(model, data, o).total.backward();
        opt.step();
      });
    for (let i = 0; i < warmup; i++) step();
    const times: number[] = [];
    for (let i = 0; i < steps; i++) {
      const t0 = process.hrtime.bigint();
      step();
      times.push(Number(process.hrtime.bigint() - t0) / 1e9);
    }
    times.sort((a, b) => a - b);
    const median = times[Math.floor(times.length / 2)]!;
    console.log(
      JSON.stringify({
        recipe,
        objectives: name,
        step_ms: median * 1000,
        samples_per_second: batchSize / median,
        threads: getNumThreads(),
      }),
    );
    opt.dispose();
  }
  model.dispose();
}
