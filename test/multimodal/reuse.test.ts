// ITM negatives reuse the unimodal encodings where the architecture allows: counted by spying on forward().
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tidy } from '../../src/tensor/index.js';
import type { Module } from '../../src/nn/index.js';
import { buildClassifier } from '../../src/multimodal/builder.js';
import { goldenBatch } from './batch.js';
import { CASES } from './cases.js';

/** Counts calls of m.forward until restored. */
function spy(m: Module): { calls: () => number; restore: () => void } {
  const target = m as unknown as { forward: (...a: unknown[]) => unknown };
  const original = target.forward;
  let n = 0;
  target.forward = (...a: unknown[]) => {
    n++;
    return original.apply(m, a);
  };
  return { calls: () => n, restore: () => (target.forward = original) };
}

function counts(
  caseIndex: number,
  pick: (m: Module) => Module[],
  freezeImage?: boolean,
): { encode: number[]; mismatched: number[] } {
  const c = CASES[caseIndex]!;
  const m = buildClassifier(
    { ...c.spec, ...(freezeImage === undefined ? {} : { freezeImage }) },
    { init: 'pretrained' },
  );
  const b = goldenBatch(c.text, c.image);
  const spies = pick(m).map(spy);
  const out = tidy(() => {
    const e = m.encode(b);
    const encode = spies.map((s) => s.calls());
    m.encodeMismatched(b, e, [3, 2, 1, 0]);
    return { encode, mismatched: spies.map((s, i) => s.calls() - encode[i]!) };
  });
  for (const s of spies) s.restore();
  m.dispose();
  return out;
}

const child = (m: Module, name: string): Module => m.namedModules().find(([n]) => n === name)![1];

test('late fusion: encodeMismatched runs only the fusion (no encoder pass)', () => {
  for (const freeze of [true, false]) {
    const r = counts(0, (m) => [child(m, 'text_encoder'), child(m, 'image_encoder'), child(m, 'fusion')], freeze);
    assert.deepEqual(r.encode, [1, 1, 1], `freezeImage ${freeze}: encode runs each once`);
    assert.deepEqual(r.mismatched, [0, 0, 1], `freezeImage ${freeze}: the negatives cost one fusion`);
  }
});

test('clip / siglip: encodeMismatched runs only the fusion', () => {
  for (const [i, name] of [
    [7, 'clip'],
    [8, 'siglip'],
  ] as const) {
    const r = counts(i, (m) => [child(m, `${name}.text_model`), child(m, `${name}.vision_model`), child(m, 'fusion')]);
    assert.deepEqual(r.encode, [1, 1, 1]);
    assert.deepEqual(r.mismatched, [0, 0, 1]);
  }
});

test('blip: encodeMismatched reuses the image embeddings, reruns the cross-attending text encoder', () => {
  const r = counts(9, (m) => [child(m, 'blip.vision_model'), child(m, 'blip.text_encoder')]);
  assert.deepEqual(r.encode, [1, 2], 'text-only pass for ITC + fused pass');
  assert.deepEqual(r.mismatched, [0, 1]);
});

test('mmbt and lxmert: the image encoder is not rerun for negatives; the joint encoder is', () => {
  const mm = counts(3, (m) => [child(m, 'image_encoder'), child(m, 'text_encoder.encoder.layer.0')]);
  assert.deepEqual(mm.encode, [1, 2], 'mmbt: multimodal pass + text-only pass for ITC');
  assert.deepEqual(mm.mismatched, [0, 1]);
  const lx = counts(6, (m) => [child(m, 'image_encoder'), child(m, 'lxmert')]);
  assert.deepEqual(lx.encode, [1, 1]);
  assert.deepEqual(lx.mismatched, [0, 1]);
});

test('vilt: single stream, a full pass per negative batch', () => {
  const r = counts(5, (m) => [child(m, 'vilt')]);
  assert.deepEqual(r.encode, [1]);
  assert.deepEqual(r.mismatched, [1]);
});
