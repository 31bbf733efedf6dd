import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { allocate, applySeededSplit, stratifiedSplit } from '../../src/data/splits.js';
import type { Row } from '../../src/data/rows.js';
import { tempDir } from './helpers.js';

test('allocate uses largest remainders and sums to n', () => {
  assert.deepEqual(allocate(10, [0.8, 0.1, 0.1]), [8, 1, 1]);
  // 5.6, 0.7, 0.7: the two largest remainders (0.7, 0.7) get the two leftover items
  assert.deepEqual(allocate(7, [0.8, 0.1, 0.1]), [5, 1, 1]);
  assert.deepEqual(allocate(4, [0.8, 0.1, 0.1]), [3, 1, 0]);
  assert.deepEqual(allocate(3, [1, 1, 1]), [1, 1, 1]);
});

function rows(spec: Record<string, number>): Row[] {
  return Object.entries(spec).flatMap(([label, n]) =>
    Array.from({ length: n }, (_, i) => ({ id: `${label}${i}`, text: '', image: null, label })),
  );
}

test('stratified split keeps the label proportions in every split and ignores input order', () => {
  const rs = rows({ pos: 20, neg: 40, neu: 10 });
  const m = stratifiedSplit(rs, 42, [0.8, 0.1, 0.1]);
  const tally: Record<string, Record<string, number>> = {};
  for (const r of rs) {
    const s = m.get(r.id)!;
    tally[s] ??= {};
    tally[s][r.label!] = (tally[s][r.label!] ?? 0) + 1;
  }
  assert.deepEqual(tally, {
    train: { pos: 16, neg: 32, neu: 8 },
    dev: { pos: 2, neg: 4, neu: 1 },
    test: { pos: 2, neg: 4, neu: 1 },
  });
  const reversed = stratifiedSplit([...rs].reverse(), 42, [0.8, 0.1, 0.1]);
  assert.deepEqual([...reversed.entries()].sort(), [...m.entries()].sort());
  const other = stratifiedSplit(rs, 43, [0.8, 0.1, 0.1]);
  assert.notDeepEqual([...other.entries()].sort(), [...m.entries()].sort());
});

test('the seeded split is saved and reused; new ids are added; a different seed on the same file is refused', () => {
  const dir = tempDir();
  const file = join(dir, 'split.json');
  const first = rows({ a: 10, b: 10 });
  applySeededSplit(first, { format: 'x', file, seed: 1, ratios: [0.8, 0.1, 0.1], save: true });
  assert.ok(existsSync(file));
  const saved = JSON.parse(readFileSync(file, 'utf8'));
  assert.equal(saved.seed, 1);
  assert.equal(Object.keys(saved.splits).length, 20);
  // tamper with one assignment: reuse must follow the file, not recompute
  saved.splits.a0 = saved.splits.a0 === 'test' ? 'dev' : 'test';
  writeFileSync(file, JSON.stringify(saved));
  const again = rows({ a: 11, b: 10 });
  const notes = applySeededSplit(again, { format: 'x', file, seed: 1, ratios: [0.8, 0.1, 0.1], save: true });
  assert.equal(again.find((r) => r.id === 'a0')!.split, saved.splits.a0);
  assert.match(notes[0]!, /split reused from .* \(1 new posts assigned\)/);
  assert.equal(Object.keys(JSON.parse(readFileSync(file, 'utf8')).splits).length, 21);
  assert.throws(
    () => applySeededSplit(rows({ a: 2 }), { format: 'x', file, seed: 2, ratios: [0.8, 0.1, 0.1], save: true }),
    /saved with seed 1/,
  );
});
