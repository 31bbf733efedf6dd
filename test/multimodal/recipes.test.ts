import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tidy, type Tensor } from '../../src/tensor/index.js';
import { buildClassifier } from '../../src/multimodal/builder.js';
import { LOGIT_SCALE_INIT } from '../../src/multimodal/base.js';
import { DualEncoderClassifier } from '../../src/multimodal/dual-encoder.js';
import { pickRows } from '../../src/multimodal/encoders.js';
import { goldenBatch } from './batch.js';
import { CASES, LABELS } from './cases.js';

const maxDiff = (a: Tensor, b: Tensor): number => tidy(() => a.sub(b).abs().max().item());
const rowDiff = (a: Tensor, b: Tensor, i: number): number =>
  tidy(() => a.select(0, i).sub(b.select(0, i)).abs().max().item());

for (const c of CASES) {
  test(`${c.name}: encode shapes, heads, logit scale`, () => {
    const m = buildClassifier(c.spec, { init: 'pretrained' }).eval();
    const b = goldenBatch(c.text, c.image);
    tidy(() => {
      const e = m.encode(b);
      assert.deepEqual(e.textEmbeds.shape, [4, c.itc]);
      assert.deepEqual(e.imageEmbeds.shape, [4, c.itc]);
      assert.deepEqual(e.pair.shape, [4, c.pair]);
      assert.deepEqual(m.classify(e.pair).shape, [4, 3]);
      assert.deepEqual(m.matchLogits(e.pair).shape, [4, 2]);
      for (const t of [e.textEmbeds, e.imageEmbeds, e.pair]) assert.ok(t.isfinite().all().item(), 'finite values');
      assert.equal(m.numLabels, 3);
      assert.equal(m.recipe, c.spec.recipe);
      if (m instanceof DualEncoderClassifier)
        assert.equal(m.logitScale, m.model.logit_scale, 'the dual encoder keeps its own temperature');
      else assert.ok(Math.abs(m.logitScale.item() - LOGIT_SCALE_INIT) < 1e-6);
    });
    m.dispose();
  });

  test(`${c.name}: encodeMismatched equals pair for the identity and differs for swapped texts`, () => {
    const m = buildClassifier(c.spec, { init: 'pretrained' }).eval();
    const b = goldenBatch(c.text, c.image);
    tidy(() => {
      const e = m.encode(b);
      assert.ok(maxDiff(m.encodeMismatched(b, e, [0, 1, 2, 3]), e.pair) <= 1e-6);
      const swapped = m.encodeMismatched(b, e, [1, 0, 2, 3]);
      assert.ok(rowDiff(swapped, e.pair, 0) > 1e-6, 'row 0 (text 1 with image 0) changed');
      assert.ok(rowDiff(swapped, e.pair, 1) > 1e-6, 'row 1 changed');
      assert.ok(rowDiff(swapped, e.pair, 2) <= 1e-6, 'row 2 (own text) unchanged');
      // the mismatched pairs are what a batch with the texts swapped encodes
      const t = b.text;
      const other = {
        ...b,
        text: {
          input_ids: pickRows(t.input_ids, [1, 0, 2, 3]),
          attention_mask: pickRows(t.attention_mask, [1, 0, 2, 3]),
          ...(t.token_type_ids ? { token_type_ids: pickRows(t.token_type_ids, [1, 0, 2, 3]) } : {}),
        },
      };
      assert.ok(maxDiff(m.encode(other).pair, swapped) <= 1e-5);
      assert.throws(() => m.encodeMismatched(b, e, [0, 1]), /textIndex has 2 entries for a batch of 4/);
    });
    m.dispose();
  });
}

