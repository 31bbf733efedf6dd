// Multi-label metrics on sklearn's documentation example, computed by hand.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hammingLoss, multilabelReport, multilabelScores, subsetAccuracy } from '../../src/eval/index.js';

const near = (a: number, b: number, what = '') => assert.ok(Math.abs(a - b) <= 1e-12, `${what}: ${a} vs ${b}`);

const yTrue = [
  [0, 0, 0],
  [1, 1, 1],
  [0, 1, 1],
];
const yPred = [
  [0, 0, 0],
  [1, 1, 1],
  [1, 1, 0],
];

test('per-label, macro, micro, weighted and samples averages', () => {
  const r = multilabelReport(yTrue, yPred, { labelNames: ['x', 'y', 'z'] });
  near(r.per_class.x.f1, 2 / 3);
  near(r.per_class.y.f1, 1);
  near(r.per_class.z.f1, 2 / 3);
  assert.deepEqual(
    ['x', 'y', 'z'].map((k) => r.per_class[k].support),
    [1, 2, 2],
  );
  near(r.f1_macro, 7 / 9, 'macro');
  near(r.f1_micro, 0.8, 'micro');
  near(r.precision_micro, 0.8);
  near(r.f1_weighted, 0.8, 'weighted');
  // Samples: the empty row scores 0 (zero_division), the others 1 and 2·1/(2+2).
  near(r.f1_samples, 0.5, 'samples');
  near(r.precision_samples, (0 + 1 + 0.5) / 3);
  near(r.subset_accuracy, 2 / 3);
  near(r.hamming_loss, 2 / 9);
  near(multilabelScores(yTrue, yPred, 'samples', 1).f1, (1 + 1 + 0.5) / 3, 'samples, zero_division=1');
});

test('no true labels at all: weighted average follows sklearn (0 when something was predicted)', () => {
  const none = [
    [0, 0],
    [0, 0],
  ];
  const some = [
    [1, 0],
    [0, 0],
  ];
  assert.deepEqual(multilabelScores(none, some, 'weighted'), { precision: 0, recall: 0, f1: 0 });
  assert.deepEqual(multilabelScores(none, some, 'weighted', 1), { precision: 0, recall: 1, f1: 0 });
  assert.deepEqual(multilabelScores(none, none, 'weighted', 1), { precision: 1, recall: 1, f1: 1 });
});

test('per-label AUROC averaged; shape errors name the row', () => {
  const scores = [
    [0.1, 0.2, 0.1],
    [0.9, 0.8, 0.7],
    [0.4, 0.6, 0.8],
  ];
  const r = multilabelReport(yTrue, yPred, { labelNames: ['x', 'y', 'z'], scores });
  // x: positive 0.9 beats both; y: 0.8 and 0.6 beat 0.2; z: 0.7, 0.8 beat 0.1.
  assert.equal(r.auroc_macro, 1);
  assert.throws(() => subsetAccuracy([[0, 1]], [[0, 1, 1]]), /yPred\[0\] has 3 labels: expected 2/);
  assert.throws(() => hammingLoss([[0, 2]], [[0, 1]]), /yTrue\[0\]\[1\] = 2: expected 0 or 1/);
  assert.throws(
    () => multilabelReport(yTrue, yPred, { labelNames: ['x', 'y'] }),
    /3 label columns but labelNames has 2/,
  );
});
