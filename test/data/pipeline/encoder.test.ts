import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { loadGeneric } from '../../../src/data/generic.js';
import { PostEncoder, disposeBatch } from '../../../src/data/pipeline/encoder.js';
import type { ImagePool } from '../../../src/data/pipeline/image-pool.js';
import { validateRows } from '../../../src/data/pipeline/validate.js';
import type { Tensor } from '../../../src/tensor/index.js';
import { canonicalText, sha1Hex } from '../../../src/data/pipeline/keys.js';
import { Tokenizer } from '../../../src/text/tokenizer.js';
import { decodeImage, loadImageProcessorConfig, processImages } from '../../../src/vision/index.js';
import { BERT_DIR, LABELS, ROBERTA_DIR, VILT_DIR, VIT_DIR, makeDataset } from './fixtures.js';

const ints = (t: { toArray(): number[] }): number[] => t.toArray();

test('bert + vit: padded text, token_type_ids, pixel values as the vision processor makes them, labels, keys', async () => {
  const { file } = await makeDataset(6);
  const rows = loadGeneric(file, { noSaveSplit: true }).rows;
  const tok = Tokenizer.fromModelDir(BERT_DIR);
  const cfg = loadImageProcessorConfig(VIT_DIR);
  const enc = new PostEncoder(tok, cfg, { labelNames: LABELS });
  const b = (await enc.encode(rows))!;
  assert.equal(b.size, 6);
  assert.deepEqual(b.ids, ['p0', 'p1', 'p2', 'p3', 'p4', 'p5']);

  // Text: each row's own encoding, then [PAD] (id 0) with attention 0 up to the longest row.
  const want = rows.map((r) => tok.encode(r.text).ids);
  const L = Math.max(...want.map((w) => w.length));
  assert.deepEqual(b.text!.input_ids.shape, [6, L]);
  assert.equal(b.text!.input_ids.dtype, 'int64');
  const ids = ints(b.text!.input_ids);
  const mask = ints(b.text!.attention_mask);
  want.forEach((w, i) => {
    assert.deepEqual(ids.slice(i * L, i * L + w.length), w);
    assert.deepEqual(ids.slice(i * L + w.length, (i + 1) * L), new Array(L - w.length).fill(0));
    assert.deepEqual(mask.slice(i * L, (i + 1) * L), [
      ...new Array(w.length).fill(1),
      ...new Array(L - w.length).fill(0),
    ]);
  });
  assert.ok(
    want.some((w) => w.length < L),
    'the fixture has rows shorter than the longest',
  );
  assert.deepEqual(b.text!.token_type_ids!.shape, [6, L]);
  assert.ok(ints(b.text!.token_type_ids!).every((v) => v === 0));

  // Images: identical to decode + processImages of the vision layer.
  assert.ok('pixel_values' in b.image!);
  assert.deepEqual(b.image.pixel_values.shape, [6, 3, 32, 32]);
  assert.equal(b.image.pixel_mask, undefined);
  const decoded = await Promise.all(rows.map((r) => decodeImage(r.image!)));
  const ref = processImages(cfg, decoded);
  assert.deepEqual(Array.from(b.image.pixel_values.data() as Float32Array), Array.from(ref.pixel_values));

  // Labels cycle negative, neutral, positive.
  assert.deepEqual(ints(b.labels!), [0, 1, 2, 0, 1, 2]);

  // Keys: post 3 is post 0's text with other case/spacing; post 4's image is a byte copy of post 1's.
  assert.equal(b.textKeys![3], b.textKeys![0]);
  assert.equal(new Set(b.textKeys).size, 5);
  assert.equal(b.textKeys![0], sha1Hex('sunny beach day'));
  assert.equal(canonicalText('  SUNNY   beach Day '), 'sunny beach day');
  assert.equal(b.imageKeys![4], b.imageKeys![1]);
  assert.equal(new Set(b.imageKeys).size, 5);
  disposeBatch(b);
  assert.ok(b.text!.input_ids.disposed);
});

