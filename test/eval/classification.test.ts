// Hand-computed edge cases of the single-label metrics and the report (sklearn's zero_division rules).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  accuracy,
  classificationReport,
  confusionMatrix,
  f1Score,
  metricValue,
  pairwiseSum,
  perClassScores,
  precisionScore,
  recallScore,
} from '../../src/eval/index.js';

const near = (a: number, b: number, what = '') => assert.ok(Math.abs(a - b) <= 1e-12, `${what}: ${a} vs ${b}`);

test('a class that is never predicted scores 0 precision (zero_division) and drags macro down', () => {
  const y = [0, 0, 1, 1, 2, 2];
  const p = [0, 0, 1, 1, 1, 1];
  const s = perClassScores(y, p);
  assert.deepEqual(s.labels, [0, 1, 2]);
  assert.deepEqual(s.precision, [1, 0.5, 0]);
  assert.deepEqual(s.recall, [1, 1, 0]);
  near(s.f1[1], 2 / 3);
  assert.equal(s.f1[2], 0);
  assert.deepEqual(s.support, [2, 2, 2]);
  near(f1Score(y, p, 'macro'), 5 / 9, 'f1 macro');
  near(precisionScore(y, p, 'macro'), 0.5, 'precision macro');
  near(recallScore(y, p, 'macro'), 2 / 3, 'recall macro');
  near(f1Score(y, p, 'weighted'), 5 / 9, 'f1 weighted');
  near(f1Score(y, p, 'micro'), 4 / 6, 'f1 micro = accuracy');
  near(accuracy(y, p), 4 / 6);
  // zero_division=1 sets only the undefined precision; F1 = 2tp/(true+pred) = 0/2 is defined.
  near(precisionScore(y, p, 'macro', { zeroDivision: 1 }), 2.5 / 3, 'precision macro, zero_division=1');
  near(f1Score(y, p, 'macro', { zeroDivision: 1 }), 5 / 9, 'f1 macro, zero_division=1');
  // zero_division=NaN leaves the class out of the average.
  near(precisionScore(y, p, 'macro', { zeroDivision: NaN }), 0.75, 'precision macro, zero_division=NaN');
});

test('a class predicted but absent from yTrue: recall undefined (0), F1 0, support 0', () => {
  const y = [0, 0, 1, 1];
  const p = [0, 2, 1, 1];
  const s = perClassScores(y, p);
  assert.deepEqual(s.labels, [0, 1, 2]);
  assert.deepEqual(s.precision, [1, 1, 0]);
  assert.deepEqual(s.recall, [0.5, 1, 0]);
  assert.deepEqual(s.support, [2, 2, 0]);
  near(f1Score(y, p, 'macro'), 5 / 9);
  near(f1Score(y, p, 'weighted'), 5 / 6);
  near(recallScore(y, p, 'macro'), 0.5);
  near(recallScore(y, p, 'weighted'), 0.75);
  near(recallScore(y, p, 'macro', { zeroDivision: 1 }), 2.5 / 3);
  // An explicit label subset restricts the averages (sklearn's labels=).
  near(f1Score(y, p, 'macro', { labels: [0, 1] }), 5 / 6);
  near(f1Score(y, p, 'micro', { labels: [0, 1] }), (2 * 3) / (4 + 3));
});

test('report: classes absent from both vectors are listed but averaged only with averageOver=all', () => {
  const y = [0, 0, 1, 1];
  const p = [0, 2, 1, 1];
  const names = ['a', 'b', 'c', 'd'];
  const r = classificationReport(y, p, { labelNames: names });
  near(r.f1_macro, 5 / 9);
  assert.deepEqual(r.per_class.d, { precision: 0, recall: 0, f1: 0, support: 0 });
  assert.deepEqual(r.confusion_matrix, [
    [1, 0, 1, 0],
    [0, 2, 0, 0],
    [0, 0, 0, 0],
    [0, 0, 0, 0],
  ]);
  const all = classificationReport(y, p, { labelNames: names, averageOver: 'all' });
  near(all.f1_macro, 5 / 12);
  near(all.f1_weighted, 5 / 6, 'weighted ignores support-0 classes');
  near(all.accuracy, 0.75);
  // The report is plain JSON.
  assert.deepEqual(JSON.parse(JSON.stringify(r)), r);
});

