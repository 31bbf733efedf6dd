// RoBERTa against the Hugging Face reference (test/fixtures/golden/models/roberta): the golden outputs, the
// padding-offset position ids, BERTweet configs, the sequence-classification head, checkpoint/config errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tensor, tidy, type Tensor } from '../../src/tensor/index.js';
import { openCheckpoint } from '../../src/io/safetensors.js';
import { readModelConfig } from '../../src/io/model-folder.js';
import { loadSafetensorsFile, saveTensors } from '../../src/io/tensors.js';
import { familyFor } from '../../src/models/family.js';
import { paddingOffsetPositionIds } from '../../src/models/bert.js';
import {
  family,
  RobertaForSequenceClassification,
  RobertaModel,
  type RobertaFamilyModel,
} from '../../src/models/roberta.js';
import { GOLDEN } from '../helpers/cli.js';
import { expectClose } from '../helpers/parity.js';

// Observed on this CPU: within 2.5e-7 of max(1, max|ref|); the exact-GELU/tanh and 1/sqrt(d)/1/d mutations
// move these outputs by 3e-5 to 1e-4.
const FORWARD = 2e-6;

const DIR = join(GOLDEN, 'models', 'roberta');
const config = readModelConfig(DIR);
const inputs = loadSafetensorsFile(join(DIR, 'inputs.safetensors')).tensors;
const golden = loadSafetensorsFile(join(DIR, 'outputs.safetensors')).tensors;

function loadFrom(cfg: Record<string, unknown>, file: string): RobertaFamilyModel {
  const m = family.build(cfg);
  const src = openCheckpoint(file);
  try {
    family.load(m, src);
  } finally {
    src.close();
  }
  return m;
}

function maxAbs(a: Tensor, b: Tensor): number {
  assert.deepEqual(a.shape, b.shape);
  return tidy(() => a.sub(b).abs().max().item());
}

