import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadGeneric } from '../../../src/data/generic.js';
import type { Row } from '../../../src/data/rows.js';
import { PostEncoder, disposeBatch } from '../../../src/data/pipeline/encoder.js';
import { BatchLoader, type BatchLoaderOptions } from '../../../src/data/pipeline/loader.js';
import type { PostBatch } from '../../../src/multimodal/types.js';
import { Tokenizer } from '../../../src/text/tokenizer.js';
import { loadImageProcessorConfig } from '../../../src/vision/index.js';
import { BERT_DIR, LABELS, VIT_DIR, makeDataset } from './fixtures.js';

interface Seen {
  ids: string[];
  inputIds: number[];
  pixelSum: number;
  labels: number[];
}

function summary(b: PostBatch): Seen {
  const px = 'pixel_values' in b.image! ? (b.image!.pixel_values.data() as Float32Array) : new Float32Array();
  return {
    ids: b.ids,
    inputIds: b.text!.input_ids.toArray(),
    pixelSum: px.reduce((a, v) => a + v, 0),
    labels: b.labels!.toArray(),
  };
}

async function take(loader: BatchLoader, epoch?: number, limit = Infinity): Promise<Seen[]> {
  const out: Seen[] = [];
  for await (const b of loader.epoch(epoch)) {
    out.push(summary(b));
    disposeBatch(b);
    if (out.length >= limit) break;
  }
  return out;
}

let shared: { rows: Row[]; enc: PostEncoder } | undefined;
async function setup(): Promise<{ rows: Row[]; enc: PostEncoder }> {
  if (shared) return shared;
  const { file } = await makeDataset(11);
  const rows = loadGeneric(file, { noSaveSplit: true }).rows;
  shared = {
    rows,
    enc: new PostEncoder(Tokenizer.fromModelDir(BERT_DIR), loadImageProcessorConfig(VIT_DIR), { labelNames: LABELS }),
  };
  return shared;
}

function loader(rows: Row[], enc: PostEncoder, o: Partial<BatchLoaderOptions> = {}): BatchLoader {
  return new BatchLoader(rows, enc, { batchSize: 3, seed: 7, workers: 1, ...o });
}

test('seeded order: the same seed and epoch give the same batches, epochs differ, every row once per epoch', async () => {
  const { rows, enc } = await setup();
  const a = loader(rows, enc);
  const b = loader(rows, enc, { workers: 0 });
  assert.equal(a.numBatches, 4);
  const a0 = await take(a, 0);
  const b0 = await take(b, 0);
  assert.deepEqual(a0, b0, 'workers and inline decoding give identical batches');
  assert.deepEqual(
    a0.map((s) => s.ids.length),
    [3, 3, 3, 2],
  );
  const ids0 = a0.flatMap((s) => s.ids);
  assert.deepEqual([...ids0].sort(), rows.map((r) => r.id).sort());
  assert.notDeepEqual(
    ids0,
    rows.map((r) => r.id),
    'shuffled',
  );
  const a1 = await take(a, 1);
  assert.notDeepEqual(
    a1.flatMap((s) => s.ids),
    ids0,
    'epoch 1 has its own order',
  );
  assert.deepEqual(a.order(1), loader(rows, enc).order(1));
  assert.notDeepEqual(loader(rows, enc, { seed: 8 }).order(0), a.order(0));
  assert.deepEqual(
    loader(rows, enc, { shuffle: false }).order(3),
    rows.map((_, i) => i),
  );
  await Promise.all([a.close(), b.close()]);
});

test('state/restore mid-epoch: a resumed loader yields exactly the remaining batches, then the next epoch', async () => {
  const { rows, enc } = await setup();
  const full = loader(rows, enc);
  const e0 = await take(full);
  assert.deepEqual(full.state(), { epoch: 1, position: 0, seed: 7, rows: 11 });
  const e1 = await take(full);

  const first = loader(rows, enc);
  const head = await take(first, undefined, 2);
  assert.deepEqual(head, e0.slice(0, 2));
  const saved = first.state();
  assert.deepEqual(saved, { epoch: 0, position: 2, seed: 7, rows: 11 });
  await first.close();

  const resumed = loader(rows, enc);
  resumed.restore(JSON.parse(JSON.stringify(saved)));
  assert.deepEqual(await take(resumed), e0.slice(2));
  assert.deepEqual(await take(resumed), e1);
  await Promise.all([full.close(), resumed.close()]);

  const other = loader(rows, enc);
  assert.throws(() => other.restore({ ...saved, seed: 8 }), /seed 8 but this loader has seed 7/);
  assert.throws(() => other.restore({ ...saved, rows: 12 }), /saved for 12 rows but the loader has 11/);
  assert.throws(() => other.restore({ epoch: 0, position: 5 }), /position 5 is past the 4 batches/);
  await other.close();
});

test('dropLast leaves out the short final batch; prefetch 0 gives the same batches', async () => {
  const { rows, enc } = await setup();
  const d = loader(rows, enc, { dropLast: true, prefetch: 0 });
  assert.equal(d.numBatches, 3);
  const got = await take(d, 0);
  assert.deepEqual(
    got.map((s) => s.ids.length),
    [3, 3, 3],
  );
  const ref = await take(loader(rows, enc, { prefetch: 4 }), 0);
  assert.deepEqual(got, ref.slice(0, 3));
  await d.close();
});
