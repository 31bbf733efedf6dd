import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tensor, tidy, type Tensor } from '../../src/tensor/index.js';
import { openCheckpoint } from '../../src/io/safetensors.js';
import { loadSafetensorsFile, saveTensors } from '../../src/io/tensors.js';
import { AdamW } from '../../src/optim/index.js';
import { CLIPModel, clipLoss, family, readCLIPConfig } from '../../src/models/clip.js';
import { GOLDEN } from '../helpers/cli.js';
import { diffStats, expectClose } from '../helpers/parity.js';

// Observed on this CPU: within 2.5e-7 of max(1, max|ref|); the exact-GELU/tanh and 1/sqrt(d)/1/d mutations
// move these outputs by 3e-5 to 1e-4.
const FORWARD = 2e-6;

const DIR = join(GOLDEN, 'models', 'clip');
const config = JSON.parse(readFileSync(join(DIR, 'config.json'), 'utf8')) as Record<string, unknown>;
const inputs = loadSafetensorsFile(join(DIR, 'inputs.safetensors')).tensors;
const golden = loadSafetensorsFile(join(DIR, 'outputs.safetensors')).tensors;

function maxAbsDiff(a: Tensor, b: Tensor): number {
  assert.deepEqual(a.shape, b.shape);
  return tidy(() => a.sub(b).abs().max().item());
}

function loaded(): CLIPModel {
  const m = family.build(config);
  const src = openCheckpoint(DIR);
  try {
    family.load(m, src);
  } finally {
    src.close();
  }
  return m;
}

test('CLIPModel reproduces every golden forward output (2e-6 of the scale)', () => {
  const model = loaded();
  tidy(() => {
    const out = family.forwardNamed(model, inputs);
    const names = [...golden.keys()].filter((n) => !n.startsWith('grad.') && !n.startsWith('param_after_step.'));
    assert.equal(names.length, 9);
    for (const name of names) {
      const got = out.get(name);
      assert.ok(got, `missing output ${name}`);
      expectClose(got, golden.get(name)!, { rel: FORWARD, name: `clip ${name}` });
    }
  });
});

/** Worst |a - b| / (1e-6 + 1e-4 |b|) elementwise (allclose with rtol 1e-4, atol 1e-6 passes at <= 1). */
function worstElementwise(a: Tensor, b: Tensor): number {
  assert.deepEqual(a.shape, b.shape);
  return tidy(() =>
    a.to('float64').sub(b.to('float64')).abs().div(b.to('float64').abs().mul(1e-4).add(1e-6)).max().item(),
  );
}
/** max |a - b| over max(1e-7, 1e-5 max|b|): the tolerance relative to the tensor's scale (passes at <= 1). */
function worstPerTensor(a: Tensor, b: Tensor): number {
  const { maxDiff, maxRef } = diffStats(a, b);
  return maxDiff / Math.max(1e-7, 1e-5 * maxRef);
}

/**
 * Attention key biases have a gradient of exactly zero in exact arithmetic (softmax ignores a shift that is
 * the same for every key), so both sides hold float rounding noise (~1e-9) there, and AdamW's first step
 * (about lr * g / (|g| + eps)) turns that noise into arbitrary updates of up to lr. Those parameters are
 * checked for a zero gradient instead of against param_after_step.
 */
const ZERO_GRADIENT = /self_attn\.k_proj\.bias$/;

