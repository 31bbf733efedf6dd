// Significance of the difference between two systems' predictions on the same examples: paired bootstrap,
// approximate randomisation (a permutation test) and McNemar's test. Resampling tests are seeded.
import { averageFromCounts, type Average, type ClassCounts } from './classification.js';
import { checkLabels, checkSameLength, presentLabels, type Labels } from './labels.js';
import { SeededRandom } from '../runtime/random.js';
import { binomialCdf, chiSquareSf } from './special.js';

export type MetricName =
  | 'accuracy'
  | 'f1_macro'
  | 'f1_weighted'
  | 'f1_micro'
  | 'precision_macro'
  | 'recall_macro'
  | 'precision_weighted'
  | 'recall_weighted';

/** A metric of predictions against the truth; higher = better. */
export type MetricFn = (yTrue: Labels, yPred: Labels) => number;

/** 'two-sided': A and B differ; 'greater': A is better than B; 'less': A is worse than B. */
export type Alternative = 'two-sided' | 'greater' | 'less';

export interface ResamplingOptions {
  /** Default 'f1_macro'. Named metrics are computed over the classes present in yTrue, A or B on all examples. */
  metric?: MetricName | MetricFn;
  /** Bootstrap samples or permutation rounds (default 10000). */
  rounds?: number;
  /** Default 0. */
  seed?: number;
  alternative?: Alternative;
  /** Bootstrap only: level of the percentile interval of A - B (default 0.95). */
  confidence?: number;
}

export interface ResamplingResult {
  test: 'paired-bootstrap' | 'approximate-randomization';
  metric: string;
  alternative: Alternative;
  scoreA: number;
  scoreB: number;
  /** scoreA - scoreB. */
  delta: number;
  /** (extreme + 1) / (rounds + 1): never 0, 1 for identical systems. */
  pValue: number;
  rounds: number;
  seed: number;
  /** Bootstrap only: percentile interval of A - B. */
  ci?: [number, number];
  confidence?: number;
}

// Differences this close to the observed one count as "as extreme" (float noise must not decide a p-value).
const TIE = 1e-12;

function namedMetric(name: MetricName, labels: number[]): MetricFn {
  const maxLabel = labels.length > 0 ? labels[labels.length - 1] : 0;
  const index = new Int32Array(maxLabel + 1).fill(-1);
  labels.forEach((l, i) => (index[l] = i));
  const slot = (x: number) => (x <= maxLabel ? index[x] : -1);
  if (name === 'accuracy') {
    return (t, p) => {
      let hit = 0;
      for (let i = 0; i < t.length; i++) if (t[i] === p[i]) hit++;
      return hit / t.length;
    };
  }
  const [kind, average] = name.split('_') as ['f1' | 'precision' | 'recall', Average];
  if (!['f1', 'precision', 'recall'].includes(kind) || !['macro', 'weighted', 'micro'].includes(average)) {
    throw new RangeError(`metric = ${name}: expected accuracy or {f1,precision,recall}_{macro,weighted,micro}`);
  }
  return (t, p) => {
    const c: ClassCounts = {
      labels,
      tp: new Array<number>(labels.length).fill(0),
      predSum: new Array<number>(labels.length).fill(0),
      trueSum: new Array<number>(labels.length).fill(0),
    };
    for (let i = 0; i < t.length; i++) {
      const ti = slot(t[i]);
      const pi = slot(p[i]);
      if (ti >= 0) c.trueSum[ti]++;
      if (pi >= 0) c.predSum[pi]++;
      if (ti >= 0 && t[i] === p[i]) c.tp[ti]++;
    }
    return averageFromCounts(c, average)[kind];
  };
}

