// The text report: sklearn's layout, every class and average on its own line, numbers at the chosen precision.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  classificationReport,
  formatReport,
  formatSignificance,
  mcnemarFromCounts,
  multilabelReport,
  permutationTest,
} from '../../src/eval/index.js';

test('single-label report table with AUROC and confusion matrix', () => {
  const r = classificationReport([0, 0, 1, 1], [0, 1, 1, 1], {
    labelNames: ['neg', 'pos'],
    scores: [0.1, 0.6, 0.7, 0.9],
  });
  const text = formatReport(r, { digits: 3 });
  assert.equal(
    text,
    [
      '             precision    recall  f1-score   support',
      '',
      '         neg     1.000     0.500     0.667         2',
      '         pos     0.667     1.000     0.800         2',
      '',
      '    accuracy                         0.750         4',
      '   macro avg     0.833     0.750     0.733         4',
      'weighted avg     0.833     0.750     0.733         4',
      '',
      'AUROC: 1.000',
      '',
      'true \\ pred  neg  pos',
      '        neg    1    1',
      '        pos    0    2',
      '',
    ].join('\n'),
  );
  assert.ok(!formatReport(r, { confusionMatrix: false }).includes('true \\ pred'));
  assert.ok(formatReport(r).includes('0.8333'), 'default 4 digits');
});

test('multi-label report lists the four averages, subset accuracy and Hamming loss', () => {
  const r = multilabelReport(
    [
      [1, 0],
      [0, 1],
    ],
    [
      [1, 1],
      [0, 1],
    ],
    { labelNames: ['irony', 'hate'] },
  );
  const lines = formatReport(r, { digits: 2 }).split('\n');
  for (const name of ['micro avg', 'macro avg', 'weighted avg', 'samples avg', 'subset accuracy', 'hamming loss']) {
    assert.ok(
      lines.some((l) => l.trimStart().startsWith(name)),
      `${name} missing`,
    );
  }
  assert.ok(lines.some((l) => /^\s+hamming loss\s+0\.25\s+2$/.test(l)));
  assert.ok(lines.some((l) => /^\s+hate\s+0\.50\s+1\.00\s+0\.67\s+1$/.test(l)));
});

test('significance summaries', () => {
  assert.equal(
    formatSignificance(mcnemarFromCounts(10, 2, { exact: true })),
    'McNemar (exact): A right/B wrong 10, A wrong/B right 2, statistic 2.0000, p = 0.0386',
  );
  const y = [0, 1, 0, 1, 0, 1];
  const line = formatSignificance(permutationTest(y, y, y, { metric: 'accuracy', rounds: 10 }));
  assert.equal(
    line,
    'approximate-randomization on accuracy: A 1.0000, B 1.0000, A - B 0.0000, p = 1.0000 (two-sided, 10 rounds, seed 0)',
  );
});