test('random init builds from config.json only and differs from the pretrained weights', () => {
  const spec = CASES[0]!.spec;
  const p = buildClassifier(spec, { init: 'pretrained' });
  const r = buildClassifier(spec, { init: 'random' });
  const name = 'text_encoder.encoder.layer.0.attention.self.query.weight';
  const pw = p.stateDict().get(name)!;
  const rw = r.stateDict().get(name)!;
  assert.deepEqual(pw.shape, rw.shape);
  assert.ok(maxDiff(pw, rw) > 1e-3);
  // HF init: N(0, 0.02) weights, zero biases
  const std = tidy(() => rw.std().item());
  assert.ok(std > 0.015 && std < 0.025, `std ${std}`);
  assert.equal(
    tidy(() => r.stateDict().get('text_encoder.encoder.layer.0.attention.self.query.bias')!.abs().max().item()),
    0,
  );
  assert.deepEqual([...p.stateDict().keys()], [...r.stateDict().keys()]);
  p.dispose();
  r.dispose();
});

test('spec errors name the field', () => {
  assert.throws(
    () =>
      buildClassifier(
        { recipe: 'late-fusion', textModel: CASES[0]!.spec.textModel!, numLabels: 2, labelNames: ['a', 'b'] },
        { init: 'random' },
      ),
    /"imageModel" \(a model folder\) is required/,
  );
  assert.throws(
    () => buildClassifier({ ...CASES[0]!.spec, fusion: 'sum' }, { init: 'random' }),
    /"fusion": "sum" is not supported \(supported: concat, attention, aspect-att, gmu, concat-plain, modality-attention, gmu-arevalo\)/,
  );
  assert.throws(
    () => buildClassifier({ ...CASES[0]!.spec, representation: 'mean' }, { init: 'random' }),
    /recipe "late-fusion": "representation": "mean" is not supported \(supported: first-token, pooled\)/,
  );
  assert.throws(
    () => buildClassifier({ ...CASES[2]!.spec, representation: undefined }, { init: 'random' }),
    /late-fusion: the image encoder \(siglip\) has no \[CLS\] token.*set "representation": "pooled"/,
  );
  assert.throws(
    () => buildClassifier({ ...CASES[7]!.spec, fusion: 'attention' }, { init: 'random' }),
    /clip: "fusion": "attention" is not supported .*reads image token states/,
  );
  assert.throws(
    () => buildClassifier({ ...CASES[3]!.spec, representation: 'pooled' }, { init: 'random' }),
    /recipe "mmbt": option "representation" does not apply \(it is for: image-only, late-fusion, lxmert, text-only, vilt\)/,
  );
  assert.throws(
    () =>
      buildClassifier({ ...CASES[6]!.spec, itcRepresentation: 'unimodal', itcDetachText: false }, { init: 'random' }),
    /lxmert: "itcDetachText" applies to itcRepresentation "max-pool" only/,
  );
  assert.throws(
    () => buildClassifier({ ...CASES[0]!.spec, numLabels: 2 }, { init: 'random' }),
    /"labelNames" must list 2 names/,
  );
  assert.throws(
    () =>
      buildClassifier(
        {
          recipe: 'late-fusion',
          textModel: CASES[0]!.spec.imageModel!,
          imageModel: CASES[0]!.spec.imageModel!,
          numLabels: 1,
          labelNames: ['x'],
        },
        { init: 'random' },
      ),
    /text_config: "model_type": "vit" is not supported here/,
  );
  assert.throws(
    () => buildClassifier({ ...CASES[5]!.spec, fusion: 'gmu' }, { init: 'random' }),
    /recipe "vilt": option "fusion" does not apply \(it is for: clip, late-fusion, siglip\)/,
  );
  assert.throws(
    () => buildClassifier({ ...CASES[0]!.spec, imageTokens: 4 }, { init: 'random' }),
    /option "imageTokens" does not apply/,
  );
  assert.throws(
    () =>
      buildClassifier(
        { recipe: 'clip', model: CASES[7]!.spec.model!, imageModel: CASES[0]!.spec.imageModel!, ...LABELS },
        { init: 'random' },
      ),
    /give model \(one checkpoint\), not imageModel/,
  );
  assert.throws(
    () => buildClassifier({ recipe: 'vit', numLabels: 1, labelNames: ['x'] }, { init: 'random' }),
    /recipe: "vit" is not supported/,
  );
});
