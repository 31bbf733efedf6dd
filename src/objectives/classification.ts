// The main task's loss: cross-entropy, optionally with 'balanced' class weights (the paper's choice,
// n / (k * count_c) as scikit-learn's compute_class_weight), or binary cross-entropy for multi-label tasks.
import { F, tensor, type Tensor } from '../tensor/index.js';

/**
 * 'balanced' class weights n / (k * count_c) from training labels (class indices 0..k-1). A class absent
 * from the labels gets weight 0 (scikit-learn refuses; a weight there would never be used by the loss).
 */
export function balancedClassWeights(labels: ArrayLike<number>, numClasses: number): number[] {
  const counts = new Array<number>(numClasses).fill(0);
  for (let i = 0; i < labels.length; i++) {
    const c = labels[i]!;
    if (!Number.isInteger(c) || c < 0 || c >= numClasses)
      throw new RangeError(`balancedClassWeights: label ${c} at ${i} is not in 0..${numClasses - 1}`);
    counts[c]!++;
  }
  return counts.map((n) => (n === 0 ? 0 : labels.length / (numClasses * n)));
}

export interface ClassificationLossOptions {
  /** Per-class weights (weighted mean as torch: sum w_y * l / sum w_y). */
  classWeights?: number[] | Tensor | null;
  labelSmoothing?: number;
}

/** Cross-entropy of logits [N, C] against class indices [N] (int64). */
export function classificationLoss(logits: Tensor, labels: Tensor, opts: ClassificationLossOptions = {}): Tensor {
  const w = opts.classWeights;
  const weight =
    w == null
      ? null
      : Array.isArray(w)
        ? tensor(w, { dtype: logits.dtype === 'float64' ? 'float64' : 'float32', device: logits.device })
        : (w as Tensor);
  return F.crossEntropy(logits, labels, { weight, labelSmoothing: opts.labelSmoothing ?? 0 });
}

/** Multi-label: binary cross-entropy with logits [N, C] against 0/1 targets [N, C], optional positive weights. */
export function multiLabelLoss(logits: Tensor, targets: Tensor, posWeight?: Tensor | null): Tensor {
  return F.binaryCrossEntropyWithLogits(logits, targets.to(logits.dtype), { posWeight: posWeight ?? null });
}
