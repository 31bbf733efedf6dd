// Builds PostBatches by hand from the golden inputs (token ids, masks and pixels of four posts).
import { join } from 'node:path';
import { loadSafetensorsFile } from '../../src/io/tensors.js';
import type { Tensor } from '../../src/tensor/index.js';
import type { PostBatch } from '../../src/multimodal/types.js';
import { GOLDEN } from '../helpers/cli.js';

export const MODELS = join(GOLDEN, 'models');
export const dir = (name: string): string => join(MODELS, name);

/** The golden inputs of a model folder as tensors. */
export function goldenInputs(name: string): Map<string, Tensor> {
  return loadSafetensorsFile(join(MODELS, name, 'inputs.safetensors')).tensors;
}

/** A batch that carries both modalities and their keys (as every batch of an image-text model does). */
export type FullBatch = PostBatch & Required<Pick<PostBatch, 'text' | 'image' | 'textKeys' | 'imageKeys'>>;

/** A batch of the four golden posts: text from `textFrom`, pixels from `imageFrom` (vit by default). */
export function goldenBatch(textFrom: string, imageFrom = 'vit', opts: { pixelMask?: boolean } = {}): FullBatch {
  const t = goldenInputs(textFrom);
  const i = goldenInputs(imageFrom);
  const ids = t.get('input_ids')!;
  const B = ids.size(0);
  const mask = t.get('attention_mask') ?? ids.ne(-1).to('int64');
  const tt = t.get('token_type_ids');
  const pm = i.get('pixel_mask');
  return {
    size: B,
    ids: Array.from({ length: B }, (_, k) => `post${k}`),
    text: { input_ids: ids, attention_mask: mask, ...(tt ? { token_type_ids: tt } : {}) },
    image: { pixel_values: i.get('pixel_values')!, ...(opts.pixelMask && pm ? { pixel_mask: pm } : {}) },
    textKeys: Array.from({ length: B }, (_, k) => `t${k}`),
    imageKeys: Array.from({ length: B }, (_, k) => `i${k}`),
  };
}
