// Every number in the golden metrics.json (scikit-learn) reproduced to the bit, as the README says: the same
// formulas in the same order (F1 = 2·tp / (true + pred), NumPy's summation), so equality is exact.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { GOLDEN } from '../helpers/cli.js';
import {
  accuracy,
  f1Score,
  perClassScores,
  precisionScore,
  recallScore,
  rocAucScore,
  classificationReport,
} from '../../src/eval/index.js';

const golden = JSON.parse(readFileSync(join(GOLDEN, 'metrics.json'), 'utf8')) as Record<string, any>;
const y: number[] = golden.y_true;
const p: number[] = golden.y_pred;

function close(actual: number, expected: number, what: string): void {
  assert.equal(actual, expected, `${what}: ${actual} vs sklearn ${expected} (not bit-identical)`);
}

test('golden: every scalar metric in metrics.json is reproduced by the metric functions', () => {
  const got: Record<string, number> = {
    accuracy: accuracy(y, p),
    f1_macro: f1Score(y, p, 'macro'),
    f1_weighted: f1Score(y, p, 'weighted'),
    f1_micro: f1Score(y, p, 'micro'),
    precision_macro: precisionScore(y, p, 'macro'),
    recall_macro: recallScore(y, p, 'macro'),
    precision_weighted: precisionScore(y, p, 'weighted'),
    recall_weighted: recallScore(y, p, 'weighted'),
    binary_auroc: rocAucScore(golden.binary_y_true, golden.binary_scores),
  };
  const scalarKeys = Object.keys(golden).filter((k) => typeof golden[k] === 'number');
  assert.deepEqual(Object.keys(got).sort(), scalarKeys.sort(), 'a golden metric is not checked');
  for (const k of scalarKeys) close(got[k], golden[k], k);
  const f1 = perClassScores(y, p).f1;
  assert.equal(f1.length, golden.f1_per_class.length);
  f1.forEach((v, i) => close(v, golden.f1_per_class[i], `f1_per_class[${i}]`));
});

test('golden: classificationReport holds the same numbers under the same keys', () => {
  const names = ['a', 'b', 'c', 'd'];
  const r = classificationReport(y, p, { labelNames: names });
  for (const k of ['accuracy', 'f1_macro', 'f1_weighted', 'f1_micro', 'precision_macro', 'recall_macro']) {
    close((r as any)[k], golden[k], k);
  }
  close(r.precision_weighted, golden.precision_weighted, 'precision_weighted');
  close(r.recall_weighted, golden.recall_weighted, 'recall_weighted');
  names.forEach((n, i) => close(r.per_class[n].f1, golden.f1_per_class[i], `per_class.${n}.f1`));
  assert.equal(r.n, 200);
  // The confusion matrix agrees with the accuracy and the supports.
  const diag = r.confusion_matrix.reduce((s, row, i) => s + row[i], 0);
  assert.equal(diag, 141);
  names.forEach((n, i) =>
    assert.equal(
      r.per_class[n].support,
      r.confusion_matrix[i].reduce((s, x) => s + x, 0),
    ),
  );

  const rb = classificationReport(
    golden.binary_y_true,
    golden.binary_scores.map((s: number) => (s >= 0.5 ? 1 : 0)),
    {
      labelNames: ['neg', 'pos'],
      scores: golden.binary_scores,
    },
  );
  close(rb.auroc as number, golden.binary_auroc, 'auroc');
  // Per-class probability rows give the same AUROC as the positive-class scores.
  const rows = golden.binary_scores.map((s: number) => [1 - s, s]);
  const rb2 = classificationReport(golden.binary_y_true, golden.binary_y_true, {
    labelNames: ['neg', 'pos'],
    scores: rows,
  });
  close(rb2.auroc as number, golden.binary_auroc, 'auroc from rows');
});
