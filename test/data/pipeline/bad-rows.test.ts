import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadGeneric } from '../../../src/data/generic.js';
import { DataError } from '../../../src/data/rows.js';
import { formatLeftOut, skippedNote } from '../../../src/data/left-out.js';
import { BadRowError } from '../../../src/data/pipeline/bad-rows.js';
import { PostEncoder, disposeBatch } from '../../../src/data/pipeline/encoder.js';
import { BatchLoader } from '../../../src/data/pipeline/loader.js';
import { validateRows, validateRowsDecoding } from '../../../src/data/pipeline/validate.js';
import { Tokenizer } from '../../../src/text/tokenizer.js';
import { loadImageProcessorConfig } from '../../../src/vision/index.js';
import { BERT_DIR, LABELS, VIT_DIR, makeDataset, type Post } from './fixtures.js';

function encoder(): PostEncoder {
  return new PostEncoder(Tokenizer.fromModelDir(BERT_DIR), loadImageProcessorConfig(VIT_DIR), { labelNames: LABELS });
}

/** 8 good posts plus, at lines 9..13: missing image, garbage bytes, unknown label, empty text, no image. */
async function badDataset(): Promise<{ dir: string; file: string }> {
  const { dir, file, posts } = await makeDataset(8);
  writeFileSync(join(dir, 'img', 'garbage.png'), 'this is not a png at all');
  const extra: Post[] = [
    { id: 'm1', text: 'where is it', image: 'img/nothere.jpg', label: 'neutral' },
    { id: 'g1', text: 'broken picture', image: 'img/garbage.png', label: 'neutral' },
    { id: 'u1', text: 'odd label', image: 'img/2.png', label: 'ecstatic' },
    { id: 'e1', text: '   ', image: 'img/2.png', label: 'positive' },
    { id: 't1', text: 'text only', image: null, label: 'positive' },
  ];
  writeFileSync(file, [...posts, ...extra].map((p) => JSON.stringify({ ...p, split: 'train' })).join('\n') + '\n');
  return { dir, file };
}

test("validateRows 'error' names the first bad row's id, file and line, and counts the others", async () => {
  const { file } = await badDataset();
  // Missing images stay in the rows (kept text-only would hide them), so load with 'keep' and let the pipeline decide.
  const rows = loadGeneric(file, { onMissingImage: 'keep' }).rows;
  assert.equal(rows.length, 13);
  assert.throws(
    () => validateRows(rows, encoder()),
    (e: unknown) => {
      assert.ok(e instanceof BadRowError && e instanceof DataError);
      assert.equal(e.bad.id, 'm1');
      assert.equal(e.bad.line, 9);
      assert.equal(e.more, 4);
      assert.match(
        e.message,
        new RegExp(`^post m1 \\(${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:9\\): missing-image: `),
      );
      assert.match(e.message, /and 4 more bad rows/);
      assert.match(e.message, /--on-bad-row skip/);
      return true;
    },
  );
});

test("validateRows 'skip' keeps the good rows and counts each reason", async () => {
  const { file } = await badDataset();
  // The loader's default 'drop' already leaves out the missing image file (as 'missing-image' in badRows).
  const loaded = loadGeneric(file);
  assert.equal(loaded.badRows['missing-image'], 1);
  const v = validateRows(loaded.rows, encoder(), { onBadRow: 'skip' });
  assert.deepEqual(
    v.rows.map((r) => r.id),
    ['p0', 'p1', 'p2', 'p3', 'p4', 'p5', 'p6', 'p7'],
  );
  assert.deepEqual(v.badRows, { 'unreadable-image': 1, 'unknown-label': 1, 'empty-text': 1, 'missing-image': 1 });
  assert.deepEqual(
    v.bad.map((b) => [b.id, b.reason, b.line]),
    [
      ['g1', 'unreadable-image', 10],
      ['u1', 'unknown-label', 11],
      ['e1', 'empty-text', 12],
      ['t1', 'missing-image', 13],
    ],
  );
  assert.match(v.bad[1]!.detail, /label 'ecstatic' is not one of negative, neutral, positive/);
});

