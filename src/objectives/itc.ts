// Image-text contrastive learning (ITC), as CLIP and the paper's code: a symmetric cross-entropy over
// exp(t) · normalize(text) @ normalize(image)ᵀ within the batch, with a learnable temperature t.
// Beyond the paper: pairs that share a text or an image with the positive are masked as false negatives,
// and an optional queue of recent (detached) embeddings adds negatives when batches are small (8-16).
import { arange, cat, F, full, keep, noGrad, tensor, type Tensor } from '../tensor/index.js';

/** ln(1/0.07), CLIP's initial temperature (logit scale). */
export const ITC_INIT_LOGIT_SCALE = Math.log(1 / 0.07);
/** CLIP clamps exp(t) at 100 during training. */
export const ITC_MAX_LOGIT_SCALE = Math.log(100);

export interface ItcOptions {
  /**
   * Keys identifying each post's text and image (for example a hash of the text and of the image bytes);
   * entries with the same key as the positive are false negatives and are left out of the softmax.
   */
  textKeys?: readonly string[];
  imageKeys?: readonly string[];
  /** Extra negatives: detached normalised embeddings from earlier batches. */
  queue?: { text: Tensor; image: Tensor } | null;
  /** Clamp the logit scale at ln(100) as CLIP (default true). */
  clampScale?: boolean;
  /**
   * Data parallelism: every rank's embeddings and keys (src/train/data-parallel.ts), so that each post sees
   * the whole global batch as negatives. The loss is then the global batch's, on every rank.
   */
  gather?: ItcGather | null;
}

/** All ranks' rows and keys, this rank's rows (with gradients) at `offset`. */
export interface ItcGather {
  rows(x: Tensor): { all: Tensor; offset: number };
  keys(keys: readonly string[]): string[];
}

export interface ItcResult {
  loss: Tensor;
  /** [B, B] (+ queue columns): exp(t) · text @ imageᵀ */
  logitsPerText: Tensor;
  /** [B, B] (+ queue columns): exp(t) · image @ textᵀ */
  logitsPerImage: Tensor;
  /** Normalised embeddings (for the queue and for hard-negative mining; with `gather`, the global batch's). */
  textNorm: Tensor;
  imageNorm: Tensor;
  /** Where this process's posts start in the rows (0 without `gather`). */
  offset: number;
}

/** Boolean [B, B] mask, true where j ≠ i but key_j == key_i (a false negative for row i). */
function duplicateMask(keys: readonly string[]): number[] {
  const b = keys.length;
  const m = new Array<number>(b * b).fill(0);
  for (let i = 0; i < b; i++) for (let j = 0; j < b; j++) if (i !== j && keys[i] === keys[j]) m[i * b + j] = 1;
  return m;
}

export function itcLoss(textEmbeds: Tensor, imageEmbeds: Tensor, logitScale: Tensor, opts: ItcOptions = {}): ItcResult {
  let b = textEmbeds.size(0);
  if (imageEmbeds.size(0) !== b)
    throw new RangeError(`itcLoss: ${b} text embeddings but ${imageEmbeds.size(0)} image embeddings`);
  let t = F.normalize(textEmbeds, { dim: -1 });
  let v = F.normalize(imageEmbeds, { dim: -1 });
  let offset = 0;
  let { textKeys, imageKeys } = opts;
  if (opts.gather) {
    const gt = opts.gather.rows(t);
    t = gt.all;
    v = opts.gather.rows(v).all;
    offset = gt.offset;
    if (textKeys) textKeys = opts.gather.keys(textKeys);
    if (imageKeys) imageKeys = opts.gather.keys(imageKeys);
    b = t.size(0);
  }
  const scale = ((opts.clampScale ?? true) ? logitScale.clamp(null, ITC_MAX_LOGIT_SCALE) : logitScale).exp();
  let perText = t.matmul((opts.queue ? cat([v, opts.queue.image]) : v).transpose(0, 1)).mul(scale);
  let perImage = v.matmul((opts.queue ? cat([t, opts.queue.text]) : t).transpose(0, 1)).mul(scale);
  const masks: number[][] = [];
  if (textKeys) masks.push(duplicateMask(textKeys));
  if (imageKeys) masks.push(duplicateMask(imageKeys));
  if (masks.length) {
    const merged = masks[0]!.map((_, k) => (masks.some((m) => m[k]) ? 1 : 0));
    if (merged.some((x) => x)) {
      const m = tensor(merged, { dtype: 'bool', shape: [b, b], device: textEmbeds.device });
      const pad = (x: Tensor) =>
        x.size(1) > b ? cat([m, full([b, x.size(1) - b], 0, { dtype: 'bool', device: textEmbeds.device })], 1) : m;
      // Masked with a large negative (not -inf) so that gradients stay finite.
      perText = perText.maskedFill(pad(perText), -1e4);
      perImage = perImage.maskedFill(pad(perImage), -1e4);
    }
  }
  const targets = arange(b, undefined, 1, { device: textEmbeds.device });
  const loss = F.crossEntropy(perText, targets).add(F.crossEntropy(perImage, targets)).div(2);
  return { loss, logitsPerText: perText, logitsPerImage: perImage, textNorm: t, imageNorm: v, offset };
}

/**
 * A FIFO of recent normalised embeddings (MoCo/ALBEF style) so that each ITC step sees `size` extra
 * negatives. Entries are detached: gradients flow only through the current batch.
 */
export class ItcQueue {
  text: Tensor | null = null;
  image: Tensor | null = null;
  constructor(readonly size: number) {
    if (!Number.isInteger(size) || size < 1)
      throw new RangeError(`ItcQueue: size must be a positive integer, got ${size}`);
  }
  /** The queue for itcLoss, or null while empty. */
  get current(): { text: Tensor; image: Tensor } | null {
    return this.text && this.image ? { text: this.text, image: this.image } : null;
  }
  /** Adds a batch (newest first) and drops the oldest beyond `size`. */
  push(textNorm: Tensor, imageNorm: Tensor): void {
    const next = (old: Tensor | null, add: Tensor) =>
      keep(
        noGrad(() => {
          const d = add.detach();
          const all = old ? cat([d, old]) : d.clone();
          return all.size(0) > this.size ? all.slice(0, 0, this.size).contiguous() : all;
        }),
      );
    const [t, i] = [next(this.text, textNorm), next(this.image, imageNorm)];
    this.text?.dispose();
    this.image?.dispose();
    this.text = t;
    this.image = i;
  }
  clear(): void {
    this.text?.dispose();
    this.image?.dispose();
    this.text = this.image = null;
  }
}
