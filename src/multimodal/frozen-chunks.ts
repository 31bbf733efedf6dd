/**
 * A frozen image encoder run on chunks of one fixed number of images, so that an image's features do not
 * depend on the other images it is computed with.
 *
 * Why: a matrix product's kernels pick their blocking and their split between threads (or GPU tiles) from
 * the number of rows, so the same image computed in a batch of 8 or of 3 differs in its last bits (measured
 * on the golden ViT, CPU, 1 and 2 threads: up to 4.8e-7 in fp32; ViT-base on an H200 with PyTorch's kernels:
 * up to 7e-6 in fp32, 3e-3 with TF32, 2.4e-2 in bf16). With the row count fixed, each row is computed by the
 * same arithmetic whatever the other rows hold (attention, layer norm and pooling are per image; a matrix
 * product's row reads only its own row): measured bit-identical in every one of those settings, whichever
 * position the image takes in its chunk and whatever fills the rest. So the training forward pass (a whole
 * batch) and a feature cache that computes only a batch's missing images give the same bits.
 *
 * A short chunk is padded with copies of its last image (real pixels: no all-zero or fully masked input that
 * some encoder could turn into NaN), whose outputs are dropped.
 */
import { cat, tidy, type Tensor } from '../tensor/index.js';
import { indexTensor } from './encoders.js';

export interface FrozenPixels {
  pixel_values: Tensor;
  pixel_mask?: Tensor;
}

/** Checks a chunk size: a positive integer, or undefined (the whole batch at once). */
export function checkChunkRows(rows: number | undefined, where: string): void {
  if (rows !== undefined && !(Number.isInteger(rows) && rows >= 1))
    throw new Error(`${where}: the frozen image encoder's chunk size must be a positive integer, got ${rows}`);
}

/**
 * `encode` (a frozen image encoder: N images in, N feature rows out) on `pixels` in chunks of exactly `rows`
 * images, the last one padded; the rows of the outputs in order. `rows` undefined runs it once on the batch.
 */
export function inFixedChunks(
  pixels: FrozenPixels,
  rows: number | undefined,
  encode: (chunk: FrozenPixels) => Tensor,
): Tensor {
  const n = pixels.pixel_values.size(0);
  if (rows === undefined || n === 0) return encode(pixels);
  checkChunkRows(rows, 'inFixedChunks');
  const device = pixels.pixel_values.device;
  const parts: Tensor[] = [];
  for (let start = 0; start < n; start += rows) {
    const k = Math.min(rows, n - start);
    // (each chunk in its own scope: the encoder's activations are freed before the next chunk runs)
    parts.push(
      tidy(() => {
        const take = (t: Tensor): Tensor => {
          if (k === rows) return k === n ? t : t.narrow(0, start, k);
          const index = Array.from({ length: rows }, (_, i) => start + Math.min(i, k - 1));
          return t.indexSelect(0, indexTensor(index, device));
        };
        const chunk: FrozenPixels = { pixel_values: take(pixels.pixel_values) };
        if (pixels.pixel_mask) chunk.pixel_mask = take(pixels.pixel_mask);
        const out = encode(chunk);
        const m = chunk.pixel_values.size(0);
        if (out.size(0) !== m)
          throw new Error(`inFixedChunks: the encoder returned ${out.size(0)} rows for a chunk of ${m} images`);
        return k === rows ? out : out.narrow(0, 0, k).contiguous();
      }),
    );
  }
  return parts.length === 1 ? parts[0]! : cat(parts, 0);
}