test('an image that passes the header probe but does not decode: skipped and counted by the loader, or an error naming its line', async () => {
  const { dir, file, posts } = await makeDataset(6);
  // A JPEG cut after its headers: the probe reads the size, the decoder fails.
  const whole = readFileSync(join(dir, 'img', '1.jpg'));
  writeFileSync(join(dir, 'img', 'cut.jpg'), whole.subarray(0, 400));
  const all = [...posts, { id: 'cut', text: 'half an image', image: 'img/cut.jpg', label: 'positive' }];
  writeFileSync(file, all.map((p) => JSON.stringify({ ...p, split: 'train' })).join('\n') + '\n');
  const rows = loadGeneric(file).rows;
  const enc = encoder();
  const v = validateRows(rows, enc);
  assert.equal(v.rows.length, 7, 'the header probe accepts the cut JPEG');

  const skip = new BatchLoader(v.rows, enc, {
    batchSize: 4,
    shuffle: false,
    onBadRow: 'skip',
    workers: 1,
    preflight: v.log,
  });
  const sizes: number[] = [];
  for await (const b of skip.epoch(0)) {
    sizes.push(b.size);
    assert.ok(!b.ids.includes('cut'));
    disposeBatch(b);
  }
  assert.deepEqual(sizes, [4, 2]);
  assert.deepEqual(skip.badRows, { 'unreadable-image': 1 });
  // a second epoch meets the same image again: still one post left out
  for await (const b of skip.epoch(1)) disposeBatch(b);
  assert.deepEqual(skip.badRows, { 'unreadable-image': 1 });
  await skip.close();

  const strict = new BatchLoader(v.rows, enc, { batchSize: 4, shuffle: false, workers: 1 });
  await assert.rejects(
    async () => {
      for await (const b of strict.epoch(0)) disposeBatch(b);
    },
    (e: unknown) => {
      assert.ok(e instanceof BadRowError);
      assert.equal(e.bad.id, 'cut');
      assert.equal(e.bad.line, 7);
      assert.equal(e.bad.reason, 'unreadable-image');
      assert.match(e.message, /cut\.jpg/);
      return true;
    },
  );
  // The failing batch was not taken: a resumed run would retry it.
  assert.deepEqual(strict.state(), { epoch: 0, position: 1, seed: 42, rows: 7 });
  await strict.close();

  // The decoding pre-flight finds it before any batch.
  await assert.rejects(
    validateRowsDecoding(rows, enc),
    (e: unknown) => e instanceof BadRowError && e.bad.id === 'cut' && e.bad.line === 7,
  );
  const full = await validateRowsDecoding(rows, enc, { onBadRow: 'skip' });
  assert.equal(full.rows.length, 6);
  assert.deepEqual(full.badRows, { 'unreadable-image': 1 });
  assert.deepEqual(
    full.bad.map((b) => b.id),
    ['cut'],
  );
});

test('an image over maxPixels is refused by the header probe', async () => {
  const { file } = await makeDataset(6);
  const rows = loadGeneric(file, { noSaveSplit: true }).rows;
  const enc = new PostEncoder(Tokenizer.fromModelDir(BERT_DIR), loadImageProcessorConfig(VIT_DIR), {
    labelNames: LABELS,
    maxPixels: 2000,
  });
  // Sizes cycle 40x30 (1200 px), 32x48 (1536), 64x64 (4096), 50x20 (1000): post p2 is over the limit.
  const v = validateRows(rows, enc, { onBadRow: 'skip' });
  assert.deepEqual(
    v.bad.map((b) => [b.id, b.reason]),
    [['p2', 'unreadable-image']],
  );
  assert.match(v.bad[0]!.detail, /64x64 = 4096 pixels is over the limit of 2000/);
});

test('AVIF (beyond the header probe) passes the pre-flight and decodes', async () => {
  const { dir, file } = await makeDataset(6);
  const sharp = (await import('sharp')).default;
  await sharp({ create: { width: 40, height: 30, channels: 3, background: { r: 200, g: 10, b: 30 } } })
    .avif()
    .toFile(join(dir, 'img', 'a.avif'));
  writeFileSync(
    file,
    JSON.stringify({ id: 'av', text: 'modern format', image: 'img/a.avif', label: 'neutral' }) + '\n',
  );
  const rows = loadGeneric(file, { noSaveSplit: true }).rows;
  const enc = encoder();
  assert.equal(validateRows(rows, enc).rows.length, 1);
  const b = (await enc.encode(rows))!;
  assert.ok('pixel_values' in b.image!);
  assert.deepEqual(b.image.pixel_values.shape, [1, 3, 32, 32]);
  disposeBatch(b);
});

test('a JSONL file moved away from its images: the error names the path looked for and where paths are resolved from', async () => {
  const { dir, file } = await badDataset();
  const moved = join(dir, 'moved');
  mkdirSync(moved);
  const there = join(moved, 'posts.jsonl');
  copyFileSync(file, there);
  // as train, evaluate and predict load: missing images kept for the bad-row policy to decide
  const rows = loadGeneric(there, { onMissingImage: 'keep' }).rows;
  assert.throws(
    () => validateRows(rows, encoder()),
    (e: unknown) => {
      assert.ok(e instanceof BadRowError);
      assert.equal(e.bad.id, 'p0');
      assert.equal(
        e.bad.detail,
        `image file not found: ${join(moved, 'img', '0.png')}; image paths in ${there} are relative to ${moved}`,
      );
      assert.match(e.message, /--on-bad-row skip .*--missing-image blank/);
      return true;
    },
  );
  // a post that never had an image says so (no path was looked for)
  const v = validateRows(loadGeneric(file, { onMissingImage: 'keep' }).rows, encoder(), { onBadRow: 'skip' });
  assert.match(v.bad.find((b) => b.id === 't1')!.detail, /^the post has no image/);
  assert.match(v.bad.find((b) => b.id === 'm1')!.detail, /^image file not found: .*nothere\.jpg/);
  // the summary names, per reason, the count, the ids and the details
  const lines = formatLeftOut('train split', v.log.groups());
  assert.equal(lines[0], 'train split: 5 posts');
  assert.ok(lines.includes('  missing-image 2 — ids m1, t1'), lines.join('\n'));
  assert.ok(
    lines.some((l) => l.startsWith(`    post m1 (${file}:9): image file not found: `)),
    lines.join('\n'),
  );
  assert.equal(skippedNote(v.log.groups()).split(';')[0], '5 skipped: missing-image 2 — ids m1, t1');
});
