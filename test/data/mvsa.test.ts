import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadMvsaMultiple, loadMvsaSingle } from '../../src/data/formats/mvsa.js';
import { DataError } from '../../src/data/rows.js';
import { buildMvsaSingle } from './datasets.js';
import { put, putJpeg, tempDir } from './helpers.js';

test('MVSA-Single: label rule, legacy encoding, missing files, duplicates', () => {
  const dir = buildMvsaSingle();
  const r = loadMvsaSingle(dir);
  assert.deepEqual(
    r.rows.map((x) => [x.id, x.text, x.label, x.image, x.extra]),
    [
      [
        '1',
        'Great day at the beach! #sun http://t.co/abc',
        'positive',
        join(dir, 'data', '1.jpg'),
        { text_label: 'positive', image_label: 'positive' },
      ],
      [
        '2',
        'Traffic again.',
        'negative',
        join(dir, 'data', '2.jpg'),
        { text_label: 'neutral', image_label: 'negative' },
      ],
      [
        '4',
        'café “ok”',
        'negative',
        join(dir, 'data', '4.jpg'),
        { text_label: 'negative', image_label: 'neutral', text_encoding: 'windows-1252' },
      ],
      [
        '7',
        'great day at the beach!  #sun http://t.co/xyz',
        'positive',
        join(dir, 'data', '7.jpg'),
        { text_label: 'positive', image_label: 'positive' },
      ],
    ],
  );
  assert.deepEqual(r.dropped, { 'text-image-conflict': 1, 'missing-text': 1, 'duplicate-id': 1 });
  assert.deepEqual(r.badRows, { 'missing-image': 1 });
  assert.deepEqual(r.encodings, { 'utf-8': 3, 'windows-1252': 1 });
  assert.equal(r.split.kind, 'seeded');
  const saved = JSON.parse(readFileSync(join(dir, 'tandem-split-mvsa-single-seed42.json'), 'utf8'));
  assert.deepEqual(saved.splits, Object.fromEntries(r.rows.map((x) => [x.id, x.split])));
  // two posts per label: 1.6 / 0.2 / 0.2 by 8:1:1, so largest remainders put both in train
  assert.deepEqual(
    r.rows.map((x) => x.split),
    ['train', 'train', 'train', 'train'],
  );
  // a second load reuses the saved split
  assert.deepEqual(
    loadMvsaSingle(dir).rows.map((x) => x.split),
    r.rows.map((x) => x.split),
  );
});

test('MVSA-Single: keeping posts with a missing image as text-only', () => {
  const r = loadMvsaSingle(buildMvsaSingle(), { onMissingImage: 'keep', noSaveSplit: true });
  const five = r.rows.find((x) => x.id === '5')!;
  assert.equal(five.image, null);
  assert.equal(five.label, 'neutral');
  assert.equal(five.extra!.image_missing, true);
  assert.equal(r.keptWithoutImage, 1);
  assert.equal(r.badRows['missing-image'], undefined);
});

test('MVSA-Multiple: per-modality majority of three annotators, then the combination rule', () => {
  const dir = tempDir('mvsa-multiple-');
  put(
    join(dir, 'labelResultAll.txt'),
    [
      'ID\ttext,image\ttext,image\ttext,image',
      '10\tpositive,positive\tpositive,neutral\tnegative,positive', // text pos 2/3, image pos 2/3
      '11\tneutral,negative\tneutral,negative\tpositive,neutral', // neutral text, negative image
      '12\tpositive,negative\tpositive,negative\tneutral,neutral', // positive vs negative
      '13\tpositive,positive\tnegative,neutral\tneutral,negative', // text has no majority
    ].join('\n'),
  );
  for (const id of ['10', '11', '12', '13']) {
    put(join(dir, 'data', `${id}.txt`), `post ${id}`);
    putJpeg(join(dir, 'data', `${id}.jpg`));
  }
  const r = loadMvsaMultiple(dir, { noSaveSplit: true });
  assert.deepEqual(
    r.rows.map((x) => [x.id, x.label, x.extra!.text_label, x.extra!.image_label]),
    [
      ['10', 'positive', 'positive', 'positive'],
      ['11', 'negative', 'neutral', 'negative'],
    ],
  );
  assert.deepEqual(r.rows[0]!.extra!.annotations, ['positive,positive', 'positive,neutral', 'negative,positive']);
  assert.deepEqual(r.dropped, { 'text-image-conflict': 1, 'no-majority': 1 });
  assert.ok(!existsSync(join(dir, 'tandem-split-mvsa-multiple-seed42.json')), 'noSaveSplit writes nothing');
});

test('MVSA: a truncated label file names the line; a bad label names the line; missing files are named', () => {
  const dir = tempDir('mvsa-bad-');
  put(
    join(dir, 'labelResultAll.txt'),
    'ID\ttext,image\ttext,image\ttext,image\n10\tpositive,positive\tpositive,neutral\tnegative,positive\n11\tneutral,negative\tneut',
  );
  put(join(dir, 'data', '10.txt'), 'x');
  assert.throws(
    () => loadMvsaMultiple(dir),
    (e: Error) =>
      e instanceof DataError &&
      /labelResultAll\.txt:3: expected 3 annotations 'text,image' after the id, found 2 \(truncated line\?\)/.test(
        e.message,
      ),
  );
  put(join(dir, 'labelResultAll.txt'), 'ID\ttext,image\n10\tpositive,happy\n');
  assert.throws(
    () => loadMvsaSingle(dir),
    /labelResultAll\.txt:2: expected 'text_label,image_label' with labels positive\/neutral\/negative, found 'positive,happy'/,
  );
  const empty = tempDir('mvsa-empty-');
  assert.throws(
    () => loadMvsaSingle(empty),
    /labelResultAll\.txt not found \(expected the mvsa-single label file beside data\/\)/,
  );
});
