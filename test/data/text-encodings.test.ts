// Text encodings of releases: every fixture written by test/tools/gen_encoding_fixtures.py (Python's codecs)
// decodes to the text it was written from; an MVSA-shaped release mixing UTF-8 and GB18030 reads with no
// mojibake, the encoding per post and in `data inspect`; --text-encoding forces one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadMvsaSingle } from '../../src/data/formats/mvsa.js';
import { decodeAs, decodeRelease, decodeText, resolveEncodingName } from '../../src/data/text-decode.js';
import { REPO_ROOT, runCli } from '../helpers/cli.js';
import { tempDir } from './helpers.js';

const DIR = join(REPO_ROOT, 'test', 'fixtures', 'encodings');
const RELEASE = join(DIR, 'mvsa-mixed');
const cases = JSON.parse(readFileSync(join(DIR, 'expected.json'), 'utf8')) as {
  file: string;
  encoding: string;
  text: string;
}[];
const posts = JSON.parse(readFileSync(join(RELEASE, 'expected.json'), 'utf8')) as {
  id: string;
  encoding: string;
  text: string;
}[];

test('every encoding fixture decodes to the text it was written from', () => {
  assert.ok(cases.length >= 30);
  for (const c of cases) {
    const bytes = readFileSync(join(DIR, c.file));
    const got = decodeText(bytes);
    assert.equal(got.text, c.text, `${c.file}: decoded as ${got.encoding} (${got.how})`);
    // ISO-8859-7 and Windows-1253 agree on most Greek letters: either name is right when both give this text.
    if (got.encoding !== c.encoding) {
      assert.equal(decodeAs(bytes, got.encoding), decodeAs(bytes, c.encoding), `${c.file}: ${got.encoding}`);
    }
  }
});

test('a forced encoding is used as given; unknown names are refused naming the flag', () => {
  const bytes = readFileSync(join(DIR, 'gb18030-quote-mention.txt'));
  const forced = decodeText(bytes, { force: 'windows-1252' });
  assert.equal(forced.encoding, 'windows-1252');
  assert.ok(forced.text.startsWith('¡°@user'), forced.text); // the mojibake the issue reports
  assert.equal(resolveEncodingName('GBK'), 'gb18030');
  assert.equal(resolveEncodingName('cp1251'), 'windows-1251');
  assert.throws(() => resolveEncodingName('klingon-8'), /--text-encoding: unknown text encoding 'klingon-8'/);
});

test('the MVSA-shaped release mixing UTF-8 and GB18030 reads with no mojibake, encoding per post', () => {
  const r = loadMvsaSingle(RELEASE, { noSaveSplit: true });
  assert.equal(r.rows.length, posts.length);
  for (const p of posts) {
    const row = r.rows.find((x) => x.id === p.id)!;
    assert.equal(row.text, p.text, `post ${p.id}`);
    assert.equal(row.extra?.text_encoding, p.encoding === 'utf-8' ? undefined : p.encoding, `post ${p.id}`);
    assert.doesNotMatch(row.text, /[¡°­]/u);
  }
  assert.deepEqual(r.encodings, { 'utf-8': 3, gb18030: 9 });
  assert.ok(
    r.notes.some((n) => n.includes('9 as gb18030')),
    r.notes.join('\n'),
  );
});

test('short GB18030 texts are settled by the release: alone the detector cannot tell them', () => {
  const short = posts.filter((p) => Number(p.id) >= 9);
  const bytes = short.map((p) => readFileSync(join(RELEASE, 'data', `${p.id}.txt`)));
  const long = readFileSync(join(RELEASE, 'data', '5.txt'));
  const together = decodeRelease([...bytes, long]);
  short.forEach((p, i) => assert.equal(together[i]!.text, p.text));
  // the same files alone are ambiguous: at least one comes out wrong, which is why the release decides
  assert.ok(short.some((p, i) => decodeText(bytes[i]!).text !== p.text));
});

test('data inspect reports the encodings; --text-encoding forces one on inspect and convert', () => {
  const dir = tempDir('mvsa-mixed-');
  cpSync(RELEASE, dir, { recursive: true });
  const r = runCli(['data', 'inspect', '--format', 'mvsa-single', dir, '--json']);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout).encodings, { 'utf-8': 3, gb18030: 9 });
  const text = runCli(['data', 'inspect', '--format', 'mvsa-single', dir]);
  assert.match(text.stdout, /text encodings:\n\s+gb18030\s+9\n\s+utf-8\s+3/);

  const forced = runCli(['data', 'inspect', '--format', 'mvsa-single', dir, '--json', '--text-encoding', 'gbk']);
  assert.equal(forced.status, 0, forced.stderr);
  assert.deepEqual(JSON.parse(forced.stdout).encodings, { gb18030: 12 });

  const out = join(dir, 'posts.jsonl');
  const conv = runCli(['data', 'convert', '--format', 'mvsa-single', dir, '--out', out, '--text-encoding', 'cp1252']);
  assert.equal(conv.status, 0, conv.stderr);
  const second = JSON.parse(
    readFileSync(out, 'utf8')
      .split('\n')
      .find((l) => l.includes('"id":"2"'))!,
  );
  assert.match(second.text, /^¡°@user/);
  assert.equal(second.extra.text_encoding, 'windows-1252');

  const bad = runCli(['data', 'inspect', '--format', 'mvsa-single', dir, '--text-encoding', 'ebcdic-x']);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /--text-encoding: unknown text encoding 'ebcdic-x'/);
  // train takes the flag too, checked before any data or model is read
  const vilt = join(REPO_ROOT, 'test', 'fixtures', 'golden', 'models', 'vilt');
  const train = runCli([
    'train',
    '--model',
    vilt,
    '--data',
    join(dir, 'nowhere'),
    '--text-encoding',
    'ebcdic-x',
    '--out',
    join(dir, 'r'),
  ]);
  assert.equal(train.status, 2);
  assert.match(train.stderr, /--text-encoding: unknown text encoding 'ebcdic-x'/);
});
