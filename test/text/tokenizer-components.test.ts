// Components beyond the golden four tokenizers, against reference encodings that Hugging Face `tokenizers`
// 0.23.2 produced (component_cases.json, written by gen_component_cases.py): more normalizers (NFD, NFKC,
// Strip, Replace, Prepend, sentencepiece's Precompiled), pre-tokenizers (Whitespace, Punctuation, Digits,
// every Split behaviour, Metaspace schemes), added tokens (lstrip, rstrip, single_word, normalized),
// post-processors, decoders, byte fallback, truncation strategies and directions, padding side and multiples.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Tokenizer } from '../../src/text/tokenizer.js';
import { REPO_ROOT } from '../helpers/cli.js';

type Enc = {
  text: string;
  pair?: string;
  ids: number[];
  tokens: string[];
  offsets: number[][];
  type_ids: number[];
  attention_mask: number[];
  special_tokens_mask: number[];
  error?: string;
};
interface Entry {
  name: string;
  tokenizer: Record<string, any>;
  vocab_size: number;
  cases: Array<{ label: string; truncation: unknown; padding: unknown; single: Enc[]; pairs: Enc[] }>;
  decode: Array<{ ids: number[]; skip: string; keep: string }>;
}

const data = JSON.parse(readFileSync(join(REPO_ROOT, 'test', 'text', 'component_cases.json'), 'utf8')) as {
  tokenizers: Entry[];
};

function same(got: ReturnType<Tokenizer['encode']>, want: Enc, what: string): void {
  const g = {
    ids: got.ids,
    tokens: got.tokens,
    offsets: got.offsets,
    type_ids: got.type_ids,
    attention_mask: got.attention_mask,
    special_tokens_mask: got.special_tokens_mask,
  };
  const w = {
    ids: want.ids,
    tokens: want.tokens,
    offsets: want.offsets,
    type_ids: want.type_ids,
    attention_mask: want.attention_mask,
    special_tokens_mask: want.special_tokens_mask,
  };
  assert.deepEqual(g, w, what);
}

for (const entry of data.tokenizers) {
  for (const c of entry.cases) {
    test(`${entry.name} / ${c.label}: single texts and pairs`, () => {
      // The truncation and padding settings travel inside the tokenizer.json, as save() writes them.
      const tok = Tokenizer.fromJSON({ ...entry.tokenizer, truncation: c.truncation, padding: c.padding }, entry.name);
      if (c.label === 'plain') assert.equal(tok.vocabSize(), entry.vocab_size);
      if (c.single.length > 0) {
        const batch = tok.encodeBatch(c.single.map((e) => e.text));
        c.single.forEach((want, i) => same(batch[i], want, `text ${JSON.stringify(want.text)}`));
      }
      for (const want of c.pairs) {
        if (want.error !== undefined) {
          assert.throws(() => tok.encodeBatch([[want.text, want.pair as string]]), /too short|needs a pair/);
          continue;
        }
        same(
          tok.encodeBatch([[want.text, want.pair as string]])[0],
          want,
          `pair ${JSON.stringify(want.text)} + ${JSON.stringify(want.pair)}`,
        );
      }
    });
  }
  test(`${entry.name}: decode with and without special tokens`, () => {
    const tok = Tokenizer.fromJSON(entry.tokenizer, entry.name);
    for (const d of entry.decode) {
      assert.equal(tok.decode(d.ids, { skipSpecialTokens: true }), d.skip, `skip ${JSON.stringify(d.ids)}`);
      assert.equal(tok.decode(d.ids), d.keep, `keep ${JSON.stringify(d.ids)}`);
    }
  });
}