function setUp(yTrue: Labels, predA: Labels, predB: Labels, opts: ResamplingOptions) {
  checkSameLength(yTrue, predA, 'yTrue', 'predA');
  checkSameLength(yTrue, predB, 'yTrue', 'predB');
  checkLabels(yTrue, 'yTrue');
  checkLabels(predA, 'predA');
  checkLabels(predB, 'predB');
  if (yTrue.length === 0) throw new RangeError('no examples: expected at least one');
  const rounds = opts.rounds ?? 10000;
  if (!Number.isInteger(rounds) || rounds < 1) throw new RangeError(`rounds = ${rounds}: expected a positive integer`);
  const seed = opts.seed ?? 0;
  const alternative = opts.alternative ?? 'two-sided';
  if (!['two-sided', 'greater', 'less'].includes(alternative)) {
    throw new RangeError(`alternative = ${alternative}: expected two-sided, greater or less`);
  }
  const m = opts.metric ?? 'f1_macro';
  const metric = typeof m === 'function' ? m : namedMetric(m, presentLabels(yTrue, predA, predB));
  const metricName = typeof m === 'function' ? m.name || 'custom' : m;
  const scoreA = metric(yTrue, predA);
  const scoreB = metric(yTrue, predB);
  return { rounds, seed, alternative, metric, metricName, scoreA, scoreB, delta: scoreA - scoreB };
}

/** Whether a resampled difference `d` is at least as extreme as the observed `obs` under the alternative. */
function extreme(d: number, obs: number, alternative: Alternative): boolean {
  if (alternative === 'greater') return d >= obs - TIE;
  if (alternative === 'less') return d <= obs + TIE;
  return Math.abs(d) >= Math.abs(obs) - TIE;
}

