// Output folders: what counts as holding files, and a replacement that a crash cannot leave half done.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { filesIn, replaceFolder } from '../../src/io/output-folder.js';

const tmp = mkdtempSync(join(tmpdir(), 'tandem-outdir-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

test('filesIn: absent and empty-folder trees hold nothing; files are listed top level first', () => {
  const d = join(tmp, 'a');
  assert.deepEqual(filesIn(d), []);
  mkdirSync(join(d, 'checkpoints', 'deep'), { recursive: true });
  assert.deepEqual(filesIn(d), [], 'empty folders hold nothing');
  writeFileSync(join(d, 'checkpoints', 'deep', 'x.bin'), '');
  writeFileSync(join(d, 'run.json'), '{}');
  symlinkSync('checkpoints', join(d, 'last'));
  assert.deepEqual(filesIn(d), ['last', 'run.json', join('checkpoints', 'deep', 'x.bin')]);
  assert.deepEqual(filesIn(d, 1), ['last']);
});

test('replaceFolder: empties the folder; what a crash left aside is removed by the next call', () => {
  const d = join(tmp, 'run');
  mkdirSync(join(d, 'checkpoints'), { recursive: true });
  writeFileSync(join(d, 'log.jsonl'), '{"step":1}\n');
  // a replacement interrupted after the rename: the old run lies aside whole, the folder itself is fresh
  const aside = join(tmp, '.run.replaced-99999');
  mkdirSync(aside);
  writeFileSync(join(aside, 'log.jsonl'), 'old');
  // another folder's leftovers are not ours
  const other = join(tmp, '.run2.replaced-99999');
  mkdirSync(other);
  replaceFolder(d);
  assert.deepEqual(readdirSync(d), []);
  assert.equal(existsSync(aside), false, 'the aside copy of an interrupted replacement is removed');
  assert.equal(existsSync(other), true);
  assert.deepEqual(
    readdirSync(tmp).filter((n) => n.startsWith('.run.')),
    [],
    'nothing left aside after a complete replacement',
  );
  replaceFolder(join(tmp, 'new', 'run'));
  assert.deepEqual(readdirSync(join(tmp, 'new', 'run')), [], 'an absent folder is created');
});
