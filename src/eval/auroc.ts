// Area under the ROC curve as scikit-learn's roc_curve + auc compute it: thresholds at the distinct scores (so
// tied scores form one diagonal step, which is the midrank / Mann-Whitney treatment of ties), collinear points
// dropped, trapezoidal area.
import { checkSameLength } from './labels.js';
import { mean, pairwiseSum } from './numeric.js';

export interface RocCurve {
  fpr: number[];
  tpr: number[];
  /** Score threshold of each point; the first is +Infinity (nothing predicted positive). */
  thresholds: number[];
}

function checkBinary(yTrue: ArrayLike<number>, scores: ArrayLike<number>): void {
  checkSameLength(yTrue, scores, 'yTrue', 'scores');
  for (let i = 0; i < yTrue.length; i++) {
    if (yTrue[i] !== 0 && yTrue[i] !== 1) throw new RangeError(`yTrue[${i}] = ${yTrue[i]}: expected 0 or 1`);
    if (!Number.isFinite(scores[i])) throw new RangeError(`scores[${i}] = ${scores[i]}: expected a finite number`);
  }
}

/** ROC curve of binary labels (1 = positive) against scores (higher = more positive). */
export function rocCurve(yTrue: ArrayLike<number>, scores: ArrayLike<number>): RocCurve {
  checkBinary(yTrue, scores);
  const n = yTrue.length;
  // Descending score; among equal scores the order does not matter, only group ends are kept.
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[b] - scores[a]);
  const tps: number[] = [];
  const fps: number[] = [];
  const thr: number[] = [];
  let tp = 0;
  for (let k = 0; k < n; k++) {
    tp += yTrue[order[k]];
    if (k === n - 1 || scores[order[k + 1]] !== scores[order[k]]) {
      tps.push(tp);
      fps.push(k + 1 - tp);
      thr.push(scores[order[k]]);
    }
  }
  // Drop points on a straight line between their neighbours (sklearn's drop_intermediate).
  const keep: number[] = [];
  for (let i = 0; i < tps.length; i++) {
    const ends = i === 0 || i === tps.length - 1;
    if (ends) keep.push(i);
    else {
      const d2f = fps[i + 1] - 2 * fps[i] + fps[i - 1];
      const d2t = tps[i + 1] - 2 * tps[i] + tps[i - 1];
      if (d2f !== 0 || d2t !== 0) keep.push(i);
    }
  }
  const fpsK = [0, ...keep.map((i) => fps[i])];
  const tpsK = [0, ...keep.map((i) => tps[i])];
  const lastF = fpsK[fpsK.length - 1];
  const lastT = tpsK[tpsK.length - 1];
  return {
    fpr: fpsK.map((x) => (lastF === 0 ? NaN : x / lastF)),
    tpr: tpsK.map((x) => (lastT === 0 ? NaN : x / lastT)),
    thresholds: [Infinity, ...keep.map((i) => thr[i])],
  };
}

/** Trapezoidal area under y(x) for x monotone (NumPy's trapezoid with sklearn's direction check). */
export function trapezoidArea(x: readonly number[], y: readonly number[]): number {
  const terms = new Float64Array(Math.max(0, x.length - 1));
  let up = true;
  let down = true;
  for (let i = 1; i < x.length; i++) {
    const dx = x[i] - x[i - 1];
    if (dx < 0) up = false;
    if (dx > 0) down = false;
    terms[i - 1] = (dx * (y[i] + y[i - 1])) / 2;
  }
  if (!up && !down) throw new RangeError('x is neither increasing nor decreasing');
  const area = pairwiseSum(terms);
  return up ? area : -area;
}

/**
 * Binary AUROC (sklearn's `roc_auc_score`). Throws when yTrue holds only one class, where the ROC AUC is
 * undefined (sklearn raises too).
 */
export function rocAucScore(yTrue: ArrayLike<number>, scores: ArrayLike<number>): number {
  checkBinary(yTrue, scores);
  let pos = 0;
  for (let i = 0; i < yTrue.length; i++) pos += yTrue[i];
  if (pos === 0 || pos === yTrue.length) {
    throw new RangeError('only one class present in yTrue: ROC AUC is not defined in that case');
  }
  const c = rocCurve(yTrue, scores);
  return trapezoidArea(c.fpr, c.tpr);
}

/**
 * Multi-class AUROC, one class against the rest, macro-averaged (sklearn's `roc_auc_score(multi_class="ovr",
 * average="macro")` given per-class probabilities). `probs[i][k]` is example i's score for class k; every class
 * must occur in yTrue.
 */
export function rocAucOvr(yTrue: ArrayLike<number>, probs: readonly ArrayLike<number>[]): number {
  checkSameLength(yTrue, probs, 'yTrue', 'probs');
  const k = probs.length > 0 ? probs[0].length : 0;
  probs.forEach((row, i) => {
    if (row.length !== k) throw new RangeError(`probs[${i}] has ${row.length} scores: expected ${k}, as probs[0]`);
  });
  for (let i = 0; i < yTrue.length; i++) {
    if (!Number.isInteger(yTrue[i]) || yTrue[i] < 0 || yTrue[i] >= k) {
      throw new RangeError(`yTrue[${i}] = ${yTrue[i]}: expected a class index in [0, ${k}), one per column of probs`);
    }
  }
  const per: number[] = [];
  for (let c = 0; c < k; c++) {
    const yc = Array.from({ length: yTrue.length }, (_, i) => (yTrue[i] === c ? 1 : 0));
    if (!yc.includes(1)) throw new RangeError(`class ${c} does not occur in yTrue: its one-vs-rest AUROC is undefined`);
    per.push(
      rocAucScore(
        yc,
        Array.from(probs, (row) => row[c]),
      ),
    );
  }
  return mean(per);
}