/** One contrastive-loss backward and one AdamW step; returns the worst ratios against the golden tensors. */
function trainingParity(dtype: 'float32' | 'float64'): {
  grad: [number, string, number];
  step: [number, string, number];
  elementwise: [number, string];
  count: number;
} {
  const model = loaded();
  model.to(dtype).train();
  tidy(() => {
    const out = model.forward({
      input_ids: inputs.get('input_ids')!,
      pixel_values: inputs.get('pixel_values')!.to(dtype),
      attention_mask: inputs.get('attention_mask')!,
      return_loss: true,
    });
    out.loss!.backward();
  });
  const params = model.namedParameters();
  const worst = (prefix: string, get: (name: string, p: Tensor) => Tensor): [number, string, number] => {
    let w: [number, string, number] = [0, '', 0];
    for (const [name, p] of params) {
      const want = golden.get(`${prefix}${name}`);
      assert.ok(want, `no golden ${prefix}${name}`);
      const r = worstPerTensor(get(name, p), want);
      if (r > w[0]) w = [r, name, worstElementwise(get(name, p), want)];
    }
    return w;
  };
  const grad = worst('grad.', (name, p) => {
    assert.ok(p.grad, `no gradient for ${name}`);
    return p.grad;
  });
  new AdamW(model.parameters(), { lr: 1e-3, weightDecay: 0.01 }).step();
  const step = worst('param_after_step.', (name, p) =>
    ZERO_GRADIENT.test(name) ? golden.get(`param_after_step.${name}`)! : p,
  );
  let elementwise: [number, string] = [0, ''];
  for (const [name, p] of params) {
    if (ZERO_GRADIENT.test(name)) {
      for (const g of [p.grad!, golden.get(`grad.${name}`)!])
        assert.ok(
          tidy(() => g.abs().max().item()) < 1e-7,
          `${name}: gradient should be 0, max |g| ${tidy(() => g.abs().max().item())}`,
        );
      continue;
    }
    const r = Math.max(
      worstElementwise(p.grad!, golden.get(`grad.${name}`)!),
      worstElementwise(p, golden.get(`param_after_step.${name}`)!),
    );
    if (r > elementwise[0]) elementwise = [r, name];
  }
  console.log(
    `clip ${dtype}: worst elementwise allclose ratio over grad.* and param_after_step.*: ${elementwise[0].toFixed(3)} (${elementwise[1]})`,
  );
  return { grad, step, elementwise, count: params.length };
}

test('CLIP training parity (float32): contrastive-loss gradients and one AdamW step within the golden tolerances', () => {
  const r = trainingParity('float32');
  assert.equal(r.count, 78);
  console.log(
    `clip float32 grad.*: worst max|diff| / max(1e-7, 1e-5 max|ref|) = ${r.grad[0].toFixed(3)} (${r.grad[1]})`,
  );
  console.log(`clip float32 param_after_step.*: worst = ${r.step[0].toFixed(3)} (${r.step[1]})`);
  assert.ok(r.grad[0] <= 1, `gradient of ${r.grad[1]} off by ${r.grad[0]}x the tolerance`);
  assert.ok(r.step[0] <= 1, `parameter ${r.step[1]} after the AdamW step off by ${r.step[0]}x the tolerance`);
});

test('CLIP training parity (float64): the same, elementwise allclose(rtol 1e-4, atol 1e-6)', () => {
  // In float64 the model's own rounding vanishes: what is left is the reference's float32 rounding, so
  // every element meets the tolerance. (In float32 the two roundings add up on a few near-zero elements.)
  const r = trainingParity('float64');
  assert.ok(r.elementwise[0] <= 1, `${r.elementwise[1]} off by ${r.elementwise[0]}x the tolerance`);
});

