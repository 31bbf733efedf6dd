// BERT against the Hugging Face reference (test/fixtures/golden/models/bert): every forward output, the
// gradients of the mean cross-entropy and the parameters after one AdamW step; checkpoint and config errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tidy, type Tensor } from '../../src/tensor/index.js';
import { AdamW } from '../../src/optim/index.js';
import { openCheckpoint } from '../../src/io/safetensors.js';
import { readModelConfig } from '../../src/io/model-folder.js';
import { loadSafetensorsFile, saveTensors } from '../../src/io/tensors.js';
import { familyFor } from '../../src/models/family.js';
import {
  BertForSequenceClassification,
  BertModel,
  family,
  loadPretrainedEncoder,
  type BertFamilyModel,
} from '../../src/models/bert.js';
import { GOLDEN } from '../helpers/cli.js';
import { expectAllClose, expectClose, expectCloseNumber } from '../helpers/parity.js';

// Observed on this CPU: forward outputs within 2.4e-7 of max(1, max|ref|), gradients within 7e-7 of
// max(1e-3, max|ref|), parameters after the AdamW step within 1.3e-6 of max(1, max|ref|).
const FORWARD = 2e-6;

const DIR = join(GOLDEN, 'models', 'bert');
const config = readModelConfig(DIR);
const inputs = loadSafetensorsFile(join(DIR, 'inputs.safetensors')).tensors;
const golden = loadSafetensorsFile(join(DIR, 'outputs.safetensors')).tensors;

