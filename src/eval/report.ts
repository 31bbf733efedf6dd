// One JSON-serialisable object with every metric of a run's predictions (what results.json holds per split).
import { rocAucOvr, rocAucScore } from './auroc.js';
import {
  averageFromCounts,
  classCounts,
  confusionMatrix,
  scoresFromCounts,
  accuracy,
  type ZeroDivision,
} from './classification.js';
import { checkBelow, checkLabels, checkSameLength, presentLabels, range, type Labels } from './labels.js';
import {
  checkIndicators,
  hammingLoss,
  multilabelCounts,
  multilabelScores,
  subsetAccuracy,
  type Indicator,
} from './multilabel.js';
import { mean } from './numeric.js';

export interface ClassScores {
  precision: number;
  recall: number;
  f1: number;
  support: number;
}

export interface MetricsReport {
  /** Number of examples. */
  n: number;
  /** Class names in class-index order (the rows and columns of `confusion_matrix`). */
  labels: string[];
  accuracy: number;
  f1_macro: number;
  f1_weighted: number;
  f1_micro: number;
  precision_macro: number;
  recall_macro: number;
  precision_weighted: number;
  recall_weighted: number;
  precision_micro: number;
  recall_micro: number;
  /** Every class of `labels`, including those absent from the data (support 0, scores by zero_division). */
  per_class: Record<string, ClassScores>;
  /** `confusion_matrix[t][p]`: examples of class t predicted as p, over all classes. */
  confusion_matrix: number[][];
  /** Binary tasks given scores: AUROC of class 1; null when yTrue holds one class only. */
  auroc?: number | null;
  /** Multi-class tasks given per-class probabilities: one-vs-rest macro AUROC; null when a class is absent. */
  auroc_ovr_macro?: number | null;
}

export interface ReportOptions {
  /** Class names, index = class id. */
  labelNames: readonly string[];
  /**
   * Scores for AUROC: for two classes, class 1's score per example or per-class rows `[n][2]`; for more classes,
   * per-class probability rows `[n][k]`.
   */
  scores?: ArrayLike<number> | readonly ArrayLike<number>[];
  /**
   * Classes the macro/weighted/micro averages run over: 'present' (default) = classes in yTrue or yPred, as
   * sklearn without `labels=`; 'all' = every class of labelNames (an absent class then counts as 0 in macro).
   */
  averageOver?: 'present' | 'all';
  zeroDivision?: ZeroDivision;
}

function checkNames(names: readonly string[]): void {
  if (names.length === 0) throw new RangeError('labelNames is empty: expected one name per class');
  const seen = new Set<string>();
  for (const n of names) {
    if (seen.has(n)) throw new RangeError(`labelNames repeats "${n}": expected distinct class names`);
    seen.add(n);
  }
}

function isRows(s: ArrayLike<number> | readonly ArrayLike<number>[]): s is readonly ArrayLike<number>[] {
  const first = (s as ArrayLike<unknown>)[0];
  return typeof first === 'object' && first !== null;
}

/** Metrics of single-label predictions against the truth, sklearn's definitions. */
export function classificationReport(yTrue: Labels, yPred: Labels, opts: ReportOptions): MetricsReport {
  const names = [...opts.labelNames];
  checkNames(names);
  checkSameLength(yTrue, yPred, 'yTrue', 'yPred');
  checkLabels(yTrue, 'yTrue');
  checkLabels(yPred, 'yPred');
  checkBelow(yTrue, names.length, 'yTrue');
  checkBelow(yPred, names.length, 'yPred');
  if (yTrue.length === 0) throw new RangeError('no examples: expected at least one prediction');
  const z = opts.zeroDivision ?? 0;
  const all = range(names.length);
  const avgLabels = opts.averageOver === 'all' ? all : presentLabels(yTrue, yPred);
  const counts = classCounts(yTrue, yPred, avgLabels);
  const macro = averageFromCounts(counts, 'macro', z);
  const weighted = averageFromCounts(counts, 'weighted', z);
  const micro = averageFromCounts(counts, 'micro', z);
  const per = scoresFromCounts(classCounts(yTrue, yPred, all), z);
  const perClass: Record<string, ClassScores> = {};
  names.forEach((name, i) => {
    perClass[name] = { precision: per.precision[i], recall: per.recall[i], f1: per.f1[i], support: per.support[i] };
  });
  const report: MetricsReport = {
    n: yTrue.length,
    labels: names,
    accuracy: accuracy(yTrue, yPred),
    f1_macro: macro.f1,
    f1_weighted: weighted.f1,
    f1_micro: micro.f1,
    precision_macro: macro.precision,
    recall_macro: macro.recall,
    precision_weighted: weighted.precision,
    recall_weighted: weighted.recall,
    precision_micro: micro.precision,
    recall_micro: micro.recall,
    per_class: perClass,
    confusion_matrix: confusionMatrix(yTrue, yPred, all),
  };
  if (opts.scores !== undefined) addAuroc(report, yTrue, opts.scores, names.length);
  return report;
}

function addAuroc(
  report: MetricsReport,
  yTrue: Labels,
  scores: ArrayLike<number> | readonly ArrayLike<number>[],
  k: number,
): void {
  checkSameLength(yTrue, scores, 'yTrue', 'scores');
  const rows = isRows(scores) ? scores : undefined;
  if (rows) {
    rows.forEach((r, i) => {
      if (r.length !== k) throw new RangeError(`scores[${i}] has ${r.length} entries: expected one per class (${k})`);
    });
  }
  if (k === 2) {
    const positive = rows ? rows.map((r) => r[1]) : (scores as ArrayLike<number>);
    const classes = presentLabels(yTrue);
    report.auroc = classes.length < 2 ? null : rocAucScore(yTrue, positive);
    return;
  }
  if (!rows)
    throw new RangeError(`scores: a task with ${k} classes needs per-class rows [n][${k}], not one score per example`);
  report.auroc_ovr_macro = presentLabels(yTrue).length < k ? null : rocAucOvr(yTrue, rows);
}