test('text pooling: first eos_token_id position, or the argmax of input_ids when every row holds OpenAI 49407; padding is masked', () => {
  const small = { ...config, text_config: { ...(config['text_config'] as object), eos_token_id: 7 } };
  const m = family.build(small).eval();
  tidy(() => {
    // eos 7 at position 2 (row 0) and 1 (row 1); the rest is padding (id 7 too, as CLIP pads with eos).
    const ids = tensor([
      [0n, 5n, 7n, 7n, 7n],
      [0n, 7n, 7n, 7n, 7n],
    ]);
    const mask = tensor([
      [1n, 1n, 1n, 0n, 0n],
      [1n, 1n, 0n, 0n, 0n],
    ]);
    const out = m.text_model.forward(ids, mask);
    assert.equal(maxAbsDiff(out.pooler_output.select(0, 0), out.last_hidden_state.select(0, 0).select(0, 2)), 0);
    assert.equal(maxAbsDiff(out.pooler_output.select(0, 1), out.last_hidden_state.select(0, 1).select(0, 1)), 0);
    // Causal: changing a later token (or padding) leaves earlier states unchanged.
    const ids2 = tensor([
      [0n, 5n, 7n, 9n, 9n],
      [0n, 7n, 3n, 3n, 3n],
    ]);
    const out2 = m.text_model.forward(ids2, mask);
    assert.ok(
      maxAbsDiff(
        out.last_hidden_state.narrow(1, 0, 3).select(0, 0),
        out2.last_hidden_state.narrow(1, 0, 3).select(0, 0),
      ) < 1e-6,
    );
    assert.ok(maxAbsDiff(out.pooler_output, out2.pooler_output) < 1e-6);
    // Padding mask: a masked key changes nothing at a later query either (position 4 of row 0 sees 0..2 only).
    const ids3 = tensor([
      [0n, 5n, 7n, 1n, 7n],
      [0n, 7n, 7n, 7n, 7n],
    ]);
    const out3 = m.text_model.forward(ids3, mask);
    const only4 = (o: { last_hidden_state: Tensor }) => o.last_hidden_state.select(0, 0).select(0, 4);
    const tokenOnly = (t: Tensor) => m.text_model.embeddings.forward(t).select(0, 0).select(0, 4);
    assert.ok(maxAbsDiff(tokenOnly(ids), tokenOnly(ids3)) === 0);
    assert.ok(maxAbsDiff(only4(out), only4(out3)) < 1e-6);
  });
  // OpenAI vocabulary (49408 ids) with the old configs' eos_token_id 2: pooled at the argmax (49407) when
  // every row holds it; otherwise at the first eos_token_id.
  const legacy = family
    .build({ ...config, text_config: { ...(config['text_config'] as object), vocab_size: 49408, eos_token_id: 2 } })
    .eval();
  tidy(() => {
    const ids = tensor([
      [49406n, 2n, 49407n, 49407n],
      [49406n, 320n, 1125n, 49407n],
    ]);
    const out = legacy.text_model.forward(ids, null);
    assert.equal(maxAbsDiff(out.pooler_output.select(0, 0), out.last_hidden_state.select(0, 0).select(0, 2)), 0);
    assert.equal(maxAbsDiff(out.pooler_output.select(0, 1), out.last_hidden_state.select(0, 1).select(0, 3)), 0);
    const noEot = tensor([
      [49406n, 5n, 2n, 7n],
      [49406n, 2n, 2n, 2n],
    ]);
    const out2 = legacy.text_model.forward(noEot, null);
    assert.equal(maxAbsDiff(out2.pooler_output.select(0, 0), out2.last_hidden_state.select(0, 0).select(0, 2)), 0);
    assert.equal(maxAbsDiff(out2.pooler_output.select(0, 1), out2.last_hidden_state.select(0, 1).select(0, 1)), 0);
  });
});

test('clipLoss is the mean of both cross-entropies over the diagonal, and logits follow logit_scale', () => {
  tidy(() => {
    const logits = tensor([
      [2, 0],
      [1, 3],
    ]);
    // CE rows: -log softmax([2,0])[0], -log softmax([1,3])[1]; columns: [2,1] -> 0, [0,3] -> 1.
    const ce = (xs: number[], i: number) => Math.log(xs.reduce((a, x) => a + Math.exp(x), 0)) - xs[i]!;
    const want = ((ce([2, 0], 0) + ce([1, 3], 1)) / 2 + (ce([2, 1], 0) + ce([0, 3], 1)) / 2) / 2;
    assert.ok(Math.abs(clipLoss(logits).item() - want) < 1e-6);
    assert.throws(() => clipLoss(tensor([[1, 2, 3]])), /as many texts as images/);
  });
  const m = loaded().eval();
  tidy(() => {
    const out = m.forward({
      input_ids: inputs.get('input_ids')!,
      pixel_values: inputs.get('pixel_values')!,
      attention_mask: inputs.get('attention_mask')!,
    });
    const cos = out.text_embeds.matmul(out.image_embeds.transpose(0, 1));
    assert.ok(maxAbsDiff(out.logits_per_text, cos.mul(Math.exp(2.6592))) < 1e-4);
    assert.equal(out.loss, undefined);
  });
});