function loaded(cfg = config, dir = DIR): BertFamilyModel {
  const m = family.build(cfg);
  const src = openCheckpoint(dir);
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

test('the registry maps model_type bert to this family', async () => {
  assert.equal(await familyFor('bert'), family);
});

test('BertForSequenceClassification reproduces every golden forward output (2e-6 of the scale)', () => {
  const m = loaded();
  assert.ok(m instanceof BertForSequenceClassification);
  tidy(() => {
    const out = family.forwardNamed(m, inputs);
    const expected = [...golden.keys()].filter((k) => !k.startsWith('grad.') && !k.startsWith('param_after_step.'));
    assert.deepEqual(expected.sort(), [
      'hidden_states.0',
      'hidden_states.1',
      'hidden_states.2',
      'logits',
      'loss',
      'pooler_output',
    ]);
    for (const name of expected) {
      const got = out.get(name);
      assert.ok(got, `forwardNamed did not return ${name}`);
      expectClose(got, golden.get(name)!, { rel: FORWARD, name: `bert ${name}` });
    }
    // The last hidden state is the last layer's output.
    assert.equal(maxAbs(out.get('last_hidden_state')!, out.get('hidden_states.2')!), 0);
  });
  assert.equal(m.training, true, 'forwardNamed restores the training flag');
  // Mixed modes (a frozen encoder in eval mode under a training head) survive forwardNamed.
  (m as BertForSequenceClassification).bert.eval();
  tidy(() => family.forwardNamed(m, inputs));
  assert.equal(m.training, true);
  assert.equal((m as BertForSequenceClassification).bert.encoder.training, false);
  assert.equal((m as BertForSequenceClassification).classifier.training, true);
  m.dispose();
});

test('training parity: gradients of the mean cross-entropy and one AdamW step match the reference', () => {
  const m = loaded();
  m.train();
  const loss = tidy(() => {
    const out = (m as BertForSequenceClassification).forward({
      input_ids: inputs.get('input_ids')!,
      attention_mask: inputs.get('attention_mask'),
      token_type_ids: inputs.get('token_type_ids'),
      labels: inputs.get('labels'),
    });
    out.loss!.backward();
    return out.loss!.item();
  });
  expectCloseNumber(loss, golden.get('loss')!.item(), { rel: FORWARD, name: 'bert loss' });
  const params = m.namedParameters();
  assert.equal(params.length, 41);
  expectAllClose(
    params.map(([name, p]) => {
      const ref = golden.get(`grad.${name}`);
      assert.ok(ref, `no golden gradient for ${name}`);
      assert.ok(p.grad, `${name} has no gradient`);
      return [name, p.grad, ref] as const;
    }),
    { rel: 1e-5, floor: 1e-3, name: 'bert gradients' },
  );
  const opt = new AdamW(
    params.map(([, p]) => p),
    { lr: 1e-3, weightDecay: 0.01 },
  );
  opt.step();
  expectAllClose(
    params.map(([name, p]) => [name, p, golden.get(`param_after_step.${name}`)!] as const),
    { rel: 5e-6, name: 'bert after one AdamW step' },
  );
  // The step really moved the parameters (the comparison above is not against the loaded values).
  const w = m.namedParameters().find(([n]) => n === 'classifier.weight')![1];
  const before = loaded()
    .namedParameters()
    .find(([n]) => n === 'classifier.weight')![1];
  assert.ok(maxAbs(w, before) > 1e-4);
  opt.dispose();
  m.dispose();
});

test('a BertModel loads a classification checkpoint (prefix stripped, classifier skipped) and gives the same states', () => {
  const m = loaded({ ...config, architectures: ['BertModel'] });
  assert.ok(m instanceof BertModel);
  assert.ok(m.namedParameters().every(([n]) => !n.startsWith('bert.') && !n.startsWith('classifier')));
  tidy(() => {
    const named = new Map([...inputs].filter(([k]) => k !== 'labels'));
    const out = family.forwardNamed(m, named);
    expectClose(out.get('pooler_output')!, golden.get('pooler_output')!, { rel: FORWARD, name: 'BertModel pooler' });
    expectClose(out.get('hidden_states.2')!, golden.get('hidden_states.2')!, {
      rel: FORWARD,
      name: 'BertModel states',
    });
    assert.equal(out.has('logits'), false);
    assert.throws(() => family.forwardNamed(m, inputs), /labels given, but BertModel has no head/);
  });
  m.dispose();
});

test('checkpoints with a missing, an extra or a mis-shaped tensor fail naming them', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tandem-bert-'));
  try {
    const weights = loadSafetensorsFile(join(DIR, 'model.safetensors')).tensors;
    weights.delete('bert.encoder.layer.1.output.dense.bias');
    weights.set('bert.encoder.layer.0.attention.self.extra', weights.get('bert.pooler.dense.bias')!);
    weights.set('bert.pooler.dense.weight', weights.get('bert.encoder.layer.0.intermediate.dense.weight')!);
    const file = join(dir, 'model.safetensors');
    saveTensors(file, weights);
    const m = family.build(config);
    const src = openCheckpoint(file);
    try {
      assert.throws(
        () => family.load(m, src),
        (e: Error) =>
          /missing from the checkpoint: bert\.encoder\.layer\.1\.output\.dense\.bias/.test(e.message) &&
          /not used by BertForSequenceClassification: bert\.encoder\.layer\.0\.attention\.self\.extra/.test(
            e.message,
          ) &&
          /mis-shaped: bert\.pooler\.dense\.weight \(checkpoint \[64,32\], model \[32,32\]\)/.test(e.message),
      );
    } finally {
      src.close();
    }
    m.dispose();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a base checkpoint loads into a classifier for fine-tuning (new head listed); strict load names the head', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tandem-bert-'));
  try {
    const weights = loadSafetensorsFile(join(DIR, 'model.safetensors')).tensors;
    // A pre-training style checkpoint: old LayerNorm names, an MLM head, no classifier.
    weights.delete('classifier.weight');
    weights.delete('classifier.bias');
    const g = weights.get('bert.embeddings.LayerNorm.weight')!;
    weights.delete('bert.embeddings.LayerNorm.weight');
    weights.set('bert.embeddings.LayerNorm.gamma', g);
    weights.set('cls.predictions.bias', weights.get('bert.pooler.dense.bias')!);
    const file = join(dir, 'model.safetensors');
    saveTensors(file, weights);
    const m = family.build(config);
    const src = openCheckpoint(file);
    try {
      assert.throws(() => family.load(m, src), /missing from the checkpoint: classifier\.weight, classifier\.bias$/);
      const fresh = loadPretrainedEncoder(m, src, 'bert');
      assert.deepEqual(fresh, ['classifier.weight', 'classifier.bias']);
    } finally {
      src.close();
    }
    tidy(() => {
      const out = family.forwardNamed(m, inputs);
      expectClose(out.get('pooler_output')!, golden.get('pooler_output')!, { rel: FORWARD, name: 'bert from base' });
    });
    m.dispose();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('unsupported model types, options and architectures are named with what is supported', () => {
  assert.throws(
    () => family.build({ ...config, position_embedding_type: 'relative_key' }),
    /"position_embedding_type": "relative_key" is not supported \(supported: absolute\)/,
  );
  assert.throws(
    () => family.build({ ...config, hidden_act: 'mish' }),
    /"hidden_act": "mish" is not supported \(supported: gelu, gelu_new/,
  );
  assert.throws(
    () => family.build({ ...config, architectures: ['BertForTokenClassification'] }),
    /"architectures": "BertForTokenClassification" is not supported \(supported: BertModel, .*BertForSequenceClassification\)/,
  );
  assert.throws(() => family.build({ ...config, model_type: 'gpt2' }), /"model_type": "gpt2" is not a BERT model/);
  assert.throws(() => family.build({ ...config, is_decoder: true }), /"is_decoder": true is not supported/);
  assert.throws(
    () => family.build({ ...config, hidden_size: 30 }),
    /"hidden_size" \(30\) must be a multiple of "num_attention_heads" \(4\)/,
  );
  assert.throws(() => family.build({ ...config, layer_norm_eps: '1e-12' }), /field "layer_norm_eps" must be a number/);
});

test('forward checks its inputs: unknown names, too many tokens', () => {
  const m = family.build(config);
  tidy(() => {
    const bad = new Map(inputs);
    bad.set('pixel_values', inputs.get('attention_mask')!);
    assert.throws(
      () => family.forwardNamed(m, bad),
      /inputs: pixel_values not used by this model \(accepted: input_ids,/,
    );
    assert.throws(() => family.forwardNamed(m, new Map()), /input_ids is required/);
    const long = inputs.get('input_ids')!.repeat(1, 5); // 80 tokens > max_position_embeddings 64
    assert.throws(
      () => family.forwardNamed(m, new Map([['input_ids', long]])),
      /80 tokens exceed max_position_embeddings \(64\)/,
    );
  });
  m.dispose();
});

test('random init follows transformers: N(0, initializer_range) weights, zero biases and padding row, LayerNorm 1/0', () => {
  const m = family.build({ ...config, hidden_size: 64, intermediate_size: 256, initializer_range: 0.05 });
  const p = new Map(m.namedParameters());
  tidy(() => {
    const w = p.get('bert.encoder.layer.0.intermediate.dense.weight')!;
    const std = w.std().item();
    assert.ok(Math.abs(std - 0.05) < 0.005, `std ${std}`);
    assert.ok(Math.abs(w.mean().item()) < 0.005);
    assert.equal(p.get('bert.encoder.layer.0.intermediate.dense.bias')!.abs().max().item(), 0);
    assert.equal(p.get('bert.embeddings.word_embeddings.weight')!.select(0, 0).abs().max().item(), 0); // pad_token_id 0
    assert.ok(p.get('bert.embeddings.word_embeddings.weight')!.select(0, 1).abs().max().item() > 0);
    assert.equal(p.get('bert.encoder.layer.1.output.LayerNorm.weight')!.sub(1).abs().max().item(), 0);
    assert.equal(p.get('bert.encoder.layer.1.output.LayerNorm.bias')!.abs().max().item(), 0);
  });
  m.dispose();
});

test('dropout (hidden, attention, classifier) acts in training mode only', () => {
  const m = loaded({ ...config, hidden_dropout_prob: 0.3, attention_probs_dropout_prob: 0.3, classifier_dropout: 0.5 });
  const x = { input_ids: inputs.get('input_ids')!, attention_mask: inputs.get('attention_mask') };
  tidy(() => {
    m.train();
    const a = (m as BertForSequenceClassification).forward(x).logits;
    const b = (m as BertForSequenceClassification).forward(x).logits;
    assert.ok(maxAbs(a, b) > 1e-3, 'two training-mode passes differ');
    const e = family.forwardNamed(m, inputs).get('logits')!;
    expectClose(e, golden.get('logits')!, { rel: FORWARD, name: 'bert eval mode ignores dropout' });
  });
  m.dispose();
});

test('in float64 the model still matches the reference', () => {
  const m = loaded();
  m.to('float64');
  tidy(() => {
    const out = family.forwardNamed(m, inputs);
    assert.equal(out.get('logits')!.dtype, 'float64');
    for (const name of ['hidden_states.2', 'pooler_output', 'logits']) {
      expectClose(out.get(name)!, golden.get(name)!, { rel: FORWARD, name: `bert float64 ${name}` });
    }
  });
  m.dispose();
});
