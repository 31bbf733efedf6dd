// LXMERT against the Hugging Face golden outputs, checkpoint and config checks, and region features made
// from patch states.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { noGrad, randn, tensor, tidy, type Tensor } from '../../src/tensor/index.js';
import { openCheckpoint, readSafetensors, writeSafetensors, type RawTensor } from '../../src/io/safetensors.js';
import { loadSafetensorsFile } from '../../src/io/tensors.js';
import { family, loadLxmertCheckpoint, LxmertModel, patchRegions, readLxmertConfig } from '../../src/models/lxmert.js';
import { GOLDEN } from '../helpers/cli.js';
import { expectClose } from '../helpers/parity.js';

// Observed on this CPU: within 2.5e-7 of max(1, max|ref|); the exact-GELU/tanh and 1/sqrt(d)/1/d mutations
// move these outputs by 3e-5 to 1e-4.
const FORWARD = 2e-6;

const DIR = join(GOLDEN, 'models', 'lxmert');
const config = JSON.parse(readFileSync(join(DIR, 'config.json'), 'utf8')) as Record<string, unknown>;

function loadGolden(): LxmertModel {
  const model = family.build(config);
  const src = openCheckpoint(join(DIR, 'model.safetensors'));
  try {
    family.load(model, src);
  } finally {
    src.close();
  }
  return model;
}

function maxAbsDiff(a: Tensor, b: Tensor): number {
  assert.deepEqual(a.shape, b.shape);
  return a.sub(b).abs().max().item();
}

