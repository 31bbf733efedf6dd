import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { loadMmsd2 } from '../../src/data/formats/mmsd2.js';
import { loadMsd } from '../../src/data/formats/msd.js';
import { buildMsd } from './datasets.js';
import { put, putJpeg, tempDir } from './helpers.js';

test('MSD: both label layouts, official splits, keyword filter, missing image, duplicate id', () => {
  const dir = buildMsd();
  const r = loadMsd(dir);
  assert.deepEqual(
    r.rows.map((x) => [x.id, x.text, x.label, x.split, x.extra ?? null]),
    [
      ['100', 'great , another monday # mondays', 'sarcastic', 'train', null],
      ['101', "what a lovely day , isn 't it", 'non-sarcastic', 'train', null],
      ['200', 'love waiting in line', 'sarcastic', 'dev', { label_hashtag: 'sarcastic' }],
      ['201', "nice 'view'", 'non-sarcastic', 'dev', { label_hashtag: 'sarcastic' }],
      ['300', 'i "love" it', 'sarcastic', 'test', { label_hashtag: 'non-sarcastic' }],
    ],
  );
  assert.equal(r.rows[0]!.image, join(dir, 'dataset_image', '100.jpg'));
  assert.deepEqual(r.dropped, { 'sarcasm-keyword': 1, 'duplicate-id': 1 });
  assert.deepEqual(r.badRows, { 'missing-image': 1 });
  assert.equal(r.split.kind, 'official');
  const unfiltered = loadMsd(dir, { variant: 'unfiltered', onMissingImage: 'keep' });
  assert.deepEqual(
    unfiltered.rows.map((x) => x.id),
    ['100', '101', '102', '103', '200', '201', '300'],
  );
  assert.deepEqual(unfiltered.rows[3]!.extra, { image_missing: true });
  assert.deepEqual(unfiltered.dropped, { 'duplicate-id': 1 });
});

test('MSD: the older valid.txt/test.txt at the top level with 3-element lines', () => {
  const dir = tempDir('msd-old-');
  put(join(dir, 'train.txt'), "['1', 'a', 0]\n");
  put(join(dir, 'valid.txt'), "['2', 'b', 1]\n");
  put(join(dir, 'test.txt'), "['3', 'c', 0]\r\n");
  for (const id of ['1', '2', '3']) putJpeg(join(dir, 'dataset_image', `${id}.jpg`));
  const r = loadMsd(dir);
  assert.deepEqual(
    r.rows.map((x) => [x.id, x.label, x.split]),
    [
      ['1', 'non-sarcastic', 'train'],
      ['2', 'sarcastic', 'dev'],
      ['3', 'non-sarcastic', 'test'],
    ],
  );
});

test('MSD: malformed and truncated lines name file and line', () => {
  const dir = buildMsd();
  put(join(dir, 'text', 'valid2.txt'), "['200', 'ok', 1, 1]\n['201', 'cut off here\n");
  assert.throws(
    () => loadMsd(dir),
    new RegExp(`${join(dir, 'text', 'valid2.txt').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:2: expected a list like`),
  );
  put(join(dir, 'text', 'valid2.txt'), "['200', 'ok', 1, 1]\n['201', 'bad label', 1, 7]\n");
  assert.throws(() => loadMsd(dir), /valid2\.txt:2: last element must be the label 0 or 1, found 7/);
  put(join(dir, 'text', 'valid2.txt'), "['200', 'ok']\n");
  assert.throws(() => loadMsd(dir), /valid2\.txt:1: expected 3 or 4 elements/);
});

test('MMSD2.0: text_json_final (default) and text_json_clean, valid -> dev', () => {
  const dir = tempDir('mmsd2-');
  const write = (sub: string, labels: [number, number, number]): void => {
    put(
      join(dir, sub, 'train.json'),
      JSON.stringify(
        [
          { image_id: '100', text: 'great , another monday', label: labels[0] },
          { image_id: '104', text: 'no image', label: 0 },
        ],
        null,
        2,
      ),
    );
    put(join(dir, sub, 'valid.json'), JSON.stringify([{ image_id: '200', text: 'love waiting', label: labels[1] }]));
    put(join(dir, sub, 'test.json'), JSON.stringify([{ image_id: '300', text: 'i love it', label: labels[2] }]));
  };
  write('text_json_final', [0, 1, 0]);
  write('text_json_clean', [1, 1, 1]);
  for (const id of ['100', '200', '300']) putJpeg(join(dir, 'dataset_image', `${id}.jpg`));
  const r = loadMmsd2(dir);
  assert.deepEqual(
    r.rows.map((x) => [x.id, x.text, x.label, x.split]),
    [
      ['100', 'great , another monday', 'non-sarcastic', 'train'],
      ['200', 'love waiting', 'sarcastic', 'dev'],
      ['300', 'i love it', 'non-sarcastic', 'test'],
    ],
  );
  assert.deepEqual(r.dropped, {});
  assert.deepEqual(r.badRows, { 'missing-image': 1 });
  assert.deepEqual(
    loadMmsd2(dir, { variant: 'clean' }).rows.map((x) => x.label),
    ['sarcastic', 'sarcastic', 'sarcastic'],
  );
  put(join(dir, 'text_json_final', 'valid.json'), '[\n  {"image_id": "200",\n   "text": "x" "label": 1}\n]');
  assert.throws(() => loadMmsd2(dir), /text_json_final\/valid\.json:3:\d+: invalid JSON/);
  put(
    join(dir, 'text_json_final', 'valid.json'),
    JSON.stringify([{ image_id: '../../etc/passwd', text: 'x', label: 1 }]),
  );
  assert.throws(() => loadMmsd2(dir), /image_id '\.\.\/\.\.\/etc\/passwd' is not a plain file name; refused/);
});

test('MMSD2.0: the repository layout with data/text_json_final and data/dataset_image', () => {
  const dir = tempDir('mmsd2-repo-');
  // an id beyond 2^53 written as a JSON number must keep all its digits
  put(
    join(dir, 'data', 'text_json_final', 'train.json'),
    '[{"image_id": 682716753374351360, "text": "a", "label": 1}]',
  );
  put(join(dir, 'data', 'text_json_final', 'valid.json'), '[]');
  put(join(dir, 'data', 'text_json_final', 'test.json'), '[]');
  putJpeg(join(dir, 'data', 'dataset_image', '682716753374351360.jpg'));
  const r = loadMmsd2(dir);
  assert.deepEqual(r.rows, [
    {
      id: '682716753374351360',
      text: 'a',
      image: join(dir, 'data', 'dataset_image', '682716753374351360.jpg'),
      label: 'sarcastic',
      split: 'train',
    },
  ]);
});
