import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadGeneric } from '../../../src/data/generic.js';
import { PostEncoder, disposeBatch } from '../../../src/data/pipeline/encoder.js';
import { FeatureCache } from '../../../src/data/pipeline/feature-cache.js';
import { sha1Hex } from '../../../src/data/pipeline/keys.js';
import { BatchLoader } from '../../../src/data/pipeline/loader.js';
import { fromBuffer, noGrad, type Tensor } from '../../../src/tensor/index.js';
import { Tokenizer } from '../../../src/text/tokenizer.js';
import { loadImageProcessorConfig, parseImageProcessorConfig } from '../../../src/vision/index.js';
import { BERT_DIR, LABELS, VIT_DIR, makeDataset, tempDir } from './fixtures.js';

const K1 = sha1Hex('image one');
const K2 = sha1Hex('image two');
const K3 = sha1Hex('image three');

function feat(seed: number, n = 6): Tensor {
  return fromBuffer(
    Float32Array.from({ length: n }, (_, i) => seed + i / 8),
    'float32',
    [2, n / 2],
  );
}

test('round trip, persistence across instances, keys by encoder and processor, corrupt entries dropped', () => {
  const dir = tempDir();
  const key = { frozenImageKey: 'vit-tiny@abc', processorHash: 'p1' };
  const c = new FeatureCache(dir, key);
  assert.equal(c.get(K1), undefined);
  const t = feat(1);
  c.put(K1, t);
  t.dispose();
  const back = c.get(K1)!;
  assert.deepEqual(back.shape, [2, 3]);
  assert.equal(back.dtype, 'float32');
  assert.deepEqual(back.toArray(), [1, 1.125, 1.25, 1.375, 1.5, 1.625]);
  back.dispose();

  const again = new FeatureCache(dir, key);
  assert.equal(again.size, 1);
  assert.ok(again.has(K1));
  assert.equal(again.bytes, c.bytes);
  assert.ok(c.bytes > 24);

  // Another processor configuration or another encoder: another folder, no entry.
  const otherProc = new FeatureCache(dir, { ...key, processorHash: 'p2' });
  const otherModel = new FeatureCache(dir, { ...key, frozenImageKey: 'vit-tiny@def' });
  assert.notEqual(otherProc.folder, c.folder);
  assert.notEqual(otherModel.folder, c.folder);
  assert.equal(otherProc.get(K1), undefined);
  assert.equal(otherModel.has(K1), false);
  assert.deepEqual(
    readdirSync(dir).sort(),
    [c.folder, otherProc.folder, otherModel.folder].map((f) => f.slice(dir.length + 1)).sort(),
  );

  // A damaged file reads as a miss and is removed.
  writeFileSync(join(c.folder, K1.slice(0, 2), `${K1}.safetensors`), 'garbage');
  const damaged = new FeatureCache(dir, key);
  assert.equal(damaged.get(K1), undefined);
  assert.equal(damaged.size, 0);
  assert.equal(new FeatureCache(dir, key).size, 0);
  assert.throws(() => c.put('not-a-sha', feat(0)), /image key must be a sha1/);
});

test('maxBytes evicts the least recently used entries', () => {
  const dir = tempDir();
  const probe = new FeatureCache(tempDir(), 'probe');
  probe.put(K1, feat(0));
  const one = probe.bytes;
  const c = new FeatureCache(dir, 'k', { maxBytes: 2 * one + 10 });
  c.put(K1, feat(1));
  c.put(K2, feat(2));
  assert.ok(c.has(K1)); // K1 used after K2, so K2 is now the oldest
  c.put(K3, feat(3));
  assert.equal(c.size, 2);
  assert.ok(c.has(K1) && c.has(K3));
  assert.equal(c.has(K2), false);
  assert.ok(c.bytes <= 2 * one + 10);
});

test('the processor hash follows the processor configuration', () => {
  const tok = Tokenizer.fromModelDir(BERT_DIR);
  const base = loadImageProcessorConfig(VIT_DIR);
  const a = new PostEncoder(tok, base, { labelNames: LABELS });
  const same = new PostEncoder(tok, { ...base }, { labelNames: LABELS, maxLength: 40 });
  const bigger = new PostEncoder(
    tok,
    parseImageProcessorConfig({ image_processor_type: 'ViTImageProcessor', size: 48 }),
    { labelNames: LABELS },
  );
  const pil = new PostEncoder(tok, base, { labelNames: LABELS, backend: 'pil' });
  assert.equal(a.processorHash, same.processorHash);
  assert.notEqual(a.processorHash, bigger.processorHash);
  assert.notEqual(a.processorHash, pil.processorHash);
});

test('loader with a frozen encoder: features computed once per image, then read from the cache', async () => {
  const { file } = await makeDataset(8);
  const rows = loadGeneric(file, { noSaveSplit: true }).rows;
  const enc = new PostEncoder(Tokenizer.fromModelDir(BERT_DIR), loadImageProcessorConfig(VIT_DIR), {
    labelNames: LABELS,
  });
  const cache = new FeatureCache(tempDir(), { frozenImageKey: 'fake-frozen', processorHash: enc.processorHash });
  let computed = 0;
  // A stand-in frozen encoder: per-channel means [N, 3].
  const compute = (p: { pixel_values: Tensor }): Tensor =>
    noGrad(() => {
      computed += p.pixel_values.shape[0]!;
      return p.pixel_values.mean([2, 3]);
    });

  const plain = new BatchLoader(rows, enc, { batchSize: 8, shuffle: false, workers: 0 });
  const expected = new Map<string, number[]>();
  for await (const b of plain.epoch(0)) {
    assert.ok('pixel_values' in b.image!);
    const m = b.image.pixel_values.mean([2, 3]);
    const v = m.toArray();
    m.dispose();
    b.ids.forEach((id, i) => expected.set(id, v.slice(i * 3, i * 3 + 3)));
    disposeBatch(b);
  }

  const loader = new BatchLoader(rows, enc, { batchSize: 3, seed: 3, workers: 1, features: { cache, compute } });
  // 8 posts, 7 distinct images (post 4's file is a copy of post 1's): the copy is computed again only when it
  // shares a batch with its original, before either is cached.
  const together = loader.batches(0).some((b) => b.includes(1) && b.includes(4));
  const afterEpoch: number[] = [];
  for (let epoch = 0; epoch < 2; epoch++) {
    for await (const b of loader.epoch()) {
      assert.ok('features' in b.image!);
      assert.deepEqual(b.image.features.shape, [b.size, 3]);
      const got = b.image.features.toArray();
      b.ids.forEach((id, i) => {
        got
          .slice(i * 3, i * 3 + 3)
          .forEach((x, c) => assert.ok(Math.abs(x - expected.get(id)![c]!) < 1e-6, `post ${id}`));
      });
      disposeBatch(b);
    }
    afterEpoch.push(computed);
  }
  assert.deepEqual(afterEpoch, together ? [8, 8] : [7, 7]);
  assert.equal(cache.size, 7);
  await loader.close();
});
