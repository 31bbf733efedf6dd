// Every case of the golden tokenizer_cases.json (made by Hugging Face `tokenizers` 0.23.2) reproduced through
// the library: ids, tokens, offsets, ids and mask truncated/padded to 16, pairs with type ids, decoded text.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Tokenizer } from '../../src/text/tokenizer.js';
import { GOLDEN } from '../helpers/cli.js';

interface Case {
  text: string;
  ids: number[];
  tokens: string[];
  offsets: Array<[number, number]>;
  padded16_ids: number[];
  padded16_attention_mask: number[];
  decoded: string;
}
interface Family {
  pad_token: string;
  pad_id: number;
  vocab_size: number;
  cases: Case[];
  pairs: Array<{ a: string; b: string; ids: number[]; type_ids: number[] }>;
}

const DIR = join(GOLDEN, 'tokenizers');
const ref = JSON.parse(readFileSync(join(DIR, 'tokenizer_cases.json'), 'utf8')) as Record<string, Family>;

for (const [family, fam] of Object.entries(ref)) {
  const tok = Tokenizer.fromFile(join(DIR, `${family}.tokenizer.json`));

  test(`${family}: vocabulary size and pad id as in the reference`, () => {
    assert.equal(tok.vocabSize(), fam.vocab_size);
    assert.equal(tok.tokenToId(fam.pad_token), fam.pad_id);
  });

  fam.cases.forEach((c, i) => {
    test(`${family} case ${i} ${JSON.stringify(c.text.slice(0, 30))}: ids, tokens, offsets, padding, decoding`, () => {
      const e = tok.encode(c.text);
      assert.deepEqual(e.ids, c.ids);
      assert.deepEqual(e.tokens, c.tokens);
      assert.deepEqual(e.offsets, c.offsets);
      assert.deepEqual(
        e.attention_mask,
        c.ids.map(() => 1),
      );
      const p = tok.encode(c.text, null, { maxLength: 16, padding: 'max_length', padToken: fam.pad_token });
      assert.deepEqual(p.ids, c.padded16_ids);
      assert.deepEqual(p.attention_mask, c.padded16_attention_mask);
      assert.equal(tok.decode(c.ids, { skipSpecialTokens: true }), c.decoded);
    });
  });

  test(`${family}: pairs with type ids`, () => {
    for (const pr of fam.pairs) {
      const e = tok.encode(pr.a, pr.b);
      assert.deepEqual(e.ids, pr.ids);
      assert.deepEqual(e.type_ids, pr.type_ids);
    }
  });

  test(`${family}: encodeBatch pads to the longest and agrees with encode`, () => {
    const texts = fam.cases.map((c) => c.text);
    const batch = tok.encodeBatch(texts, { padding: 'longest', padToken: fam.pad_token });
    const longest = Math.max(...fam.cases.map((c) => c.ids.length));
    batch.forEach((e, i) => {
      const n = fam.cases[i].ids.length;
      assert.equal(e.ids.length, longest);
      assert.deepEqual(e.ids.slice(0, n), fam.cases[i].ids);
      assert.deepEqual(e.ids.slice(n), new Array(longest - n).fill(fam.pad_id));
      assert.equal(
        e.attention_mask.reduce((s, x) => s + x, 0),
        n,
      );
    });
  });
}

test('the golden model folders load with fromModelDir and tokenize as their tokenizer family', () => {
  const wp = Tokenizer.fromModelDir(join(GOLDEN, 'models', 'bert'));
  assert.deepEqual(wp.encode(ref.wordpiece.cases[0].text).ids, ref.wordpiece.cases[0].ids);
  const xlmr = Tokenizer.fromModelDir(join(GOLDEN, 'models', 'xlm-roberta'));
  assert.deepEqual(xlmr.encode(ref.unigram.cases[3].text).ids, ref.unigram.cases[3].ids);
});
