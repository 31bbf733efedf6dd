// Significance tests: identical systems give p = 1, a clearly better system a small p, known exact values.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  binomialCdf,
  compareSystems,
  chiSquareSf,
  mcnemar,
  mcnemarFromCounts,
  pairedBootstrap,
  permutationTest,
} from '../../src/eval/index.js';
import { SeededRandom } from '../../src/runtime/random.js';

/** A synthetic 3-class task: the truth, a good system (10% errors) and a weak one (45% errors). */
function systems(n: number, seed: number) {
  const rng = new SeededRandom(seed);
  const y = Array.from({ length: n }, () => rng.int(3));
  const noisy = (rate: number) => y.map((t) => (rng.next() < rate ? (t + 1 + rng.int(2)) % 3 : t));
  return { y, good: noisy(0.1), weak: noisy(0.45), good2: noisy(0.1) };
}

test('identical systems: p = 1 for every test and metric', () => {
  const { y, good } = systems(150, 1);
  for (const metric of ['accuracy', 'f1_macro', 'f1_weighted', 'recall_macro'] as const) {
    const b = pairedBootstrap(y, good, good, { metric, rounds: 500 });
    assert.equal(b.pValue, 1, `bootstrap ${metric}`);
    assert.equal(b.delta, 0);
    assert.deepEqual(b.ci, [0, 0]);
    assert.equal(permutationTest(y, good, good, { metric, rounds: 500 }).pValue, 1, `permutation ${metric}`);
  }
  assert.equal(mcnemar(y, good, good).pValue, 1);
  assert.equal(mcnemar(y, good, good, { exact: false }).pValue, 1);
});

test('a clearly better system: small p, interval above zero, one-sided tests point the right way', () => {
  const { y, good, weak } = systems(200, 2);
  const b = pairedBootstrap(y, good, weak, { rounds: 2000, seed: 3 });
  assert.ok(b.delta > 0.3, `delta ${b.delta}`);
  assert.ok(b.pValue < 0.001, `bootstrap p ${b.pValue}`);
  assert.ok(b.ci![0] > 0 && b.ci![0] < b.delta && b.delta < b.ci![1], `ci ${b.ci}`);
  const p = permutationTest(y, good, weak, { rounds: 2000, seed: 3 });
  assert.ok(p.pValue < 0.001, `permutation p ${p.pValue}`);
  assert.equal(p.pValue, 1 / 2001, 'no round reaches the observed difference');
  assert.ok(permutationTest(y, good, weak, { rounds: 500, alternative: 'less' }).pValue > 0.99);
  assert.ok(pairedBootstrap(y, good, weak, { rounds: 500, alternative: 'greater' }).pValue < 0.01);
  const m = mcnemar(y, good, weak);
  assert.equal(m.method, 'chi-square');
  assert.ok(m.b > m.c && m.pValue < 1e-6, `mcnemar b ${m.b} c ${m.c} p ${m.pValue}`);
});

test('two equally good systems are not called different', () => {
  const { y, good, good2 } = systems(200, 4);
  assert.ok(pairedBootstrap(y, good, good2, { rounds: 2000 }).pValue > 0.2);
  assert.ok(permutationTest(y, good, good2, { rounds: 2000 }).pValue > 0.2);
  assert.ok(mcnemar(y, good, good2).pValue > 0.2);
});

test('approximate randomisation converges to the exact permutation p-value', () => {
  // A is right and B wrong on 6 examples, they agree elsewhere: only the sign pattern of those 6 matters, and
  // |accuracy difference| reaches the observed 6/n only when all 6 fall one way: p = 2 / 2^6.
  const y = Array.from({ length: 40 }, (_, i) => i % 2);
  const a = [...y];
  const b = y.map((t, i) => (i < 6 ? 1 - t : i % 7 === 0 ? 1 - t : t));
  for (let i = 0; i < 40; i++) if (i >= 6 && i % 7 === 0) a[i] = b[i];
  const r = permutationTest(y, a, b, { metric: 'accuracy', rounds: 20000, seed: 11 });
  assert.ok(Math.abs(r.pValue - 2 / 64) < 0.006, `p ${r.pValue}`);
  // McNemar's exact test on the same 6-0 split is the same binomial tail.
  const m = mcnemar(y, a, b, { exact: true });
  assert.deepEqual([m.b, m.c], [6, 0]);
  assert.equal(m.pValue, 2 / 64);
});

test('same seed, same result; custom metric functions are accepted', () => {
  const { y, good, weak } = systems(100, 5);
  const one = pairedBootstrap(y, good, weak, { rounds: 300, seed: 9 });
  assert.deepEqual(pairedBootstrap(y, good, weak, { rounds: 300, seed: 9 }), one);
  assert.notDeepEqual(pairedBootstrap(y, good, weak, { rounds: 300, seed: 10 }).ci, one.ci);
  const errorsOnClass0 = (t: ArrayLike<number>, p: ArrayLike<number>) => {
    let ok = 0;
    for (let i = 0; i < t.length; i++) if (t[i] === 0 && p[i] === 0) ok++;
    return ok;
  };
  const r = permutationTest(y, good, good, { metric: errorsOnClass0, rounds: 100 });
  assert.equal(r.metric, 'errorsOnClass0');
  assert.equal(r.pValue, 1);
  assert.throws(() => pairedBootstrap(y, good, weak, { metric: 'f1_samples' as never }), /metric = f1_samples/);
  assert.throws(() => pairedBootstrap(y, good.slice(1), weak), /yTrue has 100 entries but predA has 99/);
});

test('McNemar and distribution tails against reference values (scipy / Python math.erfc)', () => {
  assert.equal(mcnemarFromCounts(10, 2, { exact: true }).pValue, 158 / 4096);
  const corrected = mcnemarFromCounts(10, 2, { exact: false });
  assert.equal(corrected.statistic, 49 / 12);
  assert.ok(Math.abs(corrected.pValue - 0.04330814281079198) < 1e-14);
  const plain = mcnemarFromCounts(10, 2, { exact: false, correction: false });
  assert.ok(Math.abs(plain.pValue - 0.020921335337794028) < 1e-14);
  assert.equal(mcnemarFromCounts(20, 20).pValue, 1, 'b = c: statistic 0 after the clamped correction');
  assert.equal(mcnemarFromCounts(3, 4).method, 'exact');
  assert.ok(Math.abs(chiSquareSf(10, 3) - 0.018566135463043237) < 1e-15);
  assert.ok(Math.abs(binomialCdf(400, 1000, 0.5) / 1.3642320780330092e-10 - 1) < 1e-10);
  assert.throws(() => mcnemarFromCounts(-1, 2), /b = -1: expected a count/);
});

test('compareSystems runs the three tests with shared options', () => {
  const { y, good, weak } = systems(120, 6);
  const c = compareSystems(y, good, weak, { metric: 'accuracy', rounds: 400, seed: 2 });
  assert.deepEqual(c.bootstrap, pairedBootstrap(y, good, weak, { metric: 'accuracy', rounds: 400, seed: 2 }));
  assert.deepEqual(c.permutation, permutationTest(y, good, weak, { metric: 'accuracy', rounds: 400, seed: 2 }));
  assert.deepEqual(c.mcnemar, mcnemar(y, good, weak));
  assert.ok(c.bootstrap.pValue < 0.01 && c.permutation.pValue < 0.01 && c.mcnemar.pValue < 0.01);
});
