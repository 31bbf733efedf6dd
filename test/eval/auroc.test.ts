// AUROC against hand-computed values and the Mann-Whitney statistic with midranks (sklearn's treatment of ties).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { classificationReport, rocAucOvr, rocAucScore, rocCurve } from '../../src/eval/index.js';
import { SeededRandom } from '../../src/runtime/random.js';

const near = (a: number, b: number, what = '') => assert.ok(Math.abs(a - b) <= 1e-12, `${what}: ${a} vs ${b}`);

test('ROC curve of the sklearn documentation example', () => {
  const c = rocCurve([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]);
  assert.deepEqual(c.fpr, [0, 0, 0.5, 0.5, 1]);
  assert.deepEqual(c.tpr, [0, 0.5, 0.5, 1, 1]);
  assert.deepEqual(c.thresholds, [Infinity, 0.8, 0.4, 0.35, 0.1]);
  assert.equal(rocAucScore([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]), 0.75);
});

test('ties count one half per tied positive-negative pair', () => {
  assert.equal(rocAucScore([0, 1, 0, 1], [0.5, 0.5, 0.5, 0.9]), 0.75);
  near(rocAucScore([1, 0, 1, 0, 1], [0.8, 0.8, 0.3, 0.3, 0.3]), 2.5 / 6);
  assert.equal(rocAucScore([0, 1, 1, 0], [0.3, 0.3, 0.3, 0.3]), 0.5);
  assert.equal(rocAucScore([0, 0, 1], [0.1, 0.2, 0.9]), 1);
  assert.equal(rocAucScore([0, 0, 1], [0.9, 0.2, 0.1]), 0);
});

test('AUROC equals the midrank Mann-Whitney statistic on random data with many ties', () => {
  const rng = new SeededRandom(7);
  for (let trial = 0; trial < 20; trial++) {
    const n = 20 + rng.int(60);
    const y = Array.from({ length: n }, () => rng.int(2));
    y[0] = 0;
    y[1] = 1;
    const s = Array.from({ length: n }, (_, i) => Math.round((y[i] * 0.3 + rng.next()) * 5) / 5);
    let wins = 0;
    let pairs = 0;
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        if (y[i] === 1 && y[j] === 0) {
          pairs++;
          wins += s[i] > s[j] ? 1 : s[i] === s[j] ? 0.5 : 0;
        }
      }
    }
    near(rocAucScore(y, s), wins / pairs, `trial ${trial}`);
  }
});

test('one class only is an error for rocAucScore and null in the report', () => {
  assert.throws(() => rocAucScore([1, 1], [0.2, 0.3]), /only one class present/);
  assert.throws(() => rocAucScore([0, 2], [0.2, 0.3]), /yTrue\[1\] = 2: expected 0 or 1/);
  assert.throws(() => rocAucScore([0, 1], [0.2, NaN]), /scores\[1\] = NaN/);
});

test('multi-class one-vs-rest macro AUROC', () => {
  const y = [0, 1, 2, 2];
  const probs = [
    [0.6, 0.3, 0.1],
    [0.2, 0.5, 0.3],
    [0.1, 0.2, 0.7],
    [0.3, 0.4, 0.3],
  ];
  near(rocAucOvr(y, probs), (1 + 1 + 0.875) / 3);
  const r = classificationReport(y, [0, 1, 2, 1], { labelNames: ['a', 'b', 'c'], scores: probs });
  near(r.auroc_ovr_macro as number, (1 + 1 + 0.875) / 3);
  assert.equal(r.auroc, undefined);
  const missing = classificationReport([0, 1, 1, 1], [0, 1, 2, 1], { labelNames: ['a', 'b', 'c'], scores: probs });
  assert.equal(missing.auroc_ovr_macro, null);
});
