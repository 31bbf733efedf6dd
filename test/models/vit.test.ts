import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { F, noGrad, tensor, tidy, type Tensor } from '../../src/tensor/index.js';
import { openCheckpoint } from '../../src/io/safetensors.js';
import { loadSafetensorsFile, saveTensors } from '../../src/io/tensors.js';
import { family, interpolateGrid, readViTConfig, vitCheckpointName, ViTModel } from '../../src/models/vit.js';
import { GOLDEN } from '../helpers/cli.js';
import { expectClose } from '../helpers/parity.js';

// Observed on this CPU: within 2.5e-7 of max(1, max|ref|); the exact-GELU/tanh and 1/sqrt(d)/1/d mutations
// move these outputs by 3e-5 to 1e-4.
const FORWARD = 2e-6;

const DIR = join(GOLDEN, 'models', 'vit');
const config = JSON.parse(readFileSync(join(DIR, 'config.json'), 'utf8')) as Record<string, unknown>;

function maxAbsDiff(a: Tensor, b: Tensor): number {
  assert.deepEqual(a.shape, b.shape);
  return tidy(() => a.sub(b).abs().max().item());
}

function loaded(): ViTModel {
  const m = family.build(config);
  const src = openCheckpoint(DIR);
  try {
    family.load(m, src);
  } finally {
    src.close();
  }
  return m;
}

test('ViTModel reproduces the golden last_hidden_state and pooler_output (2e-6 of the scale)', () => {
  const model = loaded();
  const inputs = loadSafetensorsFile(join(DIR, 'inputs.safetensors')).tensors;
  const golden = loadSafetensorsFile(join(DIR, 'outputs.safetensors')).tensors;
  tidy(() => {
    const out = family.forwardNamed(model, inputs);
    assert.deepEqual([...out.keys()].sort(), ['last_hidden_state', 'pooler_output']);
    for (const [name, want] of golden) {
      expectClose(out.get(name)!, want, { rel: FORWARD, name: `vit ${name}` });
    }
  });
});

test('position embeddings are interpolated bicubically for other image sizes; same size keeps them', () => {
  const model = loaded();
  tidy(() => {
    // Same size: the checkpoint's own embeddings, unchanged.
    const same = model.embeddings.positions(32, 32, 16);
    assert.equal(maxAbsDiff(same, model.embeddings.positionEmbeddings), 0);
    // 48x48 pixels with 8x8 patches: a 6x6 grid, [CLS] position kept first.
    const pos = model.embeddings.positions(48, 48, 36);
    assert.deepEqual(pos.shape, [1, 37, 32]);
    assert.equal(maxAbsDiff(pos.narrow(1, 0, 1), model.embeddings.positionEmbeddings.narrow(1, 0, 1)), 0);
    // A constant grid stays constant under bicubic interpolation (weights sum to 1).
    const flat = interpolateGrid(tensor(new Float32Array(16 * 2).fill(0.5), { shape: [1, 16, 2] }), [4, 4], [6, 6]);
    assert.ok(maxAbsDiff(flat, tensor(new Float32Array(36 * 2).fill(0.5), { shape: [1, 36, 2] })) < 1e-6);
    // Interpolating to the same grid is the identity.
    const grid = model.embeddings.positionEmbeddings.narrow(1, 1, 16);
    assert.ok(maxAbsDiff(interpolateGrid(grid, [4, 4], [4, 4]), grid) < 1e-6);
    // A full forward on a larger image runs and has 1 + 36 tokens.
    const out = noGrad(() =>
      model
        .eval()
        .forward(F.dropout(tensor(new Float32Array(2 * 3 * 48 * 48).fill(0.1), { shape: [2, 3, 48, 48] }), 0, false)),
    );
    assert.deepEqual(out.last_hidden_state.shape, [2, 37, 32]);
    assert.throws(
      () =>
        model.forward(tensor(new Float32Array(3 * 48 * 48), { shape: [1, 3, 48, 48] }), {
          interpolatePosEncoding: false,
        }),
      /48x48.*image_size is 32x32/,
    );
  });
});

