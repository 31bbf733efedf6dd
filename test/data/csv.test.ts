import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCsv, readCsvTable, writeCsv } from '../../src/data/csv.js';
import { DataError } from '../../src/data/rows.js';

test('parses quotes, doubled quotes, embedded delimiters and newlines, CRLF and a BOM, with start lines', () => {
  const text = '\ufeffid,text,label\r\n1,"hello, ""world""",pos\r\n2,"two\r\nlines",neg\r\n\r\n3,plain,neu';
  const recs = parseCsv(text, 'f.csv');
  assert.deepEqual(
    recs.map((r) => [r.line, r.fields]),
    [
      [1, ['id', 'text', 'label']],
      [2, ['1', 'hello, "world"', 'pos']],
      [3, ['2', 'two\r\nlines', 'neg']],
      [6, ['3', 'plain', 'neu']],
    ],
  );
});

test('an unclosed quote names the line where the field began', () => {
  assert.throws(
    () => parseCsv('id,text\n1,ok\n2,"never closed\nmore\n', 'keys.csv'),
    (e: Error) => e instanceof DataError && e.message === 'keys.csv:3: quoted field is never closed (file truncated?)',
  );
});

test('a record with too few fields names its line; trailing unnamed columns may be absent', () => {
  const ok = readCsvTable('a,b,,\n1,2\n3,4,,\n', 't.csv');
  assert.deepEqual(
    ok.rows.map((r) => [r.get('a'), r.get('b')]),
    [
      ['1', '2'],
      ['3', '4'],
    ],
  );
  assert.throws(() => readCsvTable('a,b,c\n1,2,3\n4,5\n', 't.csv'), /t\.csv:3: expected 3 fields \(a, b, c\), found 2/);
  assert.throws(() => readCsvTable('a,b\n1,2\n', 't.csv', { required: ['text'] }), /t\.csv:1: missing column 'text'/);
});

test('writeCsv output parses back to the same fields', () => {
  const rows = [
    ['id', 'text'],
    ['1', 'a "quoted", multi\nline'],
    ['2', ' padded '],
  ];
  assert.deepEqual(
    parseCsv(writeCsv(rows), 'x').map((r) => r.fields),
    rows,
  );
});
