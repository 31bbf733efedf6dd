import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadGeneric, writeGeneric } from '../../src/data/generic.js';
import { DataError, type Row } from '../../src/data/rows.js';
import { put, putPng, tempDir } from './helpers.js';

test('JSONL: rows with images resolved against the file folder, labels, splits, extra fields', () => {
  const dir = tempDir();
  putPng(join(dir, 'img', 'a.png'));
  putPng(join(dir, 'img', 'b.png'), 1);
  put(
    join(dir, 'posts.jsonl'),
    [
      JSON.stringify({ id: 1, text: 'first', image: 'img/a.png', label: 'pos', split: 'train', ocr: 'HELLO' }),
      '',
      JSON.stringify({ id: 'b', text: 'second', image: './img/b.png', labels: ['x', 'y'], split: 'val' }),
      JSON.stringify({ id: 'c', text: 'text only', image: null, label: 'neg', split: 'test', extra: { k: 1 } }),
    ].join('\r\n'),
  );
  const r = loadGeneric(dir);
  assert.deepEqual(r.rows, [
    { id: '1', text: 'first', image: join(dir, 'img', 'a.png'), label: 'pos', split: 'train', extra: { ocr: 'HELLO' } },
    { id: 'b', text: 'second', image: join(dir, 'img', 'b.png'), labels: ['x', 'y'], split: 'dev' },
    { id: 'c', text: 'text only', image: null, label: 'neg', split: 'test', extra: { k: 1 } },
  ]);
  assert.equal(r.split.kind, 'official');
  assert.deepEqual(r.dropped, {});
});

test('JSONL ids beyond 2^53 written as numbers keep every digit', () => {
  const dir = tempDir();
  put(
    join(dir, 'posts.jsonl'),
    '{"id": 1114679353714016256, "text": "say \\"id\\": 7", "label": "a"}\n{"text": "b", "id":12}\n',
  );
  const r = loadGeneric(dir, { noSaveSplit: true });
  assert.deepEqual(
    r.rows.map((x) => [x.id, x.text]),
    [
      ['1114679353714016256', 'say "id": 7'],
      ['12', 'b'],
    ],
  );
});

test('CSV with quotes and embedded newlines; a missing image follows the policy', () => {
  const dir = tempDir();
  putPng(join(dir, 'a.png'));
  put(
    join(dir, 'data.csv'),
    'id,text,image,label,split\r\n1,"multi\r\nline, ""quoted""",a.png,pos,train\r\n2,gone,missing.png,neg,test\r\n',
  );
  const dropped = loadGeneric(join(dir, 'data.csv'));
  assert.deepEqual(
    dropped.rows.map((x) => [x.id, x.text]),
    [['1', 'multi\r\nline, "quoted"']],
  );
  assert.deepEqual(dropped.dropped, {});
  assert.deepEqual(dropped.badRows, { 'missing-image': 1 });
  const kept = loadGeneric(join(dir, 'data.csv'), { onMissingImage: 'keep' });
  assert.deepEqual(kept.rows[1], {
    id: '2',
    text: 'gone',
    image: null,
    label: 'neg',
    split: 'test',
    extra: { image_missing: true },
  });
  assert.equal(kept.keptWithoutImage, 1);
});

test('paths that leave the folder are refused: ../../etc/passwd and absolute paths', () => {
  const dir = tempDir();
  put(
    join(dir, 'posts.jsonl'),
    JSON.stringify({ id: 1, text: 't', image: 'ok.png', label: 'a' }) +
      '\n' +
      JSON.stringify({ id: 2, text: 't', image: '../../etc/passwd', label: 'a' }) +
      '\n',
  );
  assert.throws(
    () => loadGeneric(dir),
    (e: Error) =>
      e instanceof DataError &&
      e.message.includes('posts.jsonl:2') &&
      e.message.includes("'../../etc/passwd' leaves the dataset folder"),
  );
  put(join(dir, 'posts.jsonl'), JSON.stringify({ id: 1, text: 't', image: '/etc/passwd' }) + '\n');
  assert.throws(() => loadGeneric(dir), /posts\.jsonl:1 field 'image': absolute path '\/etc\/passwd' refused/);
  put(join(dir, 'posts.jsonl'), JSON.stringify({ id: 1, text: 't', image: 'a/../../x.png' }) + '\n');
  assert.throws(() => loadGeneric(dir), /leaves the dataset folder/);
});

test('malformed lines name file and line; duplicate ids and partial splits are refused', () => {
  const dir = tempDir();
  put(join(dir, 'posts.jsonl'), '{"id":1,"text":"a"}\n{"id":2,"text":\n');
  assert.throws(() => loadGeneric(dir), /posts\.jsonl:2: not valid JSON/);
  put(join(dir, 'posts.jsonl'), '{"id":1,"text":"a"}\n{"id":2}\n');
  assert.throws(() => loadGeneric(dir), /posts\.jsonl:2: field 'text' must be a string/);
  put(join(dir, 'posts.jsonl'), '{"id":1,"text":"a","split":"train"}\n{"id":2,"text":"b"}\n');
  assert.throws(() => loadGeneric(dir), /posts\.jsonl:2: no 'split' while other posts have one/);
  put(join(dir, 'posts.jsonl'), '{"id":1,"text":"a"}\n{"id":1,"text":"b"}\n');
  assert.throws(() => loadGeneric(dir), /1 posts repeat an earlier id/);
});

test('without splits a seeded 8:1:1 split is made and saved beside the file', () => {
  const dir = tempDir();
  const lines = Array.from({ length: 20 }, (_, i) =>
    JSON.stringify({ id: i, text: `t${i}`, label: i % 2 ? 'a' : 'b' }),
  );
  put(join(dir, 'posts.jsonl'), lines.join('\n'));
  const r = loadGeneric(dir, { splitSeed: 5 });
  assert.equal(r.split.kind, 'seeded');
  assert.equal(r.split.file, join(dir, 'tandem-split-generic-seed5.json'));
  const counts: Record<string, number> = {};
  for (const x of r.rows) counts[x.split!] = (counts[x.split!] ?? 0) + 1;
  assert.deepEqual(counts, { train: 16, dev: 2, test: 2 });
  const saved = JSON.parse(readFileSync(r.split.file!, 'utf8')).splits;
  assert.deepEqual(Object.fromEntries(r.rows.map((x) => [x.id, x.split])), saved);
});

test('write then read gives the same rows (JSONL and CSV); images outside the output folder are refused', () => {
  const dir = tempDir();
  const a = putPng(join(dir, 'ds', 'img', 'a.png'));
  const rows: Row[] = [
    { id: '1', text: 'a, "b"\nc', image: a, label: 'pos', split: 'train', extra: { ocr_text: 'x' } },
    { id: '2', text: 'text only', image: null, label: 'neg', split: 'dev' },
  ];
  writeGeneric(rows, join(dir, 'out.jsonl'));
  const line1 = JSON.parse(readFileSync(join(dir, 'out.jsonl'), 'utf8').split('\n')[0]!);
  assert.equal(line1.image, 'ds/img/a.png');
  assert.deepEqual(loadGeneric(join(dir, 'out.jsonl')).rows, rows);
  writeGeneric(rows, join(dir, 'out.csv'));
  assert.deepEqual(loadGeneric(join(dir, 'out.csv')).rows, rows);
  assert.throws(
    () => writeGeneric(rows, join(dir, 'elsewhere', 'out.jsonl')),
    /image .* is not inside the output folder/,
  );
});
