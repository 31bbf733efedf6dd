// Single-label classification metrics with scikit-learn's definitions (precision_recall_fscore_support,
// accuracy_score, confusion_matrix), including its zero_division rule and the order of its float operations.
import { checkLabels, checkSameLength, presentLabels, type Labels } from './labels.js';
import { nanAverage, pairwiseSum } from './numeric.js';

/**
 * Value of a precision/recall/F1 whose denominator is zero (scikit-learn's `zero_division`): 0 (the default,
 * as sklearn's "warn"), 1, or NaN (left out of averages).
 */
export type ZeroDivision = 0 | 1 | number;

export type Average = 'macro' | 'weighted' | 'micro';

export interface MetricOptions {
  /** Classes to compute over, in this order; default: the sorted union of classes in yTrue and yPred. */
  labels?: readonly number[];
  zeroDivision?: ZeroDivision;
}

/** Per-class counts: true positives, predicted (tp + fp) and true (tp + fn = support). */
export interface ClassCounts {
  labels: number[];
  tp: number[];
  predSum: number[];
  trueSum: number[];
}

export interface PerClassScores {
  labels: number[];
  precision: number[];
  recall: number[];
  f1: number[];
  support: number[];
}

export interface AveragedScores {
  precision: number;
  recall: number;
  f1: number;
}

function checkPair(yTrue: Labels, yPred: Labels): void {
  checkSameLength(yTrue, yPred, 'yTrue', 'yPred');
  checkLabels(yTrue, 'yTrue');
  checkLabels(yPred, 'yPred');
}

function checkZeroDivision(z: number): void {
  if (!(z === 0 || z === 1 || Number.isNaN(z))) throw new RangeError(`zeroDivision = ${z}: expected 0, 1 or NaN`);
}

/** sklearn's `_prf_divide`: num / den, with `zeroDivision` where den is 0. */
function divide(num: readonly number[], den: readonly number[], zeroDivision: number): number[] {
  return num.map((x, i) => (den[i] === 0 ? zeroDivision : x / den[i]));
}

/** Fraction of examples whose prediction equals the truth. */
export function accuracy(yTrue: Labels, yPred: Labels): number {
  checkPair(yTrue, yPred);
  if (yTrue.length === 0) throw new RangeError('accuracy of zero examples is undefined');
  const hit = new Float64Array(yTrue.length);
  for (let i = 0; i < yTrue.length; i++) hit[i] = yTrue[i] === yPred[i] ? 1 : 0;
  return pairwiseSum(hit) / yTrue.length;
}

/**
 * Confusion matrix: `m[i][j]` counts examples of class `labels[i]` predicted as `labels[j]` (rows = truth, as
 * sklearn). Examples whose truth or prediction is not in `labels` are not counted.
 */
export function confusionMatrix(yTrue: Labels, yPred: Labels, labels?: readonly number[]): number[][] {
  checkPair(yTrue, yPred);
  const ls = labels ? [...labels] : presentLabels(yTrue, yPred);
  const index = new Map(ls.map((l, i) => [l, i]));
  if (index.size !== ls.length) throw new RangeError(`labels [${ls.join(', ')}] repeat a class`);
  const m = ls.map(() => new Array<number>(ls.length).fill(0));
  for (let i = 0; i < yTrue.length; i++) {
    const t = index.get(yTrue[i]);
    const p = index.get(yPred[i]);
    if (t !== undefined && p !== undefined) m[t][p]++;
  }
  return m;
}

/** Per-class counts over `labels` (default: classes present in either vector). */
export function classCounts(yTrue: Labels, yPred: Labels, labels?: readonly number[]): ClassCounts {
  checkPair(yTrue, yPred);
  const ls = labels ? [...labels] : presentLabels(yTrue, yPred);
  const index = new Map(ls.map((l, i) => [l, i]));
  if (index.size !== ls.length) throw new RangeError(`labels [${ls.join(', ')}] repeat a class`);
  const tp = new Array<number>(ls.length).fill(0);
  const predSum = new Array<number>(ls.length).fill(0);
  const trueSum = new Array<number>(ls.length).fill(0);
  for (let i = 0; i < yTrue.length; i++) {
    const t = index.get(yTrue[i]);
    const p = index.get(yPred[i]);
    if (t !== undefined) trueSum[t]++;
    if (p !== undefined) predSum[p]++;
    if (t !== undefined && yTrue[i] === yPred[i]) tp[t]++;
  }
  return { labels: ls, tp, predSum, trueSum };
}

