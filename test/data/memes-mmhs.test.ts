import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { loadHatefulMemes } from '../../src/data/formats/hateful-memes.js';
import { loadMmhs150k } from '../../src/data/formats/mmhs150k.js';
import { buildHatefulMemes, buildMmhs } from './datasets.js';
import { put, tempDir } from './helpers.js';

const jsonl = (objs: object[]): string => objs.map((o) => JSON.stringify(o)).join('\n') + '\n';

test('Hateful Memes: seen split (default) and unseen split, img paths from the files', () => {
  const dir = buildHatefulMemes();
  const seen = loadHatefulMemes(dir);
  assert.deepEqual(
    seen.rows.map((x) => [x.id, x.label, x.split, x.image]),
    [
      ['42953', 'not-hateful', 'train', join(dir, 'img', '42953.png')],
      ['23058', 'hateful', 'train', join(dir, 'img', '23058.png')],
      ['8291', 'hateful', 'dev', join(dir, 'img', '08291.png')],
      ['16395', 'hateful', 'test', join(dir, 'img', '16395.png')],
    ],
  );
  assert.deepEqual(seen.dropped, {});
  assert.deepEqual(seen.badRows, { 'missing-image': 1 });
  const unseen = loadHatefulMemes(dir, { variant: 'unseen', onMissingImage: 'keep' });
  assert.deepEqual(
    unseen.rows.map((x) => [x.id, x.split]),
    [
      ['42953', 'train'],
      ['23058', 'train'],
      ['1235', 'train'],
      ['8291', 'dev'],
      ['46971', 'dev'],
      ['10584', 'test'],
    ],
  );
  assert.equal(unseen.rows[2]!.image, null);
});

test('Hateful Memes: an img path leaving the folder is refused; a bad line names file and line', () => {
  const dir = buildHatefulMemes();
  put(
    join(dir, 'dev_seen.jsonl'),
    jsonl([
      { id: 1, img: 'img/1.png', label: 0, text: 'a' },
      { id: 2, img: '../../etc/passwd', label: 0, text: 'b' },
    ]),
  );
  assert.throws(
    () => loadHatefulMemes(dir),
    /dev_seen\.jsonl:2 field 'img': path '\.\.\/\.\.\/etc\/passwd' leaves the dataset folder/,
  );
  put(join(dir, 'dev_seen.jsonl'), '{"id": 1, "img": "img/1.png", "label": 0, "text": "a"}\n{"id": 2, "img": "img/2.p');
  assert.throws(() => loadHatefulMemes(dir), /dev_seen\.jsonl:2: not valid JSON/);
  assert.throws(() => loadHatefulMemes(tempDir()), /train\.jsonl not found \(expected the Hateful Memes train file\)/);
});

test('MMHS150K: binary majority rule, official splits, OCR text, annotator votes', () => {
  const dir = buildMmhs();
  const r = loadMmhs150k(dir);
  assert.deepEqual(
    r.rows.map((x) => [x.id, x.label, x.split]),
    [
      ['1114679353714016256', 'hate', 'train'],
      ['1063020048816660480', 'hate', 'train'],
      ['1108927368075374593', 'not-hate', 'dev'],
    ],
  );
  assert.deepEqual(r.rows[1]!.extra, {
    annotator_labels: ['OtherHate', 'OtherHate', 'NotHate'],
    ocr_text: 'TEXT IN THE IMAGE',
  });
  assert.equal(r.rows[2]!.text, 'mostly fine https://t.co/x');
  assert.deepEqual(r.dropped, { 'missing-annotation': 1, 'not-in-split': 1 });
  assert.deepEqual(r.badRows, { 'missing-image': 1 });
});

test('MMHS150K: six-way majority; three different votes are dropped', () => {
  const r = loadMmhs150k(buildMmhs(), { variant: 'six-way', onMissingImage: 'keep' });
  assert.deepEqual(
    r.rows.map((x) => [x.id, x.label]),
    [
      ['1063020048816660480', 'OtherHate'],
      ['1108927368075374593', 'NotHate'],
      ['1114558534635618305', 'NotHate'],
    ],
  );
  assert.deepEqual(r.dropped, { 'no-majority': 1, 'missing-annotation': 1, 'not-in-split': 1 });
});

test('MMHS150K: a bad split line names file and line', () => {
  const dir = buildMmhs();
  put(join(dir, 'splits', 'val_ids.txt'), '1108927368075374593\n../../etc/passwd\n');
  assert.throws(() => loadMmhs150k(dir), /val_ids\.txt:2: expected a tweet id, found '\.\.\/\.\.\/etc\/passwd'/);
});