test('DeiT adds a distillation token (2 prefix positions) and loads a classification checkpoint without its heads', () => {
  const deit = new ViTModel(
    readViTConfig({ ...config, model_type: 'deit', architectures: ['DeiTForImageClassificationWithTeacher'] }),
  );
  assert.equal(deit.pooler, null);
  const names = deit.namedParameters().map(([n]) => n);
  assert.ok(names.includes('embeddings.distillation_token'));
  assert.deepEqual(deit.embeddings.positionEmbeddings.shape, [1, 18, 32]);
  assert.equal(vitCheckpointName('deit.encoder.layer.0.output.dense.weight'), 'encoder.layer.0.output.dense.weight');
  assert.equal(vitCheckpointName('distillation_classifier.weight'), null);
  tidy(() => {
    const out = noGrad(() =>
      deit.eval().forward(tensor(new Float32Array(2 * 3 * 32 * 32).fill(0.2), { shape: [2, 3, 32, 32] })),
    );
    assert.deepEqual(out.last_hidden_state.shape, [2, 18, 32]);
    assert.equal(out.pooler_output, null);
    const pos = deit.embeddings.positions(48, 40, 30);
    assert.deepEqual(pos.shape, [1, 32, 32]);
  });
});

test('random init follows transformers: LayerNorm 1/0, zero biases, weights with std initializer_range', () => {
  const m = family.build({ ...config, initializer_range: 0.05, hidden_size: 64, intermediate_size: 256 });
  const sd = m.stateDict();
  tidy(() => {
    assert.equal(sd.get('layernorm.weight')!.sub(1).abs().max().item(), 0);
    assert.equal(sd.get('encoder.layer.0.attention.attention.query.bias')!.abs().max().item(), 0);
    const w = sd.get('encoder.layer.0.intermediate.dense.weight')!;
    const std = w.std().item();
    assert.ok(Math.abs(std - 0.05) < 0.006, `std ${std}`);
    // transformers truncates at ±2 in absolute units (trunc_normal_ defaults), far outside 2 std here.
    assert.ok(w.abs().max().item() < 2);
  });
});

test('a checkpoint with a missing, an extra and a mis-shaped tensor fails naming each', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tandem-vit-'));
  try {
    const t = loadSafetensorsFile(join(DIR, 'model.safetensors')).tensors;
    t.delete('encoder.layer.1.output.dense.bias');
    t.set('encoder.layer.0.extra.weight', tensor([1, 2, 3]));
    t.set('pooler.dense.weight', tensor(new Float32Array(32 * 31), { shape: [31, 32] }));
    saveTensors(join(dir, 'model.safetensors'), t);
    copyFileSync(join(DIR, 'config.json'), join(dir, 'config.json'));
    const m = family.build(config);
    const src = openCheckpoint(dir);
    try {
      assert.throws(
        () => family.load(m, src),
        (e: Error) =>
          /missing from the checkpoint: encoder\.layer\.1\.output\.dense\.bias/.test(e.message) &&
          /encoder\.layer\.0\.extra\.weight/.test(e.message) &&
          /pooler\.dense\.weight \(checkpoint \[31,32\], model \[32,32\]\)/.test(e.message),
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
    () => readViTConfig({ ...config, model_type: 'beit' }),
    /"model_type": "beit" is not supported \(supported: vit, deit\)/,
  );
  assert.throws(() => readViTConfig({ ...config, hidden_act: 'mish' }), /"hidden_act": "mish" is not supported/);
  assert.throws(
    () => readViTConfig({ ...config, architectures: ['ViTMAEModel'] }),
    /"architectures": "ViTMAEModel" is not supported/,
  );
  assert.throws(
    () => readViTConfig({ ...config, image_size: 30 }),
    /"image_size" \[30,30\] must be a multiple of "patch_size"/,
  );
  assert.throws(() => readViTConfig({ ...config, use_mask_token: true }), /use_mask_token/);
});

test('the registry finds this family for model_type vit and deit', async () => {
  const { familyFor } = await import('../../src/models/family.js');
  assert.equal((await familyFor('vit')).name, 'vit');
  assert.equal((await familyFor('deit')).name, 'vit');
  assert.equal((await familyFor('clip')).name, 'clip');
  assert.equal((await familyFor('siglip')).name, 'siglip');
});
