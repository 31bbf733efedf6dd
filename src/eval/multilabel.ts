// Multi-label metrics over 0/1 indicator matrices (one row per example, one column per label) with scikit-learn's
// definitions: per-label counts for macro/micro/weighted, per-example scores for the "samples" average.
import {
  averageFromCounts,
  scoresFromCounts,
  type Average,
  type AveragedScores,
  type ClassCounts,
  type ZeroDivision,
} from './classification.js';
import { checkSameLength, range } from './labels.js';
import { nanAverage, pairwiseSum } from './numeric.js';

/** 0/1 indicator rows: `m[i][j] = 1` when example i carries label j. */
export type Indicator = readonly ArrayLike<number>[];

export type MultilabelAverage = Average | 'samples';

/** Throws unless yTrue and yPred are 0/1 matrices of the same shape; returns the number of labels. */
export function checkIndicators(yTrue: Indicator, yPred: Indicator): number {
  checkSameLength(yTrue, yPred, 'yTrue', 'yPred');
  const width = yTrue.length > 0 ? yTrue[0].length : 0;
  for (const [name, m] of [
    ['yTrue', yTrue],
    ['yPred', yPred],
  ] as const) {
    m.forEach((row, i) => {
      if (row.length !== width)
        throw new RangeError(`${name}[${i}] has ${row.length} labels: expected ${width}, as yTrue[0]`);
      for (let j = 0; j < width; j++) {
        if (row[j] !== 0 && row[j] !== 1) throw new RangeError(`${name}[${i}][${j}] = ${row[j]}: expected 0 or 1`);
      }
    });
  }
  return width;
}

/** Per-label counts (every column is a label, as sklearn treats indicator matrices). */
export function multilabelCounts(yTrue: Indicator, yPred: Indicator): ClassCounts {
  const width = checkIndicators(yTrue, yPred);
  const c: ClassCounts = {
    labels: range(width),
    tp: new Array<number>(width).fill(0),
    predSum: new Array<number>(width).fill(0),
    trueSum: new Array<number>(width).fill(0),
  };
  yTrue.forEach((row, i) => {
    for (let j = 0; j < width; j++) {
      c.trueSum[j] += row[j];
      c.predSum[j] += yPred[i][j];
      c.tp[j] += row[j] & yPred[i][j];
    }
  });
  return c;
}

/** Precision, recall and F1 of each example over its labels, averaged over examples (sklearn's "samples"). */
function samplesAverage(yTrue: Indicator, yPred: Indicator, zeroDivision: ZeroDivision): AveragedScores {
  const width = checkIndicators(yTrue, yPred);
  const n = yTrue.length;
  const rows: ClassCounts = {
    labels: range(n),
    tp: new Array<number>(n).fill(0),
    predSum: new Array<number>(n).fill(0),
    trueSum: new Array<number>(n).fill(0),
  };
  yTrue.forEach((row, i) => {
    for (let j = 0; j < width; j++) {
      rows.trueSum[i] += row[j];
      rows.predSum[i] += yPred[i][j];
      rows.tp[i] += row[j] & yPred[i][j];
    }
  });
  const s = scoresFromCounts(rows, zeroDivision);
  return { precision: nanAverage(s.precision), recall: nanAverage(s.recall), f1: nanAverage(s.f1) };
}

/** Averaged multi-label precision, recall and F1 (sklearn's `precision_recall_fscore_support` on indicators). */
export function multilabelScores(
  yTrue: Indicator,
  yPred: Indicator,
  average: MultilabelAverage,
  zeroDivision: ZeroDivision = 0,
): AveragedScores {
  if (average === 'samples') return samplesAverage(yTrue, yPred, zeroDivision);
  return averageFromCounts(multilabelCounts(yTrue, yPred), average, zeroDivision);
}

/** Fraction of examples whose whole label set is predicted exactly (sklearn's accuracy_score on indicators). */
export function subsetAccuracy(yTrue: Indicator, yPred: Indicator): number {
  const width = checkIndicators(yTrue, yPred);
  if (yTrue.length === 0) throw new RangeError('subset accuracy of zero examples is undefined');
  const hit = new Float64Array(yTrue.length);
  yTrue.forEach((row, i) => {
    let same = 1;
    for (let j = 0; j < width; j++) if (row[j] !== yPred[i][j]) same = 0;
    hit[i] = same;
  });
  return pairwiseSum(hit) / yTrue.length;
}

/** Fraction of (example, label) cells predicted wrongly. */
export function hammingLoss(yTrue: Indicator, yPred: Indicator): number {
  const width = checkIndicators(yTrue, yPred);
  if (yTrue.length === 0 || width === 0) throw new RangeError('Hamming loss of an empty matrix is undefined');
  let wrong = 0;
  yTrue.forEach((row, i) => {
    for (let j = 0; j < width; j++) if (row[j] !== yPred[i][j]) wrong++;
  });
  return wrong / (yTrue.length * width);
}