test('a checkpoint with a missing, an extra and a mis-shaped tensor fails naming each', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tandem-clip-'));
  try {
    const t = loadSafetensorsFile(join(DIR, 'model.safetensors')).tensors;
    t.delete('text_projection.weight');
    t.set('vision_model.extra_head.weight', tensor([1, 2]));
    t.set('vision_model.embeddings.position_embedding.weight', tensor(new Float32Array(10 * 32), { shape: [10, 32] }));
    saveTensors(join(dir, 'model.safetensors'), t);
    copyFileSync(join(DIR, 'config.json'), join(dir, 'config.json'));
    const src = openCheckpoint(dir);
    try {
      assert.throws(
        () => family.load(family.build(config), src),
        (e: Error) =>
          /missing from the checkpoint: text_projection\.weight/.test(e.message) &&
          /vision_model\.extra_head\.weight/.test(e.message) &&
          /vision_model\.embeddings\.position_embedding\.weight \(checkpoint \[10,32\], model \[17,32\]\)/.test(
            e.message,
          ),
      );
    } finally {
      src.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('unsupported options are named with what is supported', () => {
  assert.throws(
    () => readCLIPConfig({ ...config, architectures: ['CLIPForImageClassification'] }),
    /"architectures": "CLIPForImageClassification" is not supported \(supported: CLIPModel\)/,
  );
  assert.throws(
    () => readCLIPConfig({ ...config, model_type: 'siglip' }),
    /"model_type": "siglip" is not supported \(supported: clip\)/,
  );
  assert.throws(
    () => readCLIPConfig({ ...config, text_config: { ...(config['text_config'] as object), hidden_act: 'gelu_10' } }),
    /text_config: "hidden_act": "gelu_10" is not supported/,
  );
  assert.throws(
    () =>
      readCLIPConfig({ ...config, vision_config: { ...(config['vision_config'] as object), num_attention_heads: 5 } }),
    /vision_config: field "hidden_size" \(32\) must be a multiple of "num_attention_heads" \(5\)/,
  );
});

test('random init: projections std hidden^-0.5, logit_scale = logit_scale_init_value, LayerNorm 1/0', () => {
  const m = family.build({
    ...config,
    projection_dim: 256,
    text_config: { ...(config['text_config'] as object), hidden_size: 64 },
  });
  tidy(() => {
    const std = m.text_projection.weight.std().item();
    assert.ok(Math.abs(std - 64 ** -0.5) < 0.01, `std ${std}`);
    assert.ok(Math.abs(m.logit_scale.item() - 2.6592) < 1e-6);
    assert.equal(m.vision_model.pre_layrnorm.weight!.sub(1).abs().max().item(), 0);
    assert.equal(m.text_model.encoder.layers.at(0).mlp.fc1.bias!.abs().max().item(), 0);
  });
});

test('forwardNamed runs in eval mode and restores each module training flag', () => {
  const m = family.build(config);
  m.train();
  m.vision_model.eval();
  tidy(() => {
    const out = family.forwardNamed(m, inputs);
    assert.equal(out.get('text_embeds')!.requiresGrad, false);
  });
  assert.equal(m.training, true);
  assert.equal(m.text_model.encoder.layers.at(0).training, true);
  assert.equal(m.vision_model.training, false);
  assert.equal(m.vision_model.encoder.layers.at(1).training, false);
});
