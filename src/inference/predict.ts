// Probabilities from a classifier: for one batch, for every batch a loader yields, and as labelled
// predictions (class names, the arg-max or the multi-label set).
import { disposeBatch, type BatchLoader } from '../data/pipeline/index.js';
import type { MultimodalClassifier, PostBatch } from '../multimodal/types.js';
import { F, noGrad, tidy, withPrecision, type Device, type Precision } from '../tensor/index.js';

/** Predictions of a set of posts: ids, class probabilities and (when the batches carried labels) the truth. */
export interface Predictions {
  ids: string[];
  probs: number[][];
  /** Class indices (single-label) or 0/1 rows (multi-label); null when any batch had no labels. */
  truth: number[][] | number[] | null;
  /**
   * With the truth: the mean loss of the posts, unweighted cross-entropy (multi-label: binary cross-entropy
   * averaged over the classes), from the logits. The dev loss of training's per-epoch lines.
   */
  loss?: number;
  /** The sum of the posts' losses behind `loss` (data parallelism adds the ranks' sums). */
  lossSum?: number;
}

/**
 * Class probabilities of one batch (softmax, or sigmoid per class when multi-label), one row per post, and
 * the batch's labels as plain numbers. No gradients; the caller sets eval mode and disposes the batch.
 */
/** The precision of a forward pass and the device it runs on. */
export interface PrecisionOn {
  precision: Precision;
  device: Device;
}
const FP32_CPU: PrecisionOn = { precision: 'fp32', device: 'cpu' };

export function predictBatch(
  model: MultimodalClassifier,
  batch: PostBatch,
  multiLabel: boolean,
  precision: PrecisionOn = FP32_CPU,
): { probs: number[][]; truth: number[][] | number[] | null; losses: number[] | null } {
  return noGrad(() =>
    tidy(() => {
      // Probabilities in fp32 whatever precision the forward pass ran in.
      const logits = withPrecision(precision.precision, precision.device, () =>
        model.classify(model.encode(batch).pair),
      ).to('float32');
      const p = (multiLabel ? logits.sigmoid() : logits.softmax(-1)).toArray();
      const k = logits.size(1);
      const probs: number[][] = [];
      const rowOf = (a: number[], i: number) => a.slice(i * k, (i + 1) * k);
      for (let i = 0; i < batch.size; i++) probs.push(rowOf(p, i));
      if (!batch.labels) return { probs, truth: null, losses: null };
      const t = batch.labels.toArray();
      // each post's loss, unweighted (multi-label: binary cross-entropy averaged over the classes)
      if (!multiLabel)
        return { probs, truth: t, losses: F.crossEntropy(logits, batch.labels, { reduction: 'none' }).toArray() };
      const rows: number[][] = [];
      for (let i = 0; i < batch.size; i++) rows.push(rowOf(t, i));
      const bce = F.binaryCrossEntropyWithLogits(logits, batch.labels.to('float32'), { reduction: 'none' });
      return { probs, truth: rows, losses: bce.mean(1).toArray() };
    }),
  );
}

/**
 * Predicted probabilities, true labels and the mean loss for every post a loader yields (eval mode, no
 * gradients); `onProgress(posts done, posts in all)` after each batch.
 */
export async function predictAll(
  model: MultimodalClassifier,
  loader: BatchLoader,
  multiLabel: boolean,
  precision: PrecisionOn = FP32_CPU,
  onProgress?: (done: number, total: number) => void,
): Promise<Predictions> {
  model.eval();
  const ids: string[] = [];
  const probs: number[][] = [];
  const truth: (number | number[])[] = [];
  let hasTruth = true;
  let lossSum = 0;
  for await (const batch of loader.epoch(0)) {
    try {
      const r = predictBatch(model, batch, multiLabel, precision);
      probs.push(...r.probs);
      ids.push(...batch.ids);
      if (r.truth) truth.push(...r.truth);
      else hasTruth = false;
      for (const l of r.losses ?? []) lossSum += l;
    } finally {
      disposeBatch(batch);
    }
    onProgress?.(ids.length, loader.rows.length);
  }
  if (!hasTruth) return { ids, probs, truth: null };
  return { ids, probs, truth: truth as number[][] | number[], lossSum, loss: ids.length ? lossSum / ids.length : NaN };
}

export interface LabelledPrediction {
  id: string;
  /** The predicted class (multi-label: every class with p >= 0.5). */
  label: string | string[];
  /** The probability of the predicted class (multi-label: of the most likely one). */
  score: number;
  probabilities: Record<string, number>;
}

/** One post's probabilities with class names: the arg-max (or, multi-label, every class at 0.5 or above). */
export function labelPrediction(
  id: string,
  probs: readonly number[],
  labelNames: readonly string[],
  multiLabel: boolean,
): LabelledPrediction {
  const best = probs.indexOf(Math.max(...probs));
  return {
    id,
    label: multiLabel ? labelNames.filter((_, k) => probs[k]! >= 0.5) : labelNames[best]!,
    score: probs[best]!,
    probabilities: Object.fromEntries(labelNames.map((n, k) => [n, probs[k]!])),
  };
}

/** Predictions with class names, in order. */
export function labelPredictions(
  pred: Pick<Predictions, 'ids' | 'probs'>,
  labelNames: readonly string[],
  multiLabel: boolean,
): LabelledPrediction[] {
  return pred.ids.map((id, i) => labelPrediction(id, pred.probs[i]!, labelNames, multiLabel));
}
