import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { loadTir } from '../../src/data/formats/tir.js';
import { buildTir } from './datasets.js';
import { put, putJpeg, tempDir } from './helpers.js';

test('TIR: four classes from the one-hot columns, official split, malformed ids and inconsistent rows dropped', () => {
  const dir = buildTir();
  const r = loadTir(dir);
  assert.deepEqual(
    r.rows.map((x) => [x.id, x.text, x.label, x.split]),
    [
      ['111', 'sunset, again', 'image_adds_text_repr', 'train'],
      ['112', 'lunch "time"', 'image_adds_text_notrepr', 'train'],
      ['113', 'plain', 'image_notadds_text_repr', 'dev'],
      ['114', 'nothing', 'image_notadds_text_notrepr', 'test'],
    ],
  );
  assert.equal(r.rows[0]!.image, join(dir, 'text-image', 'T111.jpg'));
  assert.deepEqual(r.rows[1]!.extra, { image_adds: 1, text_is_represented: 0 });
  assert.deepEqual(r.dropped, { 'malformed-id': 1, 'inconsistent-label': 1 });
  assert.deepEqual(r.badRows, { 'missing-image': 1 });
  assert.deepEqual(r.classNames, [
    'image_adds_text_repr',
    'image_adds_text_notrepr',
    'image_notadds_text_repr',
    'image_notadds_text_notrepr',
  ]);
});

test('TIR: the two binary tasks', () => {
  const dir = buildTir();
  const adds = loadTir(dir, { variant: 'image-adds' });
  assert.deepEqual(
    adds.rows.map((x) => [x.id, x.label]),
    [
      ['111', 'image-adds'],
      ['112', 'image-adds'],
      ['113', 'image-does-not-add'],
      ['114', 'image-does-not-add'],
      ['115', 'image-adds'],
    ],
  );
  const repr = loadTir(dir, { variant: 'text-repr' });
  assert.deepEqual(
    repr.rows.map((x) => x.label),
    ['text-represented', 'text-not-represented', 'text-represented', 'text-not-represented', 'text-represented'],
  );
  assert.deepEqual(repr.dropped, { 'malformed-id': 1 });
  assert.deepEqual(repr.badRows, { 'missing-image': 1 });
});

test('TIR: the public textimage.csv (no text column) is refused with what to add; with text and no split a seeded split is made', () => {
  const dir = tempDir('tir-public-');
  put(
    join(dir, 'textimage.csv'),
    'tweet_id,text_is_represented,image_adds,image_adds_text_repr,image_adds_text_notrepr,image_notadds_text_repr,image_notadds_text_notrepr,,,\n1,0,0,0,0,0,1,,,\n',
  );
  assert.throws(
    () => loadTir(dir),
    /textimage\.csv:1: missing column 'text' .*add the rehydrated tweet text as column 'text'/,
  );
  put(join(dir, 'textimage.csv'), 'tweet_id,text,text_is_represented,image_adds,,,\n1,a,1,0,,,\n2,b,0,1\n3,c,0,0,,,\n');
  for (const id of ['1', '2', '3']) putJpeg(join(dir, 'images', `${id}.jpg`));
  const r = loadTir(dir, { noSaveSplit: true });
  assert.deepEqual(
    r.rows.map((x) => [x.id, x.label]),
    [
      ['1', 'image_notadds_text_repr'],
      ['2', 'image_adds_text_notrepr'],
      ['3', 'image_notadds_text_notrepr'],
    ],
  );
  assert.equal(r.split.kind, 'seeded');
  assert.deepEqual(
    r.rows.map((x) => x.split),
    ['train', 'train', 'train'],
  );
});
