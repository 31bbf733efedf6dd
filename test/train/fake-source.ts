// In-process trainer fixtures: the tiny late-fusion model of the golden folders, batches cut from the four
// golden posts (with labels), a BatchSource over them, and trainer options with every knob set explicitly.
import { join } from 'node:path';
import { saveTensors } from '../../src/io/tensors.js';
import { buildClassifier } from '../../src/multimodal/builder.js';
import type { MultimodalClassifier, PostBatch } from '../../src/multimodal/types.js';
import { manualSeed, tensor, type Tensor } from '../../src/tensor/index.js';
import type { BatchSource, TrainHooks, TrainOptions } from '../../src/train/trainer.js';
import { goldenBatch } from '../multimodal/batch.js';
import { CASES } from '../multimodal/cases.js';

/** The golden posts' labels (3 classes). */
export const LABELS = [0, 1, 2, 0];

/** Late fusion BERT + ViT (tiny golden configs), GMU fusion (so that ITM can learn), no dropout. */
export function tinyModel(seed = 0): MultimodalClassifier {
  manualSeed(seed);
  return buildClassifier({ ...CASES[0]!.spec, fusion: 'gmu', dropout: 0 }, { init: 'pretrained' });
}

const golden = goldenBatch('bert', 'vit');

/** A fresh batch of some of the four golden posts (the trainer disposes what it is given). */
export function batchOf(rows: number[]): PostBatch {
  const idx = tensor(BigInt64Array.from(rows.map(BigInt)));
  const pick = (t: Tensor) => t.indexSelect(0, idx);
  const b: PostBatch = {
    size: rows.length,
    ids: rows.map((r) => golden.ids[r]!),
    text: {
      input_ids: pick(golden.text.input_ids),
      attention_mask: pick(golden.text.attention_mask),
      ...(golden.text.token_type_ids ? { token_type_ids: pick(golden.text.token_type_ids) } : {}),
    },
    image: { pixel_values: pick((golden.image as { pixel_values: Tensor }).pixel_values) },
    textKeys: rows.map((r) => golden.textKeys[r]!),
    imageKeys: rows.map((r) => golden.imageKeys[r]!),
    labels: tensor(BigInt64Array.from(rows.map((r) => BigInt(LABELS[r]!)))),
  };
  idx.dispose();
  return b;
}

/** A deterministic source: epoch e, batch i holds `plan(e, i)` (row indices); resumable at any (e, i). */
export function fakeSource(perEpoch: number, plan: (epoch: number, i: number) => number[]): BatchSource {
  let position = 0;
  return {
    batchesPerEpoch: () => perEpoch,
    position: () => position,
    async *batches(epoch: number, start: number) {
      for (let i = start; i < perEpoch; i++) {
        position = i + 1;
        yield batchOf(plan(epoch, i));
      }
    },
  };
}

/** Trainer options with no schedule, clipping, auxiliary loss or early stopping unless a test turns it on. */
export function options(out: string, over: Partial<TrainOptions> = {}): TrainOptions {
  return {
    out,
    epochs: 1,
    lr: 1e-2,
    weightDecay: 0,
    warmupRatio: 0,
    schedule: 'constant',
    maxGradNorm: null,
    gradAccumulation: 1,
    seed: 0,
    aux: { itc: false, itm: false },
    weights: { itc: 0.1, itm: 0.1, mode: 'convex' },
    itmNegatives: 'random',
    itcQueueSize: 0,
    classWeights: null,
    multiLabel: false,
    metric: 'f1',
    patience: 0,
    decayExempt: 'none',
    saveEvery: 0,
    progress: false,
    ...over,
  };
}

/** Hooks that save the weights only (all `finish` reloads) and evaluate to `dev(epoch)` (null: no dev split). */
export function hooks(
  model: MultimodalClassifier,
  dev: ((call: number) => number) | null = null,
  onStep?: TrainHooks['onStep'],
): TrainHooks & { devCalls: number } {
  const h = {
    devCalls: 0,
    saveModel: (dir: string) => saveTensors(join(dir, 'model.safetensors'), model.stateDict()),
    evaluate: async (split: 'dev' | 'test') => {
      if (!dev || split === 'test') return null;
      return { metrics: { f1: dev(h.devCalls++) } };
    },
    ...(onStep ? { onStep } : {}),
  };
  return h;
}

/** The trainable parameters' values as plain numbers, by name. */
export function trainableValues(model: MultimodalClassifier): Map<string, number[]> {
  return new Map(model.trainableParameters().map(([n, p]) => [n, p.toArray()]));
}

export function maxAbsDiff(a: Map<string, number[]>, b: Map<string, number[]>): number {
  let m = 0;
  for (const [n, x] of a) {
    const y = b.get(n)!;
    for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i]! - y[i]!));
  }
  return m;
}
