// The max-length rule both ways: by default the paper's 128 (40 for ViLT) or the checkpoint's limit when smaller
// (RoBERTa's position offset counted), with one line saying so; an explicit length above the limit is refused
// before any data is read, naming both numbers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { recipeConfigFor, type RecipeSpec } from '../../src/multimodal/builder.js';
import { MaxLengthError, resolveMaxLength, textLimit } from '../../src/multimodal/max-length.js';
import type { RecipeConfig } from '../../src/multimodal/types.js';
import { GOLDEN, runCli } from '../helpers/cli.js';

const M = (name: string) => join(GOLDEN, 'models', name);
const spec = (s: Partial<RecipeSpec>): RecipeSpec => ({
  recipe: 'late-fusion',
  numLabels: 2,
  labelNames: ['a', 'b'],
  ...s,
});
const rc = (recipe: string, key: string, cfg: Record<string, unknown>): RecipeConfig => ({
  recipe,
  numLabels: 2,
  labelNames: ['a', 'b'],
  [key]: cfg,
});

test("the model's limit from the checkpoints: BERT as is, RoBERTa less its offset, nested text towers", () => {
  const bert = recipeConfigFor(spec({ textModel: M('bert'), imageModel: M('vit') }));
  assert.deepEqual(textLimit(bert), { limit: 64, source: 'text_config.max_position_embeddings 64' });
  const roberta = recipeConfigFor(spec({ textModel: M('roberta'), imageModel: M('vit') }));
  assert.equal(textLimit(roberta)!.limit, 18); // 20 positions, pad_token_id 1: ids 2..19
  assert.equal(textLimit(recipeConfigFor(spec({ recipe: 'clip', model: M('clip') })))!.limit, 16);
  assert.equal(textLimit(recipeConfigFor(spec({ recipe: 'vilt', model: M('vilt') })))!.limit, 16);
});

test("default: the paper's 128 (40 for ViLT) unless the model takes fewer, with a note", () => {
  const bert = recipeConfigFor(spec({ textModel: M('bert'), imageModel: M('vit') }));
  assert.deepEqual(resolveMaxLength(bert), {
    maxLength: 64,
    note: "max length 64: the model's limit (text_config.max_position_embeddings 64), below the paper's 128",
  });
  const bertweet = rc('late-fusion', 'text_config', {
    model_type: 'bertweet',
    max_position_embeddings: 130,
    pad_token_id: 1,
  });
  assert.deepEqual(resolveMaxLength(bertweet), {
    maxLength: 128,
    note: "max length 128: the paper's 128 (the model takes up to 128)",
  });
  const bertBase = rc('late-fusion', 'text_config', { model_type: 'bert', max_position_embeddings: 512 });
  assert.equal(resolveMaxLength(bertBase).maxLength, 128);
  const vilt = rc('vilt', 'model_config', { model_type: 'vilt', max_position_embeddings: 40 });
  assert.equal(resolveMaxLength(vilt).maxLength, 40);
  assert.equal(
    resolveMaxLength({ ...vilt, model_config: { model_type: 'vilt', max_position_embeddings: 64 } }).maxLength,
    40,
  );
  const siglip = rc('siglip', 'model_config', { model_type: 'siglip', text_config: { max_position_embeddings: 64 } });
  assert.equal(resolveMaxLength(siglip).maxLength, 64);
});

test('explicit: taken up to the limit, refused above it naming both numbers', () => {
  const bert = recipeConfigFor(spec({ textModel: M('bert'), imageModel: M('vit') }));
  assert.equal(resolveMaxLength(bert, 64).maxLength, 64);
  assert.equal(resolveMaxLength(bert, 10).maxLength, 10);
  assert.throws(
    () => resolveMaxLength(bert, 65),
    (e: Error) =>
      e instanceof MaxLengthError &&
      e.message === '--max-length 65 is more than the model takes: 64 tokens (text_config.max_position_embeddings 64)',
  );
  const roberta = recipeConfigFor(spec({ textModel: M('roberta'), imageModel: M('vit') }));
  assert.throws(
    () => resolveMaxLength(roberta, 19),
    /--max-length 19 .* 18 tokens .*20 - 2 \(the roberta position offset\)/,
  );
});

test('tandem train: --max-length above the limit is refused before the data is read; by default the limit is used and said', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'tandem-maxlen-'));
  try {
    const missing = join(tmp, 'no-such-data.jsonl');
    const bad = runCli([
      'train',
      '--model',
      M('vilt'),
      '--init',
      'random',
      '--max-length',
      '17',
      '--data',
      missing,
      '--out',
      join(tmp, 'r0'),
    ]);
    assert.equal(bad.status, 2, bad.stderr);
    assert.match(
      bad.stderr,
      /--max-length 17 is more than the model takes: 16 tokens \(model_config\.max_position_embeddings 16\)/,
    );
    assert.doesNotMatch(bad.stderr, /no-such-data/);

    const synth = runCli([
      'data',
      'synth',
      '--out',
      join(tmp, 'd'),
      '--count',
      '24',
      '--size',
      '32',
      '--colours',
      '2',
      '--style',
      'plain',
    ]);
    assert.equal(synth.status, 0, synth.stderr);
    const out = join(tmp, 'r1');
    const ok = runCli([
      'train',
      '--model',
      M('vilt'),
      '--init',
      'random',
      '--data',
      join(tmp, 'd', 'posts.jsonl'),
      '--out',
      out,
      '--steps',
      '1',
      '--epochs',
      '1',
      '--no-progress',
    ]);
    assert.equal(ok.status, 0, ok.stderr);
    const lines = ok.stderr.split('\n').filter((l) => l.startsWith('max length'));
    assert.deepEqual(lines, [
      "max length 16: the model's limit (model_config.max_position_embeddings 16), below the paper's 40 for ViLT",
    ]);
    assert.equal(JSON.parse(readFileSync(join(out, 'run.json'), 'utf8')).maxLength, 16);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});