function withCheckpoint(
  edit: (raw: Map<string, RawTensor>) => Map<string, RawTensor>,
  fn: (file: string) => void,
): void {
  const dir = mkdtempSync(join(tmpdir(), 'tandem-lxmert-'));
  try {
    const file = join(dir, 'model.safetensors');
    writeSafetensors(file, edit(readSafetensors(join(DIR, 'model.safetensors')).tensors));
    fn(file);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('LxmertModel reproduces the golden outputs (2e-6 of the scale)', () => {
  const model = loadGolden();
  const inputs = loadSafetensorsFile(join(DIR, 'inputs.safetensors')).tensors;
  const expected = loadSafetensorsFile(join(DIR, 'outputs.safetensors')).tensors;
  tidy(() => {
    const out = family.forwardNamed(model, inputs);
    assert.deepEqual([...out.keys()].sort(), [...expected.keys()].sort());
    for (const [n, t] of expected) expectClose(out.get(n)!, t, { rel: FORWARD, name: `lxmert ${n}` });
  });
  model.dispose();
});

test('visual_attention_mask: masked regions do not change the language stream', () => {
  const model = loadGolden();
  const inputs = loadSafetensorsFile(join(DIR, 'inputs.safetensors')).tensors;
  tidy(() =>
    noGrad(() => {
      const base = {
        input_ids: inputs.get('input_ids')!,
        attention_mask: inputs.get('attention_mask')!,
        token_type_ids: inputs.get('token_type_ids')!,
      };
      const feats = inputs.get('visual_feats')!;
      const pos = inputs.get('visual_pos')!;
      const mask = tensor([1, 1, 1, 1, 0, 0], { dtype: 'int64' }).view(1, 6).expand(4, 6).contiguous();
      const masked = model.forward({ ...base, visual_feats: feats, visual_pos: pos, visual_attention_mask: mask });
      const cut = model.forward({
        ...base,
        visual_feats: feats.slice(1, 0, 4).contiguous(),
        visual_pos: pos.slice(1, 0, 4).contiguous(),
      });
      const d = maxAbsDiff(masked.language_output, cut.language_output);
      assert.ok(d < 1e-5, `masked regions changed language_output by ${d}`);
      // without the mask the regions count
      const full = model.forward({ ...base, visual_feats: feats, visual_pos: pos });
      assert.ok(maxAbsDiff(full.language_output, cut.language_output) > 1e-3);
      // hidden states: one per language layer and cross layer, one per relational layer and cross layer
      const hs = model.forward({ ...base, visual_feats: feats, visual_pos: pos, output_hidden_states: true });
      assert.equal(hs.language_hidden_states!.length, 3);
      assert.equal(hs.vision_hidden_states!.length, 2);
      assert.equal(maxAbsDiff(hs.language_hidden_states![2]!, full.language_output), 0);
    }),
  );
  model.dispose();
});

test('a checkpoint with a missing, an extra and a mis-shaped tensor fails naming them', () => {
  withCheckpoint(
    (raw) => {
      raw.delete('encoder.x_layers.0.visual_attention.att.key.bias');
      raw.set('encoder.x_layers.1.lang_inter.dense.bias', raw.get('pooler.dense.bias')!);
      raw.set('encoder.visn_fc.box_fc.weight', { dtype: 'float32', shape: [32, 5], data: Buffer.alloc(32 * 5 * 4) });
      return raw;
    },
    (file) => {
      const model = family.build(config);
      const src = openCheckpoint(file);
      assert.throws(
        () => family.load(model, src),
        (e: Error) =>
          /missing from the checkpoint: encoder\.x_layers\.0\.visual_attention\.att\.key\.bias/.test(e.message) &&
          /not used by LxmertModel: encoder\.x_layers\.1\.lang_inter\.dense\.bias/.test(e.message) &&
          /encoder\.visn_fc\.box_fc\.weight \(checkpoint \[32,5\], model \[32,4\]\)/.test(e.message),
      );
      src.close();
      model.dispose();
    },
  );
});

test('an LxmertForPreTraining checkpoint (lxmert. prefix, heads) loads; a new visual projection can be kept', () => {
  withCheckpoint(
    (raw) => {
      const out = new Map<string, RawTensor>([...raw].map(([n, t]) => [`lxmert.${n}`, t]));
      out.set('cls.seq_relationship.bias', { dtype: 'float32', shape: [2], data: Buffer.alloc(8) });
      out.set('answer_head.logit_fc.3.bias', { dtype: 'float32', shape: [3], data: Buffer.alloc(12) });
      return out;
    },
    (file) => {
      const ref = loadGolden();
      const model = family.build({ ...config, architectures: ['LxmertForPreTraining'] });
      const src = openCheckpoint(file);
      family.load(model, src);
      // region features 24 wide: the checkpoint's [32, 16] projection is not used, everything else is
      const wide = family.build({ ...config, visual_feat_dim: 24 });
      assert.throws(
        () => family.load(wide, src),
        /encoder\.visn_fc\.visn_fc\.weight \(checkpoint \[32,16\], model \[32,24\]\)/,
      );
      loadLxmertCheckpoint(wide, src, { newVisualProjection: true });
      src.close();
      tidy(() => {
        const a = model.stateDict();
        const w = wide.stateDict();
        const r = ref.stateDict();
        for (const n of [
          'pooler.dense.weight',
          'encoder.x_layers.0.visual_attention.att.query.weight',
          'encoder.visn_fc.visn_fc.weight',
        ])
          assert.equal(maxAbsDiff(a.get(n)!, r.get(n)!), 0, n);
        assert.equal(maxAbsDiff(w.get('encoder.visn_fc.box_fc.weight')!, r.get('encoder.visn_fc.box_fc.weight')!), 0);
        assert.deepEqual(w.get('encoder.visn_fc.visn_fc.weight')!.shape, [32, 24]);
      });
      for (const m of [ref, model, wide]) m.dispose();
    },
  );
});

test('patchRegions: patch grid to region features with normalised boxes, optionally pooled', () => {
  tidy(() => {
    // a ViT-like output: [CLS] + a 4x6 grid of 8-wide states
    const states = randn([2, 1 + 24, 8]);
    const all = patchRegions(states, [4, 6], { skip: 1 });
    assert.deepEqual(all.visual_feats.shape, [2, 24, 8]);
    assert.equal(maxAbsDiff(all.visual_feats, states.slice(1, 1)), 0);
    assert.deepEqual(all.visual_pos.shape, [2, 24, 4]);
    const box = (t: Tensor, b: number, r: number) =>
      t
        .select(0, b)
        .select(0, r)
        .toArray()
        .map((v) => Math.round(v * 1e6) / 1e6);
    assert.deepEqual(
      box(all.visual_pos, 1, 7),
      [1 / 6, 1 / 4, 2 / 6, 2 / 4].map((v) => Math.round(v * 1e6) / 1e6),
    ); // row 1, col 1
    const pooled = patchRegions(states, [4, 6], { skip: 1, regions: [2, 3] });
    assert.deepEqual(pooled.visual_feats.shape, [2, 6, 8]);
    // region (1, 2) averages patches rows 2-3, cols 4-5
    const grid = states.slice(1, 1).view(2, 4, 6, 8);
    const mean = grid.slice(1, 2, 4).slice(2, 4, 6).mean([1, 2]);
    assert.ok(maxAbsDiff(pooled.visual_feats.select(1, 5), mean) < 1e-6);
    assert.deepEqual(
      box(pooled.visual_pos, 0, 5),
      [4 / 6, 2 / 4, 1, 1].map((v) => Math.round(v * 1e6) / 1e6),
    );
    assert.throws(() => patchRegions(states, [5, 5], { skip: 1 }), /25 tokens, expected 1 \+ 5x5 = 26/);
  });
});

test('region features from patches run through LxmertModel', () => {
  const model = family.build({ ...config, visual_feat_dim: 8 });
  tidy(() =>
    noGrad(() => {
      const { visual_feats, visual_pos } = patchRegions(randn([2, 1 + 16, 8]), [4, 4], { skip: 1, regions: [2, 2] });
      const ids = tensor([
        [2n, 5n, 7n],
        [2n, 9n, 3n],
      ]);
      const out = model.forward({ input_ids: ids, visual_feats, visual_pos });
      assert.deepEqual(out.vision_output.shape, [2, 4, 32]);
      assert.deepEqual(out.pooled_output.shape, [2, 32]);
      assert.throws(
        () => model.forward({ input_ids: ids, visual_feats: randn([2, 4, 9]), visual_pos }),
        /visual_feats must be \[2, regions, 8\] \(visual_feat_dim\), got \[2,4,9\]/,
      );
    }),
  );
  model.dispose();
});

test('unsupported options are named with what is supported', () => {
  assert.throws(
    () => readLxmertConfig({ ...config, hidden_act: 'mish' }),
    /"hidden_act": "mish" is not supported \(supported: gelu/,
  );
  assert.throws(
    () => readLxmertConfig({ ...config, model_type: 'vilt' }),
    /"model_type": "vilt" is not supported \(supported: lxmert\)/,
  );
  assert.throws(
    () => readLxmertConfig({ ...config, architectures: ['LxmertForFoo'] }),
    /"architectures".*LxmertForFoo.*supported: LxmertModel/,
  );
  assert.throws(() => readLxmertConfig({ ...config, l_layers: 1.5 }), /field "l_layers" must be an integer/);
});

test('random init follows Hugging Face: N(0, initializer_range), padding rows zero, LayerNorm ones', () => {
  const model = family.build({ ...config, initializer_range: 0.5 });
  tidy(() => {
    const sd = model.stateDict();
    const w = sd.get('embeddings.word_embeddings.weight')!;
    assert.ok(Math.abs(w.slice(0, 1).std().item() - 0.5) < 0.03);
    assert.equal(w.select(0, 0).abs().max().item(), 0);
    assert.equal(sd.get('embeddings.position_embeddings.weight')!.select(0, 0).abs().max().item(), 0);
    assert.equal(sd.get('encoder.layer.0.attention.self.query.bias')!.abs().max().item(), 0);
    assert.equal(sd.get('encoder.visn_fc.box_layer_norm.weight')!.sub(1).abs().max().item(), 0);
  });
  model.dispose();
});
