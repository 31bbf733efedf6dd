// What the training benchmarks (bench/train, bench/recipes) share: a synthetic post batch (random token ids and
// pixels; the data pipeline is benchmarked on its own) and the objectives' options with the paper's weights.
import type { PostBatch } from '../src/multimodal/types.js';
import type { ObjectiveOptions } from '../src/train/trainer.js';
import { keep, ones, randint, randn, zeros, type Device } from '../src/tensor/index.js';

export interface BatchShape {
  batch: number;
  seq: number;
  image: number;
  /** Token ids are drawn from [5, vocab). */
  vocab: number;
  /** ViLT takes a pixel mask. */
  pixelMask?: boolean;
  device?: Device;
}

/** A batch of `batch` posts with 3 labels, kept (dispose with disposeBatch). */
export function syntheticBatch(s: BatchShape): PostBatch {
  const { batch: b, seq, image, device } = s;
  const ids = Array.from({ length: b }, (_, i) => `p${i}`);
  return keep({
    size: b,
    ids,
    text: {
      input_ids: randint(5, s.vocab, [b, seq], { device }),
      attention_mask: ones([b, seq], { dtype: 'int64', device }),
      token_type_ids: zeros([b, seq], { dtype: 'int64', device }),
    },
    image: {
      pixel_values: randn([b, 3, image, image], { device }),
      ...(s.pixelMask ? { pixel_mask: ones([b, image, image], { dtype: 'int64', device }) } : {}),
    },
    labels: randint(0, 3, [b], { device }),
    textKeys: ids.map((i) => `t${i}`),
    imageKeys: ids.map((i) => `i${i}`),
  }) as PostBatch;
}

/** Single-label CE with the given auxiliary objectives, random ITM negatives, convex weights 0.1 / 0.1. */
export function objectives(aux: { itc: boolean; itm: boolean } = { itc: true, itm: true }): ObjectiveOptions {
  return {
    multiLabel: false,
    classWeights: null,
    aux,
    itmNegatives: 'random',
    weights: { itc: 0.1, itm: 0.1, mode: 'convex' },
  };
}
