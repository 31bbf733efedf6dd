// `tandem tokenize` reproduces every golden tokenizer case (ids, tokens, offsets, attention masks, padded ids,
// pairs with type ids, decoded text), and fails with the right exit codes on bad input.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GOLDEN, runCli } from '../helpers/cli.js';

interface Family {
  pad_token: string;
  pad_id: number;
  cases: Array<{
    text: string;
    ids: number[];
    tokens: string[];
    offsets: number[][];
    padded16_ids: number[];
    padded16_attention_mask: number[];
    decoded: string;
  }>;
  pairs: Array<{ a: string; b: string; ids: number[]; type_ids: number[] }>;
}

const DIR = join(GOLDEN, 'tokenizers');
const ref = JSON.parse(readFileSync(join(DIR, 'tokenizer_cases.json'), 'utf8')) as Record<string, Family>;

function jsonLines(args: string[]): Array<Record<string, any>> {
  const r = runCli(['tokenize', '--json', ...args]);
  assert.equal(r.status, 0, r.stderr);
  return r.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, any>);
}

for (const [family, fam] of Object.entries(ref)) {
  const file = join(DIR, `${family}.tokenizer.json`);
  const texts = fam.cases.map((c) => c.text);

  test(`tandem tokenize ${family}: every case, unpadded and padded to 16, and decoded`, () => {
    const plain = jsonLines(['--tokenizer', file, '--decode', ...texts]);
    assert.equal(plain.length, texts.length);
    plain.forEach((o, i) => {
      const c = fam.cases[i];
      assert.deepEqual(Object.keys(o), ['ids', 'tokens', 'offsets', 'attention_mask', 'type_ids', 'decoded']);
      assert.deepEqual(o.ids, c.ids);
      assert.deepEqual(o.tokens, c.tokens);
      assert.deepEqual(o.offsets, c.offsets);
      assert.deepEqual(
        o.attention_mask,
        c.ids.map(() => 1),
      );
      assert.equal(o.decoded, c.decoded);
    });
    const padded = jsonLines([
      '--tokenizer',
      file,
      '--max-length',
      '16',
      '--padding',
      'max_length',
      '--pad-token',
      fam.pad_token,
      ...texts,
    ]);
    padded.forEach((o, i) => {
      assert.deepEqual(o.ids, fam.cases[i].padded16_ids);
      assert.deepEqual(o.attention_mask, fam.cases[i].padded16_attention_mask);
    });
  });

  test(`tandem tokenize ${family}: pairs with type ids`, () => {
    for (const pr of fam.pairs) {
      const [o] = jsonLines(['--tokenizer', file, '--pair', pr.b, pr.a]);
      assert.deepEqual(o.ids, pr.ids);
      assert.deepEqual(o.type_ids, pr.type_ids);
    }
  });
}

test('tandem tokenize reads a model folder and texts from stdin, and prints a table without --json', () => {
  const c = ref.wordpiece.cases[0];
  const r = runCli(['tokenize', '--tokenizer', join(GOLDEN, 'models', 'bert'), '-'], { input: `${c.text}\n` });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`-> ${c.ids.length} tokens`));
  assert.match(r.stdout, /"##ed"\s+9:11/);
});

test('tandem tokenize resolves a Hub id from the HF cache (offline)', () => {
  const cache = mkdtempSync(join(tmpdir(), 'tandem-hfcache-'));
  const commit = 'a'.repeat(40);
  const repo = join(cache, 'models--golden--wordpiece');
  mkdirSync(join(repo, 'refs'), { recursive: true });
  mkdirSync(join(repo, 'snapshots', commit), { recursive: true });
  writeFileSync(join(repo, 'refs', 'main'), commit);
  copyFileSync(join(DIR, 'wordpiece.tokenizer.json'), join(repo, 'snapshots', commit, 'tokenizer.json'));
  const c = ref.wordpiece.cases[1];
  const r = runCli(['tokenize', '--json', '--tokenizer', 'golden/wordpiece', c.text], {
    env: { HF_HUB_CACHE: cache, HF_HUB_OFFLINE: '1' },
  });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout).ids, c.ids);
  const miss = runCli(['tokenize', '--tokenizer', 'golden/absent', 'x'], {
    env: { HF_HUB_CACHE: cache, HF_HUB_OFFLINE: '1' },
  });
  assert.equal(miss.status, 1);
  assert.match(miss.stderr, /golden\/absent/);
});

test('tandem tokenize --normalize-tweets and --no-special-tokens', () => {
  const [o] = jsonLines([
    '--tokenizer',
    join(DIR, 'wordpiece.tokenizer.json'),
    '--normalize-tweets',
    '--no-special-tokens',
    '@bob see https://t.co/x',
  ]);
  // "@USER see HTTPURL", lowercased by the BERT normalizer; no [CLS]/[SEP].
  const tok = o.tokens as string[];
  assert.equal(tok[0], '@');
  assert.ok(!tok.includes('[CLS]') && !tok.includes('[SEP]'), tok.join(' '));
  assert.equal(tok.join(' ').replace(/ ##/g, ''), '@ user see httpurl');
});

test('tandem tokenize exit codes: missing flag 2, bad padding 2, unsupported component 2 naming it', () => {
  assert.equal(runCli(['tokenize', 'hello']).status, 2);
  const bad = runCli([
    'tokenize',
    '--tokenizer',
    join(DIR, 'wordpiece.tokenizer.json'),
    '--padding',
    'max_length',
    'x',
  ]);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /--max-length/);
  const dir = mkdtempSync(join(tmpdir(), 'tandem-tok-'));
  const json = JSON.parse(readFileSync(join(DIR, 'wordpiece.tokenizer.json'), 'utf8'));
  json.pre_tokenizer = { type: 'UnicodeScripts' };
  const f = join(dir, 'tokenizer.json');
  writeFileSync(f, JSON.stringify(json));
  const r = runCli(['tokenize', '--tokenizer', f, 'x']);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /UnicodeScripts/);
  assert.ok(r.stderr.includes(f), r.stderr);
  assert.equal(runCli(['tokenize', '--help']).status, 0);
});
