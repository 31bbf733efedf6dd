import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cat, F, manualSeed, noGrad, randn, tensor, tidy, type Tensor } from '../../src/tensor/index.js';
import {
  ArevaloGmuFusion,
  AspectAttentionFusion,
  buildFusion,
  ConcatFusion,
  CrossAttentionFusion,
  ModalityAttentionFusion,
  oneVector,
  PlainConcatFusion,
  type ModalityStates,
  type SideWidths,
} from '../../src/multimodal/fusion.js';

const w = (d: number): SideWidths => ({ first: d, pooled: d });
const one = (x: Tensor): ModalityStates => oneVector(x);

const close = (a: Tensor, b: Tensor, tol = 1e-6): void => {
  assert.deepEqual(a.shape, b.shape);
  const d = tidy(() => a.sub(b).abs().max().item());
  assert.ok(d <= tol, `max abs diff ${d}`);
};

test('concat-plain: [t; v], no parameters', () => {
  tidy(() => {
    const f = buildFusion('concat-plain', w(2), w(3));
    assert.ok(f instanceof PlainConcatFusion);
    assert.equal(f.outDim, 5);
    const out = f.forward(one(tensor([[1, 2]])), one(tensor([[3, 4, 5]])));
    assert.deepEqual(out.toArray(), [1, 2, 3, 4, 5]);
    assert.equal(f.parameters().length, 0);
  });
});

test("concat (the paper's): ReLU(W [t; v]) over the first-token states by default, the pooled outputs on request", () => {
  manualSeed(3);
  tidy(() => {
    const f = buildFusion('concat', { first: 2, pooled: 5 }, { first: 3, pooled: 7 }, { fusionDim: 4 });
    assert.ok(f instanceof ConcatFusion);
    assert.equal(f.representation, 'first-token');
    assert.equal(f.outDim, 4);
    assert.deepEqual(f.fusion_layer.weight.shape, [4, 5]);
    const t = { first: randn([3, 2]), pooled: randn([3, 5]) };
    const v = { first: randn([3, 3]), pooled: randn([3, 7]) };
    close(f.forward(t, v), f.fusion_layer.forward(cat([t.first, v.first], 1)).relu());
    const p = buildFusion('concat', { first: 2, pooled: 5 }, { first: 3, pooled: 7 }, { representation: 'pooled' });
    assert.equal(p.outDim, 5, 'default width: the text width');
    close(p.forward(t, v), (p as ConcatFusion).fusion_layer.forward(cat([t.pooled, v.pooled], 1)).relu());
  });
});

test("attention (the paper's): needs image tokens; aspect-att needs equal widths and reads the pooled outputs", () => {
  tidy(() => {
    const f = buildFusion('attention', w(4), w(6)) as CrossAttentionFusion;
    assert.equal(f.needsImageTokens, true);
    assert.throws(
      () => f.forward(one(randn([2, 4])), one(randn([2, 6]))),
      /attention fusion: the image side has no token states/,
    );
    assert.throws(
      () => buildFusion('aspect-att', w(4), w(6)),
      /aspect-att fusion: .* must be equally wide .* got 4 and 6/,
    );
    const a = buildFusion('aspect-att', w(4), w(4)) as AspectAttentionFusion;
    assert.equal(a.representation, 'pooled');
    assert.equal(a.outDim, 4);
  });
});

test('gmu-arevalo: h = z·tanh(W_t t) + (1 − z)·tanh(W_v v), z = σ(W_z [t; v]) (Arevalo et al. 2017)', () => {
  manualSeed(1);
  tidy(() => {
    const f = buildFusion('gmu-arevalo', w(4), w(6), { fusionDim: 5 }) as ArevaloGmuFusion;
    assert.equal(f.outDim, 5);
    assert.deepEqual(
      f
        .namedParameters()
        .map(([n, p]) => `${n}[${p.shape}]`)
        .sort(),
      ['gate.weight[5,10]', 'image_hidden.weight[5,6]', 'text_hidden.weight[5,4]'],
    );
    const t = randn([3, 4]);
    const v = randn([3, 6]);
    const ht = F.tanh(t.matmul(f.text_hidden.weight.T));
    const hv = F.tanh(v.matmul(f.image_hidden.weight.T));
    const z = F.sigmoid(cat([t, v], 1).matmul(f.gate.weight.T));
    close(f.forward(one(t), one(v)), z.mul(ht).add(z.rsub(1).mul(hv)));
    // a saturated gate passes one modality through
    noGrad(() => f.gate.weight.fill_(0));
    const open = tensor([[100, 100, 100, 100]]);
    close(
      f.forward(one(open), one(tensor([[1, 1, 1, 1, 1, 1]]))),
      F.tanh(open.matmul(f.text_hidden.weight.T))
        .mul(0.5)
        .add(F.tanh(tensor([[1, 1, 1, 1, 1, 1]]).matmul(f.image_hidden.weight.T)).mul(0.5)),
    );
  });
});

test('modality-attention: softmax-weighted sum of the projected modality vectors', () => {
  manualSeed(2);
  tidy(() => {
    const f = buildFusion('modality-attention', w(4), w(6)) as ModalityAttentionFusion;
    assert.equal(f.outDim, 4, 'default width: the text width');
    const t = randn([3, 4]);
    const v = randn([3, 6]);
    const ht = f.text_proj.forward(t);
    const hv = f.image_proj.forward(v);
    const st = F.tanh(ht).matmul(f.score.weight.T);
    const sv = F.tanh(hv).matmul(f.score.weight.T);
    const a = F.softmax(cat([st, sv], 1), 1);
    const out = f.forward(one(t), one(v));
    close(out, ht.mul(a.narrow(1, 0, 1)).add(hv.mul(a.narrow(1, 1, 1))));
    // the weights are a convex combination: with equal projections the output is that projection
    noGrad(() => f.image_proj.weight.zero_());
    noGrad(() => f.image_proj.bias!.zero_());
    noGrad(() => f.text_proj.weight.zero_());
    noGrad(() => f.text_proj.bias!.fill_(0.3));
    noGrad(() => f.image_proj.bias!.fill_(0.3));
    close(
      f.forward(one(t), one(v)),
      tensor([
        [0.3, 0.3, 0.3, 0.3],
        [0.3, 0.3, 0.3, 0.3],
        [0.3, 0.3, 0.3, 0.3],
      ]),
    );
  });
});

test('unknown fusion is refused with the supported list', () => {
  assert.throws(
    () => buildFusion('max' as never, w(2), w(2)),
    /fusion: "max" is not supported \(supported: concat, attention, aspect-att, gmu, concat-plain, modality-attention, gmu-arevalo\)/,
  );
});