/** NumPy's default (linear) quantile of sorted values. */
function quantile(sorted: Float64Array, q: number): number {
  const pos = q * (sorted.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

/**
 * Paired bootstrap: examples are resampled with replacement, both systems scored on each sample. The p-value
 * tests the bootstrap distribution of A - B shifted to mean zero (Efron & Tibshirani; Berg-Kirkpatrick et al.
 * 2012): how often a shifted difference is as extreme as the observed one.
 */
export function pairedBootstrap(
  yTrue: Labels,
  predA: Labels,
  predB: Labels,
  opts: ResamplingOptions = {},
): ResamplingResult {
  const s = setUp(yTrue, predA, predB, opts);
  const confidence = opts.confidence ?? 0.95;
  if (!(confidence > 0 && confidence < 1)) throw new RangeError(`confidence = ${confidence}: expected in (0, 1)`);
  const n = yTrue.length;
  const rng = new SeededRandom(s.seed);
  const t = new Int32Array(n);
  const a = new Int32Array(n);
  const b = new Int32Array(n);
  const deltas = new Float64Array(s.rounds);
  let hits = 0;
  for (let r = 0; r < s.rounds; r++) {
    for (let i = 0; i < n; i++) {
      const j = rng.int(n);
      t[i] = yTrue[j];
      a[i] = predA[j];
      b[i] = predB[j];
    }
    deltas[r] = s.metric(t, a) - s.metric(t, b);
    if (extreme(deltas[r] - s.delta, s.delta, s.alternative)) hits++;
  }
  deltas.sort();
  const tail = (1 - confidence) / 2;
  return {
    test: 'paired-bootstrap',
    metric: s.metricName,
    alternative: s.alternative,
    scoreA: s.scoreA,
    scoreB: s.scoreB,
    delta: s.delta,
    pValue: (hits + 1) / (s.rounds + 1),
    rounds: s.rounds,
    seed: s.seed,
    ci: [quantile(deltas, tail), quantile(deltas, 1 - tail)],
    confidence,
  };
}

/**
 * Approximate randomisation (Noreen 1989; Riezler & Maxwell 2005): under the null hypothesis the two systems'
 * predictions for an example are exchangeable, so each round swaps them per example with probability 1/2.
 */
export function permutationTest(
  yTrue: Labels,
  predA: Labels,
  predB: Labels,
  opts: ResamplingOptions = {},
): ResamplingResult {
  const s = setUp(yTrue, predA, predB, opts);
  const n = yTrue.length;
  const rng = new SeededRandom(s.seed);
  const a = new Int32Array(n);
  const b = new Int32Array(n);
  let hits = 0;
  for (let r = 0; r < s.rounds; r++) {
    for (let i = 0; i < n; i++) {
      const swap = rng.nextUint32() & 1;
      a[i] = swap ? predB[i] : predA[i];
      b[i] = swap ? predA[i] : predB[i];
    }
    if (extreme(s.metric(yTrue, a) - s.metric(yTrue, b), s.delta, s.alternative)) hits++;
  }
  return {
    test: 'approximate-randomization',
    metric: s.metricName,
    alternative: s.alternative,
    scoreA: s.scoreA,
    scoreB: s.scoreB,
    delta: s.delta,
    pValue: (hits + 1) / (s.rounds + 1),
    rounds: s.rounds,
    seed: s.seed,
  };
}

export interface McNemarOptions {
  /** true: exact binomial test; false: chi-square; 'auto' (default): exact when b + c < 25. */
  exact?: boolean | 'auto';
  /** Continuity correction for the chi-square version (default true). */
  correction?: boolean;
}

export interface McNemarResult {
  test: 'mcnemar';
  method: 'exact' | 'chi-square';
  /** Examples A gets right and B gets wrong. */
  b: number;
  /** Examples A gets wrong and B gets right. */
  c: number;
  /** Exact: min(b, c); chi-square: (|b - c| - correction)^2 / (b + c). */
  statistic: number;
  /** Two-sided; 1 when the systems never disagree in correctness. */
  pValue: number;
}

/** McNemar's test on the discordant pairs of two systems' correctness. */
export function mcnemar(yTrue: Labels, predA: Labels, predB: Labels, opts: McNemarOptions = {}): McNemarResult {
  checkSameLength(yTrue, predA, 'yTrue', 'predA');
  checkSameLength(yTrue, predB, 'yTrue', 'predB');
  let b = 0;
  let c = 0;
  for (let i = 0; i < yTrue.length; i++) {
    const okA = predA[i] === yTrue[i];
    const okB = predB[i] === yTrue[i];
    if (okA && !okB) b++;
    else if (!okA && okB) c++;
  }
  return mcnemarFromCounts(b, c, opts);
}

/** McNemar's test from the discordant counts b and c. */
export function mcnemarFromCounts(b: number, c: number, opts: McNemarOptions = {}): McNemarResult {
  for (const [k, v] of [
    ['b', b],
    ['c', c],
  ] as const) {
    if (!Number.isInteger(v) || v < 0) throw new RangeError(`${k} = ${v}: expected a count (integer >= 0)`);
  }
  const n = b + c;
  const exact = opts.exact === undefined || opts.exact === 'auto' ? n < 25 : opts.exact;
  if (exact) {
    const k = Math.min(b, c);
    return {
      test: 'mcnemar',
      method: 'exact',
      b,
      c,
      statistic: k,
      pValue: n === 0 ? 1 : Math.min(1, 2 * binomialCdf(k, n, 0.5)),
    };
  }
  if (n === 0) return { test: 'mcnemar', method: 'chi-square', b, c, statistic: 0, pValue: 1 };
  // Edwards' correction, clamped so that b = c gives statistic 0 and p = 1.
  const diff = Math.max(0, Math.abs(b - c) - (opts.correction === false ? 0 : 1));
  const statistic = (diff * diff) / n;
  return { test: 'mcnemar', method: 'chi-square', b, c, statistic, pValue: chiSquareSf(statistic, 1) };
}

export interface Comparison {
  bootstrap: ResamplingResult;
  permutation: ResamplingResult;
  mcnemar: McNemarResult;
}

/** All three tests between systems A and B with one set of options (the same seed for both resampling tests). */
export function compareSystems(
  yTrue: Labels,
  predA: Labels,
  predB: Labels,
  opts: ResamplingOptions & { mcnemar?: McNemarOptions } = {},
): Comparison {
  return {
    bootstrap: pairedBootstrap(yTrue, predA, predB, opts),
    permutation: permutationTest(yTrue, predA, predB, opts),
    mcnemar: mcnemar(yTrue, predA, predB, opts.mcnemar),
  };
}