test('truncation at maxLength keeps the final [SEP]; multi-label targets; no labels for prediction', async () => {
  const { file } = await makeDataset(6);
  const rows = loadGeneric(file, { noSaveSplit: true }).rows;
  const tok = Tokenizer.fromModelDir(BERT_DIR);
  const cfg = loadImageProcessorConfig(VIT_DIR);
  const enc = new PostEncoder(tok, cfg, { labelNames: LABELS, maxLength: 6 });
  const b = (await enc.encode(rows))!;
  assert.deepEqual(b.text!.input_ids.shape, [6, 6]);
  const ids = ints(b.text!.input_ids);
  for (let i = 0; i < 6; i++) {
    assert.equal(ids[i * 6], tok.tokenToId('[CLS]'));
    assert.equal(ids[i * 6 + 5], tok.tokenToId('[SEP]'));
  }
  disposeBatch(b);

  const multi = new PostEncoder(tok, cfg, { labelNames: LABELS, multiLabel: true });
  const mrows = rows
    .slice(0, 2)
    .map((r, i) => ({ ...r, label: undefined, labels: i === 0 ? ['negative', 'positive'] : ['neutral'] }));
  const mb = (await multi.encode(mrows))!;
  assert.equal(mb.labels!.dtype, 'float32');
  assert.deepEqual(mb.labels!.shape, [2, 3]);
  assert.deepEqual(mb.labels!.toArray(), [1, 0, 1, 0, 1, 0]);
  disposeBatch(mb);

  const pred = new PostEncoder(tok, cfg, { labelNames: LABELS, withLabels: false });
  const pb = (await pred.encode(rows.map((r) => ({ ...r, label: undefined }))))!;
  assert.equal(pb.labels, undefined);
  disposeBatch(pb);
});

test('roberta pads with <pad> and has no token_type_ids; tweet normalisation changes text and keys', async () => {
  const { file } = await makeDataset(6);
  const rows = loadGeneric(file, { noSaveSplit: true }).rows.slice(0, 3);
  const tok = Tokenizer.fromModelDir(ROBERTA_DIR);
  const enc = new PostEncoder(tok, loadImageProcessorConfig(VIT_DIR), { labelNames: LABELS });
  assert.equal(enc.padId, tok.tokenToId('<pad>'));
  assert.equal(enc.padId, 1);
  const b = (await enc.encode(rows))!;
  assert.equal(b.text!.token_type_ids, undefined);
  const L = b.text!.input_ids.shape[1]!;
  const short = tok.encode(rows[0]!.text).ids.length;
  assert.ok(short < L);
  assert.equal(ints(b.text!.input_ids)[L - 1], 1);
  disposeBatch(b);

  const tw = new PostEncoder(Tokenizer.fromModelDir(BERT_DIR), loadImageProcessorConfig(VIT_DIR), {
    labelNames: LABELS,
    tweetNormalize: true,
  });
  assert.equal(tw.normaliseText('@alice look http://t.co/x'), '@USER look HTTPURL');
  const twRows = [
    { ...rows[0]!, text: '@alice sunny day' },
    { ...rows[1]!, text: '@bob  sunny day' },
  ];
  const tb = (await tw.encode(twRows))!;
  assert.equal(tb.textKeys![0], tb.textKeys![1]);
  disposeBatch(tb);
});

test('vilt: images of different sizes padded to the largest with pixel_mask', async () => {
  const { file } = await makeDataset(6, {
    sizes: [
      [40, 30],
      [30, 60],
    ],
  });
  const rows = loadGeneric(file, { noSaveSplit: true }).rows.slice(0, 2);
  const cfg = loadImageProcessorConfig(VILT_DIR);
  const enc = new PostEncoder(Tokenizer.fromModelDir(VILT_DIR), cfg, { labelNames: LABELS, maxLength: 40 });
  const b = (await enc.encode(rows))!;
  assert.ok('pixel_values' in b.image!);
  const ref = processImages(cfg, await Promise.all(rows.map((r) => decodeImage(r.image!))));
  assert.deepEqual(b.image.pixel_values.shape, ref.shape);
  assert.deepEqual(b.image.pixel_mask!.shape, ref.pixel_mask!.shape);
  assert.deepEqual(ints(b.image.pixel_mask!), Array.from(ref.pixel_mask!.data, Number));
  assert.deepEqual(Array.from(b.image.pixel_values.data() as Float32Array), Array.from(ref.pixel_values));
  // The two images differ in size, so one of them is padded.
  assert.ok(ints(b.image.pixel_mask!).includes(0));
  disposeBatch(b);
});

