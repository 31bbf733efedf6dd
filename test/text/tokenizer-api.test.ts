// The Tokenizer API around the golden files: model folders with tokenizer_config.json, masks and word ids,
// encoding without special tokens, decoding with special tokens kept, and errors that name file and component.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Tokenizer } from '../../src/text/index.js';
import { GOLDEN } from '../helpers/cli.js';

const WP = join(GOLDEN, 'tokenizers', 'wordpiece.tokenizer.json');
const wpJson = () => JSON.parse(readFileSync(WP, 'utf8')) as Record<string, any>;

test('special_tokens_mask, word_ids and type ids of a BERT pair', () => {
  const tok = Tokenizer.fromFile(WP);
  const e = tok.encode('Hello, world', 'ok');
  assert.deepEqual(e.tokens[0], '[CLS]');
  assert.deepEqual(
    e.special_tokens_mask,
    e.tokens.map((t) => (t === '[CLS]' || t === '[SEP]' ? 1 : 0)),
  );
  assert.equal(e.word_ids[0], null);
  assert.equal(e.word_ids[e.word_ids.length - 1], null);
  // "hello" "," "world" are three words of the first sequence; "ok" is word 0 of the second.
  const words = e.word_ids.filter((w, i) => w !== null && e.type_ids[i] === 0);
  assert.deepEqual([...new Set(words)], [0, 1, 2]);
  assert.equal(e.type_ids.filter((t) => t === 1).length, e.ids.length - e.type_ids.lastIndexOf(0) - 1);
});

test('addSpecialTokens false and decoding with special tokens kept', () => {
  const tok = Tokenizer.fromFile(WP);
  const bare = tok.encode('Just landed', null, { addSpecialTokens: false });
  assert.deepEqual(bare.ids, [272, 334, 122]);
  assert.equal(tok.decode([2, 272, 334, 122, 3]), '[CLS] just landed [SEP]');
  assert.equal(tok.decode([2, 272, 334, 122, 3], { skipSpecialTokens: true }), 'just landed');
});

test('fromModelDir takes the pad token from tokenizer_config.json', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tandem-tokdir-'));
  const json = wpJson();
  json.added_tokens.push({
    id: 400,
    content: '<mypad>',
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special: true,
  });
  writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(json));
  writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify({ pad_token: '<mypad>', model_max_length: 8 }));
  const tok = Tokenizer.fromModelDir(dir);
  assert.equal(tok.padToken(), '<mypad>');
  assert.equal(tok.modelMaxLength, 8);
  const e = tok.encode('just', null, { padding: 'max_length' });
  assert.deepEqual(e.ids, [2, 272, 3, 400, 400, 400, 400, 400]);
  assert.deepEqual(e.attention_mask, [1, 1, 1, 0, 0, 0, 0, 0]);
  // The added token is matched in text too, as one token.
  assert.deepEqual(tok.encode('just<mypad>').ids, [2, 272, 400, 3]);
});

test('padding without any pad token fails with a message saying how to give one', () => {
  const json = wpJson();
  json.added_tokens = json.added_tokens.filter((t: { content: string }) => t.content !== '[PAD]');
  delete json.model.vocab['[PAD]'];
  const tok = Tokenizer.fromJSON(json, 'x/tokenizer.json');
  assert.throws(
    () => tok.encode('a', null, { maxLength: 4, padding: 'max_length' }),
    /x\/tokenizer\.json: padding needs a pad token/,
  );
});

test('unsupported components and broken fields are named with the file', () => {
  const cases: Array<[string, (j: Record<string, any>) => void, RegExp]> = [
    ['model', (j) => (j.model.type = 'WordLevelX'), /f\.json: unsupported model type 'WordLevelX'/],
    ['normalizer', (j) => (j.normalizer = { type: 'Foo' }), /f\.json: unsupported normalizer type 'Foo'/],
    [
      'pre_tokenizer',
      (j) => (j.pre_tokenizer = { type: 'Sequence', pretokenizers: [{ type: 'UnicodeScripts' }] }),
      /pretokenizers\[0\]: unsupported pre_tokenizer type 'UnicodeScripts'/,
    ],
    ['decoder', (j) => (j.decoder = { type: 'Bar' }), /unsupported decoder type 'Bar'/],
    [
      'post_processor',
      (j) =>
        (j.post_processor = {
          type: 'TemplateProcessing',
          single: [{ SpecialToken: { id: '[X]', type_id: 0 } }],
          pair: [],
          special_tokens: {},
        }),
      /special token '\[X\]'.*missing from special_tokens/,
    ],
    [
      'regex',
      (j) => (j.pre_tokenizer = { type: 'Split', pattern: { Regex: '(?<name' }, behavior: 'Removed', invert: false }),
      /Split: regular expression .* is not supported/,
    ],
  ];
  for (const [what, edit, re] of cases) {
    const j = wpJson();
    edit(j);
    assert.throws(() => Tokenizer.fromJSON(j, 'f.json'), re, what);
  }
  assert.throws(
    () => Tokenizer.fromFile(join(tmpdir(), 'no-such-tokenizer.json')),
    /no-such-tokenizer\.json: cannot read/,
  );
  assert.throws(() => Tokenizer.fromModelDir(tmpdir()), /no tokenizer\.json/);
});
