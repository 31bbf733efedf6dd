import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tensor, tidy, type Tensor } from '../../src/tensor/index.js';
import { openCheckpoint } from '../../src/io/safetensors.js';
import { loadSafetensorsFile, saveTensors } from '../../src/io/tensors.js';
import { family, readSiglipConfig, siglipLoss, SiglipModel } from '../../src/models/siglip.js';
import { GOLDEN } from '../helpers/cli.js';
import { expectClose } from '../helpers/parity.js';

// Observed on this CPU: within 2.5e-7 of max(1, max|ref|); the exact-GELU/tanh and 1/sqrt(d)/1/d mutations
// move these outputs by 3e-5 to 1e-4.
const FORWARD = 2e-6;

const DIR = join(GOLDEN, 'models', 'siglip');
const config = JSON.parse(readFileSync(join(DIR, 'config.json'), 'utf8')) as Record<string, unknown>;
const inputs = loadSafetensorsFile(join(DIR, 'inputs.safetensors')).tensors;
const golden = loadSafetensorsFile(join(DIR, 'outputs.safetensors')).tensors;

function maxAbsDiff(a: Tensor, b: Tensor): number {
  assert.deepEqual(a.shape, b.shape);
  return tidy(() => a.sub(b).abs().max().item());
}

function loaded(): SiglipModel {
  const m = family.build(config);
  const src = openCheckpoint(DIR);
  try {
    family.load(m, src);
  } finally {
    src.close();
  }
  return m;
}

test('SiglipModel reproduces every golden output (2e-6 of the scale)', () => {
  const model = loaded();
  tidy(() => {
    const out = family.forwardNamed(model, inputs);
    assert.deepEqual([...golden.keys()].sort(), ['image_embeds', 'logits_per_image', 'loss', 'text_embeds']);
    for (const [name, want] of golden) {
      expectClose(out.get(name)!, want, { rel: FORWARD, name: `siglip ${name}` });
    }
    // logits_per_text is the transpose; logits use exp(logit_scale) and logit_bias.
    assert.equal(maxAbsDiff(out.get('logits_per_text')!, out.get('logits_per_image')!.transpose(0, 1)), 0);
    const cos = out.get('text_embeds')!.matmul(out.get('image_embeds')!.transpose(0, 1));
    const want = cos.mul(model.logit_scale.exp()).add(model.logit_bias);
    assert.ok(maxAbsDiff(out.get('logits_per_text')!, want) < 1e-5);
  });
});

test('siglipLoss: -mean over texts of the summed log-sigmoids, positive on the diagonal', () => {
  tidy(() => {
    const logits = tensor([
      [2, -1],
      [0.5, 3],
    ]);
    const ls = (x: number) => -Math.log1p(Math.exp(-x));
    const want = -(ls(2) + ls(1) + (ls(-0.5) + ls(3))) / 2;
    assert.ok(Math.abs(siglipLoss(logits).item() - want) < 1e-6);
    assert.throws(() => siglipLoss(tensor([[1, 2]])), /as many texts as images/);
  });
});

test('text pooling takes the last position; an attention_mask masks padded keys', () => {
  const m = loaded().eval();
  tidy(() => {
    const ids = inputs.get('input_ids')!;
    const out = m.text_model.forward(ids);
    const last = out.last_hidden_state.select(1, ids.size(1) - 1);
    assert.ok(maxAbsDiff(out.pooler_output, m.text_model.head.forward(last)) === 0);
    // Masking the last 4 keys changes the states; the masked keys' tokens then no longer matter.
    const mask = tensor([Array.from({ length: 16 }, (_, i) => (i < 12 ? 1n : 0n))]);
    const a = m.text_model.forward(ids.narrow(0, 0, 1), mask);
    const changed = ids.narrow(0, 0, 1).clone();
    changed.narrow(1, 12, 2).fill_(5);
    const b = m.text_model.forward(changed, mask);
    assert.ok(maxAbsDiff(a.last_hidden_state.narrow(1, 0, 12), b.last_hidden_state.narrow(1, 0, 12)) < 1e-6);
    assert.ok(
      maxAbsDiff(a.last_hidden_state.narrow(1, 0, 12), out.last_hidden_state.narrow(0, 0, 1).narrow(1, 0, 12)) > 1e-4,
    );
  });
});

test('vision: no class token, position embeddings interpolated for larger images', () => {
  const m = loaded().eval();
  tidy(() => {
    const out = m.vision_model.forward(inputs.get('pixel_values')!);
    assert.deepEqual(out.last_hidden_state.shape, [4, 16, 32]);
    assert.deepEqual(out.pooler_output!.shape, [4, 32]);
    const big = m.vision_model.forward(tensor(new Float32Array(3 * 48 * 48).fill(0.3), { shape: [1, 3, 48, 48] }));
    assert.deepEqual(big.last_hidden_state.shape, [1, 36, 32]);
    assert.equal(
      maxAbsDiff(
        m.vision_model.embeddings.positions(32, 32, 16),
        m.vision_model.embeddings.position_embedding.weight.unsqueeze(0),
      ),
      0,
    );
  });
});

test('a checkpoint with a missing, an extra and a mis-shaped tensor fails naming each', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tandem-siglip-'));
  try {
    const t = loadSafetensorsFile(join(DIR, 'model.safetensors')).tensors;
    t.delete('vision_model.head.probe');
    t.set('text_model.pooler.weight', tensor([1]));
    t.set('logit_bias', tensor([1, 2]));
    saveTensors(join(dir, 'model.safetensors'), t);
    copyFileSync(join(DIR, 'config.json'), join(dir, 'config.json'));
    const src = openCheckpoint(dir);
    try {
      assert.throws(
        () => family.load(family.build(config), src),
        (e: Error) =>
          /missing from the checkpoint: vision_model\.head\.probe/.test(e.message) &&
          /text_model\.pooler\.weight/.test(e.message) &&
          /logit_bias \(checkpoint \[2\], model \[1\]\)/.test(e.message),
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
    () => readSiglipConfig({ ...config, model_type: 'siglip2' }),
    /"model_type": "siglip2" is not supported \(supported: siglip\)/,
  );
  assert.throws(
    () => readSiglipConfig({ ...config, architectures: ['SiglipForImageClassification'] }),
    /"SiglipForImageClassification" is not supported \(supported: SiglipModel\)/,
  );
  assert.throws(
    () =>
      readSiglipConfig({ ...config, vision_config: { ...(config['vision_config'] as object), hidden_act: 'swiglu' } }),
    /vision_config: "hidden_act": "swiglu" is not supported/,
  );
  assert.throws(
    () =>
      family.build({ ...config, vision_config: { ...(config['vision_config'] as object), vision_use_head: false } }),
    /vision_use_head/,
  );
});

test('random init: logit_scale log(1) = 0, logit_bias 0, attention biases 0, LayerNorm 1/0', () => {
  const m = family.build(config);
  tidy(() => {
    assert.equal(m.logit_scale.item(), 0);
    assert.equal(m.logit_bias.item(), 0);
    assert.equal(m.vision_model.head!.attention.inProjBias.abs().max().item(), 0);
    assert.equal(m.text_model.final_layer_norm.weight!.sub(1).abs().max().item(), 0);
    const std = m.text_model.embeddings.token_embedding.weight.std().item();
    assert.ok(Math.abs(std - 32 ** -0.5) < 0.02, `std ${std}`);
  });
});