test('rows from the generic loader remember file and line without changing their fields', async () => {
  const { file } = await makeDataset(6);
  const rows = loadGeneric(join(file), { noSaveSplit: true }).rows;
  assert.deepEqual(Object.keys(rows[2]!).sort(), ['id', 'image', 'label', 'split', 'text']);
  const { rowOrigin } = await import('../../../src/data/generic.js');
  assert.deepEqual(rowOrigin(rows[2]!), { file, line: 3 });
  assert.deepEqual(rowOrigin({ id: 'x', text: 't', image: null, extra: { line: 9 } }), { line: 9 });
  assert.equal(rowOrigin({ id: 'x', text: 't', image: null }), undefined);
});

test('a text-only encoder never opens an image; an image-only one needs no tokenizer and ignores the text', async () => {
  const { file } = await makeDataset(4);
  const rows = loadGeneric(file, { noSaveSplit: true }).rows;
  const tok = Tokenizer.fromModelDir(BERT_DIR);
  const cfg = loadImageProcessorConfig(VIT_DIR);
  // a pool that fails any job: the text-only encoder must not submit one
  const noImages = { run: () => Promise.reject(new Error('an image job was submitted')) } as unknown as ImagePool;
  const textOnly = new PostEncoder(tok, null, { labelNames: LABELS });
  assert.deepEqual(textOnly.modalities, ['text']);
  const imageless = rows.map((r, i) => ({ ...r, image: i % 2 ? null : '/no/such/image.png' }));
  assert.equal(validateRows(imageless, textOnly).rows.length, 4);
  const t = (await textOnly.encode(imageless, { pool: noImages }))!;
  const both = (await new PostEncoder(tok, cfg, { labelNames: LABELS }).encode(rows))!;
  assert.equal(t.image, undefined);
  assert.equal(t.imageKeys, undefined);
  assert.deepEqual(ints(t.text!.input_ids), ints(both.text!.input_ids));
  assert.deepEqual(t.textKeys, both.textKeys);
  assert.deepEqual(ints(t.labels!), ints(both.labels!));
  assert.throws(() => textOnly.imageConfig, /this post encoder reads no images/);

  const imageOnly = new PostEncoder(null, cfg, { labelNames: LABELS });
  assert.deepEqual(imageOnly.modalities, ['image']);
  const textless = rows.map((r) => ({ ...r, text: '' }));
  assert.equal(validateRows(textless, imageOnly).rows.length, 4);
  const v = (await imageOnly.encode(textless))!;
  assert.equal(v.text, undefined);
  assert.equal(v.textKeys, undefined);
  assert.deepEqual(v.imageKeys, both.imageKeys);
  assert.equal(
    (v.image as { pixel_values: Tensor }).pixel_values
      .sub((both.image as { pixel_values: Tensor }).pixel_values)
      .abs()
      .max()
      .item(),
    0,
  );
  // and the pre-flight still refuses what the encoder does read
  assert.equal(
    validateRows(textless, new PostEncoder(tok, cfg, { labelNames: LABELS }), { onBadRow: 'skip' }).badRows[
      'empty-text'
    ],
    4,
  );
  assert.throws(
    () => new PostEncoder(null, null, { labelNames: LABELS }),
    /give a tokenizer, an image processor config or both/,
  );
  for (const b of [t, both, v]) disposeBatch(b);
});