test('all examples of one class', () => {
  const perfect = classificationReport([1, 1, 1], [1, 1, 1], { labelNames: ['neg', 'pos'], scores: [0.2, 0.9, 0.4] });
  assert.equal(perfect.accuracy, 1);
  assert.equal(perfect.f1_macro, 1);
  assert.equal(perfect.f1_weighted, 1);
  assert.deepEqual(perfect.per_class.neg, { precision: 0, recall: 0, f1: 0, support: 0 });
  assert.equal(perfect.auroc, null, 'AUROC is undefined with one class in yTrue');
  assert.deepEqual(perfect.confusion_matrix, [
    [0, 0],
    [0, 3],
  ]);

  const y = [0, 0, 0, 0];
  const p = [0, 0, 1, 1];
  near(f1Score(y, p, 'macro'), 1 / 3);
  near(f1Score(y, p, 'weighted'), 2 / 3);
  near(precisionScore(y, p, 'weighted'), 1);
  near(recallScore(y, p, 'macro'), 0.25);
});

test('confusion matrix: rows are the truth, columns the prediction; labels choose and order them', () => {
  const y = [2, 0, 2, 2, 0, 1];
  const p = [0, 0, 2, 2, 0, 2];
  assert.deepEqual(confusionMatrix(y, p), [
    [2, 0, 0],
    [0, 0, 1],
    [1, 0, 2],
  ]);
  assert.deepEqual(confusionMatrix(y, p, [2, 0]), [
    [2, 1],
    [0, 2],
  ]);
});

test('bad input names the entry and what was expected', () => {
  assert.throws(() => accuracy([0, 1], [0]), /yTrue has 2 entries but yPred has 1/);
  assert.throws(() => f1Score([0, 1.5], [0, 1]), /yTrue\[1\] = 1.5: expected a class index/);
  assert.throws(
    () => classificationReport([0, 3], [0, 1], { labelNames: ['a', 'b'] }),
    /yTrue\[1\] = 3: expected a class index in \[0, 2\)/,
  );
  assert.throws(() => classificationReport([0], [0], { labelNames: ['a', 'a'] }), /labelNames repeats "a"/);
  assert.throws(() => classificationReport([], [], { labelNames: ['a'] }), /no examples/);
  assert.throws(() => f1Score([0], [0], 'macro', { zeroDivision: 0.5 }), /zeroDivision = 0.5/);
  assert.throws(
    () => classificationReport([0, 1, 2], [0, 1, 2], { labelNames: ['a', 'b', 'c'], scores: [0.1, 0.2, 0.3] }),
    /needs per-class rows/,
  );
});

test('sums follow NumPy pairwise summation (value from numpy 2.4 np.sum)', () => {
  const a = Array.from({ length: 1000 }, (_, i) => (1 / (i + 1)) * 10 ** ((i % 9) - 4));
  assert.equal(pairwiseSum(a), 6560.2649084823815);
  // A left-to-right sum ends elsewhere, so the check above is not vacuous.
  assert.notEqual(
    a.reduce((s, x) => s + x, 0),
    6560.2649084823815,
  );
});

test('metricValue selects a report metric by name and explains a missing one', () => {
  const r = classificationReport([0, 0, 1, 1], [0, 1, 1, 1], { labelNames: ['neg', 'pos'] });
  near(metricValue(r, 'f1_macro'), r.f1_macro);
  assert.equal(metricValue(r, 'accuracy'), 0.75);
  assert.throws(
    () => metricValue(r, 'auroc'),
    /metric "auroc" is not in the report: expected one of accuracy, f1_macro/,
  );
  assert.throws(() => metricValue(r, 'n'), /metric "n" is not in the report/);
  const single = classificationReport([1, 1], [1, 0], { labelNames: ['neg', 'pos'], scores: [0.4, 0.6] });
  assert.throws(() => metricValue(single, 'auroc'), /metric "auroc" is undefined for this data/);
});