function withTempDir(fn: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'tandem-roberta-'));
  try {
    fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('the registry maps roberta and bertweet to this family', async () => {
  assert.equal(await familyFor('roberta'), family);
  assert.equal(await familyFor('bertweet'), family);
});

test('RobertaModel reproduces the golden last_hidden_state and pooler_output (2e-6 of the scale)', () => {
  const m = loadFrom(config, DIR);
  assert.ok(m instanceof RobertaModel);
  tidy(() => {
    const out = family.forwardNamed(m, inputs);
    for (const name of golden.keys()) {
      expectClose(out.get(name)!, golden.get(name)!, { rel: FORWARD, name: `roberta ${name}` });
    }
  });
  m.dispose();
});

test('position ids count from pad_token_id + 1 and padding keeps pad_token_id', () => {
  tidy(() => {
    const ids = tensor([0, 5, 6, 2, 1, 1, 0, 7, 2, 1, 1, 1], { dtype: 'int64', shape: [2, 6] });
    const pos = paddingOffsetPositionIds(ids, 1);
    assert.equal(pos.dtype, 'int64');
    assert.deepEqual(pos.toArray(), [2, 3, 4, 5, 1, 1, 2, 3, 4, 1, 1, 1]);
  });
});

test('position ids skip padding: a left-padded sequence gives the same states to its real tokens', () => {
  // With absolute positions the real tokens would shift by two positions and their states would change.
  const m = loadFrom(config, DIR);
  tidy(() => {
    const real = inputs.get('input_ids')!.narrow(0, 0, 1).narrow(1, 0, 10).toArray();
    const padded = tensor([1, 1, ...real], { dtype: 'int64', shape: [1, 12] });
    const mask = tensor([0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1], { dtype: 'int64', shape: [1, 12] });
    const a = family
      .forwardNamed(
        m,
        new Map([
          ['input_ids', padded],
          ['attention_mask', mask],
        ]),
      )
      .get('last_hidden_state')!;
    const b = family
      .forwardNamed(m, new Map([['input_ids', tensor(real, { dtype: 'int64', shape: [1, 10] })]]))
      .get('last_hidden_state')!;
    const d = maxAbs(a.narrow(1, 2, 10), b);
    assert.ok(d < 1e-5, `max abs diff ${d}`);
  });
  m.dispose();
});

test('BERTweet configs (model_type bertweet, RobertaForMaskedLM checkpoints) build an encoder without pooler and skip lm_head', () => {
  withTempDir((dir) => {
    const weights = loadSafetensorsFile(join(DIR, 'model.safetensors')).tensors;
    // A masked-LM checkpoint as vinai/bertweet-base has: roberta.-prefixed, no pooler, an lm_head.
    const mlm = new Map<string, Tensor>();
    for (const [k, v] of weights) if (!k.startsWith('pooler.')) mlm.set(`roberta.${k}`, v);
    mlm.set('lm_head.bias', weights.get('pooler.dense.bias')!);
    mlm.set('lm_head.dense.weight', weights.get('pooler.dense.weight')!);
    const file = join(dir, 'model.safetensors');
    saveTensors(file, mlm);
    const m = loadFrom({ ...config, model_type: 'bertweet', architectures: ['RobertaForMaskedLM'] }, file);
    assert.ok(m instanceof RobertaModel);
    assert.equal(m.pooler, null);
    tidy(() => {
      const out = family.forwardNamed(m, inputs);
      assert.equal(out.has('pooler_output'), false);
      expectClose(out.get('last_hidden_state')!, golden.get('last_hidden_state')!, {
        rel: FORWARD,
        name: 'bertweet mlm states',
      });
    });
    m.dispose();
  });
});

test('RobertaForSequenceClassification: classifier.dense/out_proj on <s>, loss from labels', () => {
  withTempDir((dir) => {
    const weights = loadSafetensorsFile(join(DIR, 'model.safetensors')).tensors;
    const cls = new Map<string, Tensor>();
    for (const [k, v] of weights) if (!k.startsWith('pooler.')) cls.set(`roberta.${k}`, v);
    // Reuse the pooler's weights as the head's dense layer: then tanh(dense(<s>)) equals pooler_output.
    cls.set('classifier.dense.weight', weights.get('pooler.dense.weight')!);
    cls.set('classifier.dense.bias', weights.get('pooler.dense.bias')!);
    const outW = tensor(
      Array.from({ length: 2 * 32 }, (_, i) => ((i % 7) - 3) / 10),
      { shape: [2, 32] },
    );
    const outB = tensor([0.5, -0.25]);
    cls.set('classifier.out_proj.weight', outW);
    cls.set('classifier.out_proj.bias', outB);
    const file = join(dir, 'model.safetensors');
    saveTensors(file, cls);
    const m = loadFrom({ ...config, architectures: ['RobertaForSequenceClassification'], num_labels: 2 }, file);
    assert.ok(m instanceof RobertaForSequenceClassification);
    tidy(() => {
      const named = new Map(inputs);
      named.set('labels', tensor([0, 1, 1, 0], { dtype: 'int64' }));
      const out = family.forwardNamed(m, named);
      const expected = golden.get('pooler_output')!.matmul(outW.T).add(outB);
      expectClose(out.get('logits')!, expected, { rel: FORWARD, name: 'roberta classifier logits' });
      const ce = expected
        .logSoftmax(-1)
        .gather(1, tensor([0, 1, 1, 0], { dtype: 'int64', shape: [4, 1] }))
        .mean()
        .neg();
      expectClose(out.get('loss')!, ce.view(1), { rel: FORWARD, name: 'roberta classifier loss' });
    });
    m.dispose();
  });
});

test('checkpoints with a missing, an extra or a mis-shaped tensor fail naming them', () => {
  withTempDir((dir) => {
    const weights = loadSafetensorsFile(join(DIR, 'model.safetensors')).tensors;
    weights.delete('encoder.layer.0.attention.self.key.weight');
    weights.set('encoder.layer.2.output.dense.bias', weights.get('pooler.dense.bias')!);
    weights.set('embeddings.position_embeddings.weight', weights.get('embeddings.word_embeddings.weight')!);
    const file = join(dir, 'model.safetensors');
    saveTensors(file, weights);
    assert.throws(
      () => loadFrom(config, file),
      (e: Error) =>
        e.message.includes('missing from the checkpoint: encoder.layer.0.attention.self.key.weight') &&
        e.message.includes('not used by RobertaModel: encoder.layer.2.output.dense.bias') &&
        e.message.includes('mis-shaped: embeddings.position_embeddings.weight (checkpoint [500,32], model [20,32])'),
    );
  });
});

test('unsupported options, architectures and too-long inputs are named', () => {
  assert.throws(
    () => family.build({ ...config, model_type: 'bert' }),
    /"model_type": "bert" is not a roberta model \(supported: roberta, bertweet\)/,
  );
  assert.throws(
    () => family.build({ ...config, architectures: ['RobertaForCausalLM'] }),
    /"RobertaForCausalLM" is not supported \(supported: RobertaModel, RobertaForMaskedLM, RobertaForSequenceClassification\)/,
  );
  assert.throws(
    () => family.build({ ...config, position_embedding_type: 'relative_key_query' }),
    /"position_embedding_type": "relative_key_query" is not supported/,
  );
  assert.throws(
    () => family.build({ ...config, add_cross_attention: true }),
    /"add_cross_attention": true is not supported/,
  );
  const m = family.build(config);
  tidy(() => {
    // 18 tokens + pad_token_id 1 needs position 19 < 20; 19 tokens need 20, past the table.
    const ok = inputs.get('input_ids')!.repeat(1, 2).narrow(1, 0, 18);
    assert.equal(
      family
        .forwardNamed(m, new Map([['input_ids', ok]]))
        .get('last_hidden_state')!
        .size(1),
      18,
    );
    const long = inputs.get('input_ids')!.repeat(1, 2).narrow(1, 0, 19);
    assert.throws(
      () => family.forwardNamed(m, new Map([['input_ids', long]])),
      /19 tokens need position ids up to 20, but max_position_embeddings is 20/,
    );
  });
  m.dispose();
});

test('random init zeroes the padding rows of the word and position tables', () => {
  const m = family.build(config);
  const p = new Map(m.namedParameters());
  tidy(() => {
    assert.equal(p.get('embeddings.word_embeddings.weight')!.select(0, 1).abs().max().item(), 0);
    assert.equal(p.get('embeddings.position_embeddings.weight')!.select(0, 1).abs().max().item(), 0);
    assert.ok(p.get('embeddings.position_embeddings.weight')!.select(0, 2).abs().max().item() > 0);
  });
  m.dispose();
});
