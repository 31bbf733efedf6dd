// bench/train, paper scale: the paper's late fusion configuration (BERT-base text encoder + frozen ViT-B/16,
// concat fusion, CE + ITC + ITM, batch 8, 224 px) with random weights, one training step in fp32 and in bf16
// (autocast), and the end-of-run evaluation cost before and after this change (before: dev evaluated again
// from pixels and then test; after: dev's best-checkpoint metrics reused, test only). Also the per-epoch dev
// evaluation with and without the frozen image features computed once per run. Prints one JSON line.
// Flags: --steps=3 --warmup=1 --seq=64 --batch=8 --eval-batch=16 --eval-posts=450 --layers=12 --device=cpu.
import { join } from 'node:path';
import { packageRoot } from '../../src/runtime/package-root.js';
import { classifierFromConfig, recipeConfigFor } from '../../src/multimodal/builder.js';
import type { MultimodalClassifier, PostBatch, RecipeConfig } from '../../src/multimodal/types.js';
import { AdamW, decayGroups } from '../../src/optim/index.js';
import { objectiveLosses } from '../../src/train/trainer.js';
import { objectives, syntheticBatch } from '../synthetic.js';
import {
  getNumThreads,
  keep,
  manualSeed,
  noGrad,
  synchronize,
  tidy,
  withPrecision,
  type Device,
  type Precision,
} from '../../src/tensor/index.js';

const GOLDEN = join(packageRoot(import.meta.url), 'test', 'fixtures', 'golden', 'models');
const args = Object.fromEntries(
  process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=')) as [string, string][],
);
const steps = Number(args.steps ?? 3);
const warmup = Number(args.warmup ?? 1);
const seq = Number(args.seq ?? 64);
const batchSize = Number(args.batch ?? 8);
const evalBatch = Number(args['eval-batch'] ?? 2 * batchSize);
const evalPosts = Number(args['eval-posts'] ?? 450);
const layers = Number(args.layers ?? 12);
const device = (args.device ?? 'cpu') as Device;
const base = { hidden_size: 768, num_hidden_layers: layers, num_attention_heads: 12, intermediate_size: 3072 };

function build(): MultimodalClassifier {
  const labels = ['a', 'b', 'c'];
  const spec = {
    recipe: 'late-fusion',
    textModel: join(GOLDEN, 'bert'),
    imageModel: join(GOLDEN, 'vit'),
    numLabels: 3,
    labelNames: labels,
  };
  const cfg = recipeConfigFor(spec as never) as RecipeConfig & Record<string, Record<string, unknown>>;
  Object.assign(cfg.text_config!, base, { max_position_embeddings: 512, vocab_size: 30522 });
  Object.assign(cfg.vision_config!, base, { image_size: 224, patch_size: 16 });
  const m = classifierFromConfig(cfg) as MultimodalClassifier;
  if (device !== 'cpu') m.to(device);
  return m;
}

const batch = (b: number): PostBatch => syntheticBatch({ batch: b, seq, image: 224, vocab: 30000, device });

const seconds = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e9;
function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

manualSeed(0);
const model = build();
const train = batch(batchSize);
const o = objectives();

function trainStep(precision: Precision): number {
  const opt = new AdamW(decayGroups(model, { weightDecay: 2.5e-4 }), { lr: 1e-5 });
  model.train();
  const one = () =>
    tidy(() => {
      opt.zeroGrad();
      withPrecision(precision, device, () => objectiveLosses(model, train, o)).total.backward();
      opt.step();
      synchronize();
    });
  for (let i = 0; i < warmup; i++) one();
  const times = Array.from({ length: steps }, () => {
    const t0 = process.hrtime.bigint();
    one();
    return seconds(t0);
  });
  opt.dispose();
  return median(times);
}

/** Seconds per evaluation batch: from pixels (the frozen encoder runs) or from precomputed features. */
function evalBatchSeconds(precision: Precision, fromFeatures: boolean): number {
  model.eval();
  const b = batch(evalBatch);
  const features = fromFeatures
    ? keep(
        noGrad(() =>
          withPrecision(precision, device, () => model.frozenImageFeatures!(b.image as never)).to('float32'),
        ),
      )
    : null;
  const input = features ? ({ ...b, image: { features } } as PostBatch) : b;
  const once = () =>
    tidy(() =>
      noGrad(() => {
        withPrecision(precision, device, () => model.classify(model.encode(input).pair))
          .to('float32')
          .softmax(-1)
          .toArray();
      }),
    );
  once();
  const times = Array.from({ length: Math.max(1, steps - 1) }, () => {
    const t0 = process.hrtime.bigint();
    once();
    return seconds(t0);
  });
  features?.dispose();
  return median(times);
}

const fp32Step = trainStep('fp32');
const bf16Step = trainStep('bf16');
const evalFull = { fp32: evalBatchSeconds('fp32', false), bf16: evalBatchSeconds('bf16', false) };
const evalCached = { fp32: evalBatchSeconds('fp32', true), bf16: evalBatchSeconds('bf16', true) };
const perSplit = (s: number) => Math.ceil(evalPosts / evalBatch) * s;
console.log(
  JSON.stringify({
    threads: getNumThreads(),
    device,
    batch: batchSize,
    seq,
    eval_batch: evalBatch,
    eval_posts_per_split: evalPosts,
    fp32_step_s: fp32Step,
    bf16_step_s: bf16Step,
    paper_scale_fp32_samples_per_second: batchSize / fp32Step,
    paper_scale_bf16_samples_per_second: batchSize / bf16Step,
    paper_scale_bf16_speedup: fp32Step / bf16Step,
    eval_batch_s: { from_pixels: evalFull, from_features: evalCached },
    // End of run: before, dev was evaluated again (from pixels) and then test; now dev's metrics are reused.
    end_of_run_eval_s_before: 2 * perSplit(evalFull.fp32),
    end_of_run_eval_s_after: perSplit(evalFull.fp32),
    end_of_run_eval_s_after_bf16: perSplit(evalFull.bf16),
    // Each later epoch's dev evaluation: before from pixels, now from the features computed at the first one.
    per_epoch_dev_eval_s_before: perSplit(evalFull.fp32),
    per_epoch_dev_eval_s_after: perSplit(evalCached.fp32),
    per_epoch_dev_eval_s_after_bf16: perSplit(evalCached.bf16),
  }),
);
model.dispose();
