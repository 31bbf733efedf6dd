// The one seeded generator: both streams pinned to the numbers the three former copies produced (mulberry32 in
// data/splits.ts and models/vilt.ts, sfc32 in eval/random.ts), so seeded splits, loader orders, ViLT patch
// choices and significance p-values stay what they were.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SeededRandom } from '../../src/runtime/random.js';
import { stratifiedSplit } from '../../src/data/splits.js';
import { selectPatches } from '../../src/models/vilt.js';

test('mulberry32 stream: the former copies’ numbers, negative seeds wrapped to uint32', () => {
  const r = new SeededRandom(7, 'mulberry32');
  assert.deepEqual([r.nextUint32(), r.nextUint32(), r.nextUint32()], [50271532, 266108690, 4195786334]);
  const n = new SeededRandom(-3, 'mulberry32');
  assert.deepEqual([n.next(), n.next()], [2202431144 / 2 ** 32, 1998219081 / 2 ** 32]);
  assert.deepEqual(
    new SeededRandom(42, 'mulberry32').shuffle([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]),
    [0, 7, 3, 5, 2, 1, 8, 9, 4, 6],
  );
});

test('sfc32 stream (the default): the former eval copy’s numbers', () => {
  const g = new SeededRandom(7);
  assert.equal(g.stream, 'sfc32');
  assert.deepEqual([g.nextUint32(), g.nextUint32(), g.nextUint32()], [3717842623, 3665254222, 3355698721]);
  assert.equal(g.int(10), 8);
  assert.equal(g.next(), 0.4896127872634679);
});

test('users of the mulberry32 stream: a seeded split and a ViLT patch subset as before the move', () => {
  const rows = Array.from({ length: 20 }, (_, i) => ({ id: `p${i}`, label: i % 2 ? 'a' : 'b' }));
  const held = [...stratifiedSplit(rows, 42).entries()].filter(([, s]) => s !== 'train');
  assert.deepEqual(
    held.sort(([a], [b]) => a.localeCompare(b)).map(([id, s]) => `${id}:${s}`),
    ['p12:dev', 'p16:test', 'p17:dev', 'p3:test'],
  );
  const mask = [Array.from({ length: 12 }, (_, i) => (i % 5 === 0 ? 0 : 1)), Array(12).fill(1)];
  assert.deepEqual(selectPatches(mask, 5, 3).index, [
    [1, 2, 3, 6, 11],
    [0, 1, 4, 9, 10],
  ]);
});

test('streams are deterministic per seed, differ across seeds, and are uniform enough', () => {
  for (const stream of ['mulberry32', 'sfc32'] as const) {
    const xs = Array.from(
      { length: 10000 },
      (
        (r) => () =>
          r.next()
      )(new SeededRandom(7, stream)),
    );
    const again = new SeededRandom(7, stream);
    assert.deepEqual(
      Array.from({ length: 10000 }, () => again.next()),
      xs,
    );
    assert.notEqual(new SeededRandom(8, stream).next(), xs[0]);
    assert.ok(xs.every((x) => x >= 0 && x < 1));
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
    assert.ok(Math.abs(mean - 0.5) < 0.01, `${stream} mean ${mean}`);
    const counts = [0, 0, 0];
    const r = new SeededRandom(1, stream);
    for (let i = 0; i < 30000; i++) counts[r.int(3)]!++;
    assert.ok(
      counts.every((c) => Math.abs(c - 10000) < 400),
      `${stream} int(3) counts ${counts}`,
    );
  }
});

test('seeds and ranges are checked', () => {
  assert.throws(() => new SeededRandom(1.5), /seed = 1.5: expected an integer/);
  assert.throws(() => new SeededRandom(NaN, 'mulberry32'), /seed = NaN: expected an integer/);
  assert.throws(() => new SeededRandom(1).int(0), /int\(0\): expected 1 <= n <= 2\^32/);
});