export interface MultilabelReport {
  n: number;
  labels: string[];
  /** Exact-match ratio. */
  subset_accuracy: number;
  hamming_loss: number;
  f1_samples: number;
  f1_macro: number;
  f1_micro: number;
  f1_weighted: number;
  precision_samples: number;
  recall_samples: number;
  precision_macro: number;
  recall_macro: number;
  precision_micro: number;
  recall_micro: number;
  precision_weighted: number;
  recall_weighted: number;
  per_class: Record<string, ClassScores>;
  /** Given scores: mean of the per-label AUROCs (sklearn's macro); null when a label is always or never true. */
  auroc_macro?: number | null;
}

export interface MultilabelReportOptions {
  labelNames: readonly string[];
  /** Score per example and label, `[n][labels]`. */
  scores?: readonly ArrayLike<number>[];
  zeroDivision?: ZeroDivision;
}

/** Metrics of multi-label predictions given as 0/1 indicator rows. */
export function multilabelReport(yTrue: Indicator, yPred: Indicator, opts: MultilabelReportOptions): MultilabelReport {
  const names = [...opts.labelNames];
  checkNames(names);
  const width = checkIndicators(yTrue, yPred);
  if (yTrue.length === 0) throw new RangeError('no examples: expected at least one prediction');
  if (width !== names.length)
    throw new RangeError(`yTrue has ${width} label columns but labelNames has ${names.length}`);
  const z = opts.zeroDivision ?? 0;
  const counts = multilabelCounts(yTrue, yPred);
  const per = scoresFromCounts(counts, z);
  const perClass: Record<string, ClassScores> = {};
  names.forEach((name, i) => {
    perClass[name] = { precision: per.precision[i], recall: per.recall[i], f1: per.f1[i], support: per.support[i] };
  });
  const s = multilabelScores(yTrue, yPred, 'samples', z);
  const ma = multilabelScores(yTrue, yPred, 'macro', z);
  const mi = multilabelScores(yTrue, yPred, 'micro', z);
  const w = multilabelScores(yTrue, yPred, 'weighted', z);
  const report: MultilabelReport = {
    n: yTrue.length,
    labels: names,
    subset_accuracy: subsetAccuracy(yTrue, yPred),
    hamming_loss: hammingLoss(yTrue, yPred),
    f1_samples: s.f1,
    f1_macro: ma.f1,
    f1_micro: mi.f1,
    f1_weighted: w.f1,
    precision_samples: s.precision,
    recall_samples: s.recall,
    precision_macro: ma.precision,
    recall_macro: ma.recall,
    precision_micro: mi.precision,
    recall_micro: mi.recall,
    precision_weighted: w.precision,
    recall_weighted: w.recall,
    per_class: perClass,
  };
  if (opts.scores !== undefined) report.auroc_macro = multilabelAuroc(yTrue, opts.scores, counts.trueSum);
  return report;
}

/** Mean of per-label AUROCs; null when some label is true for every example or for none. */
function multilabelAuroc(yTrue: Indicator, scores: readonly ArrayLike<number>[], trueSum: number[]): number | null {
  checkSameLength(yTrue, scores, 'yTrue', 'scores');
  scores.forEach((r, i) => {
    if (r.length !== trueSum.length)
      throw new RangeError(`scores[${i}] has ${r.length} entries: expected ${trueSum.length}`);
  });
  if (!trueSum.every((t) => t > 0 && t < yTrue.length)) return null;
  const per = trueSum.map((_, j) =>
    rocAucScore(
      yTrue.map((r) => r[j]),
      scores.map((r) => r[j]),
    ),
  );
  return mean(per);
}

/** Names of the scalar metrics of a single-label report (what early stopping and `results.json` can select). */
export const REPORT_METRICS = [
  'accuracy',
  'f1_macro',
  'f1_weighted',
  'f1_micro',
  'precision_macro',
  'recall_macro',
  'precision_weighted',
  'recall_weighted',
  'precision_micro',
  'recall_micro',
  'auroc',
  'auroc_ovr_macro',
] as const;

/** Names of the scalar metrics of a multi-label report where higher is better (hamming_loss is not). */
export const MULTILABEL_REPORT_METRICS = [
  'subset_accuracy',
  'f1_samples',
  'f1_macro',
  'f1_micro',
  'f1_weighted',
  'precision_samples',
  'recall_samples',
  'precision_macro',
  'recall_macro',
  'precision_micro',
  'recall_micro',
  'precision_weighted',
  'recall_weighted',
  'auroc_macro',
] as const;

/**
 * A scalar metric of a report by name (e.g. "f1_macro"); throws naming the available metrics when the name is
 * unknown or the report does not hold it (AUROC without scores, or undefined for this data).
 */
export function metricValue(report: MetricsReport | MultilabelReport, name: string): number {
  const value = (report as unknown as Record<string, unknown>)[name];
  if (typeof value !== 'number' || name === 'n') {
    const available = Object.entries(report)
      .filter(([k, v]) => typeof v === 'number' && k !== 'n')
      .map(([k]) => k);
    const why = value === null ? 'is undefined for this data' : 'is not in the report';
    throw new RangeError(`metric "${name}" ${why}: expected one of ${available.join(', ')}`);
  }
  return value;
}