/** Precision, recall and F1 per class from counts; F1 = 2·tp / (true + pred), as sklearn >= 1.3 computes it. */
export function scoresFromCounts(c: ClassCounts, zeroDivision: ZeroDivision = 0): PerClassScores {
  checkZeroDivision(zeroDivision);
  const twoTp = c.tp.map((x) => 2 * x);
  const f1Den = c.trueSum.map((x, i) => x + c.predSum[i]);
  return {
    labels: [...c.labels],
    precision: divide(c.tp, c.predSum, zeroDivision),
    recall: divide(c.tp, c.trueSum, zeroDivision),
    f1: divide(twoTp, f1Den, zeroDivision),
    support: [...c.trueSum],
  };
}

/** Averages per-class counts the way sklearn's `precision_recall_fscore_support(average=...)` does. */
export function averageFromCounts(c: ClassCounts, average: Average, zeroDivision: ZeroDivision = 0): AveragedScores {
  if (average === 'micro') {
    const sum = (v: number[]) => v.reduce((s, x) => s + x, 0);
    const micro: ClassCounts = { labels: [-1], tp: [sum(c.tp)], predSum: [sum(c.predSum)], trueSum: [sum(c.trueSum)] };
    const s = scoresFromCounts(micro, zeroDivision);
    return { precision: s.precision[0], recall: s.recall[0], f1: s.f1[0] };
  }
  const s = scoresFromCounts(c, zeroDivision);
  if (average === 'weighted') {
    const total = c.trueSum.reduce((a, x) => a + x, 0);
    if (total === 0) {
      // No true example of any class: sklearn returns zero_division (precision and F1 0 if anything was predicted).
      const z = zeroDivision;
      const anyPred = c.predSum.some((x) => x > 0);
      return anyPred ? { precision: 0, recall: z, f1: 0 } : { precision: z, recall: z, f1: z };
    }
    return {
      precision: nanAverage(s.precision, c.trueSum),
      recall: nanAverage(s.recall, c.trueSum),
      f1: nanAverage(s.f1, c.trueSum),
    };
  }
  if (average !== 'macro') throw new RangeError(`average = ${String(average)}: expected macro, weighted or micro`);
  return { precision: nanAverage(s.precision), recall: nanAverage(s.recall), f1: nanAverage(s.f1) };
}

/** Per-class precision, recall, F1 and support (sklearn's `precision_recall_fscore_support(average=None)`). */
export function perClassScores(yTrue: Labels, yPred: Labels, opts: MetricOptions = {}): PerClassScores {
  return scoresFromCounts(classCounts(yTrue, yPred, opts.labels), opts.zeroDivision ?? 0);
}

/** Averaged precision, recall and F1 (sklearn's `precision_recall_fscore_support(average=...)`). */
export function averagedScores(
  yTrue: Labels,
  yPred: Labels,
  average: Average,
  opts: MetricOptions = {},
): AveragedScores {
  return averageFromCounts(classCounts(yTrue, yPred, opts.labels), average, opts.zeroDivision ?? 0);
}

export function f1Score(yTrue: Labels, yPred: Labels, average: Average = 'macro', opts: MetricOptions = {}): number {
  return averagedScores(yTrue, yPred, average, opts).f1;
}

export function precisionScore(
  yTrue: Labels,
  yPred: Labels,
  average: Average = 'macro',
  opts: MetricOptions = {},
): number {
  return averagedScores(yTrue, yPred, average, opts).precision;
}

export function recallScore(
  yTrue: Labels,
  yPred: Labels,
  average: Average = 'macro',
  opts: MetricOptions = {},
): number {
  return averagedScores(yTrue, yPred, average, opts).recall;
}
