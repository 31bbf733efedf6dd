import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cat, F, manualSeed, noGrad, randn, tensor, tidy, type Tensor } from '../../src/tensor/index.js';
import { AttentionFusion, buildFusion, ConcatFusion, GmuFusion } from '../../src/multimodal/fusion.js';

const close = (a: Tensor, b: Tensor, tol = 1e-6): void => {
  assert.deepEqual(a.shape, b.shape);
  const d = tidy(() => a.sub(b).abs().max().item());
  assert.ok(d <= tol, `max abs diff ${d}`);
};

test('concat: [t; v]', () => {
  tidy(() => {
    const f = buildFusion('concat', 2, 3);
    assert.ok(f instanceof ConcatFusion);
    assert.equal(f.outDim, 5);
    const out = f.forward(tensor([[1, 2]]), tensor([[3, 4, 5]]));
    assert.deepEqual(out.toArray(), [1, 2, 3, 4, 5]);
    assert.equal(f.parameters().length, 0);
  });
});

test('gmu: h = z·tanh(W_t t) + (1 − z)·tanh(W_v v), z = σ(W_z [t; v]) (Arevalo et al. 2017)', () => {
  manualSeed(1);
  tidy(() => {
    const f = buildFusion('gmu', 4, 6, 5) as GmuFusion;
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
    close(f.forward(t, v), z.mul(ht).add(z.rsub(1).mul(hv)));
    // a saturated gate passes one modality through
    noGrad(() => f.gate.weight.fill_(0));
    const open = tensor([[100, 100, 100, 100]]);
    close(
      f.forward(open, tensor([[1, 1, 1, 1, 1, 1]])),
      F.tanh(open.matmul(f.text_hidden.weight.T))
        .mul(0.5)
        .add(F.tanh(tensor([[1, 1, 1, 1, 1, 1]]).matmul(f.image_hidden.weight.T)).mul(0.5)),
    );
  });
});

test('attention: softmax-weighted sum of the projected modality vectors', () => {
  manualSeed(2);
  tidy(() => {
    const f = buildFusion('attention', 4, 6) as AttentionFusion;
    assert.equal(f.outDim, 4, 'default width: the text width');
    const t = randn([3, 4]);
    const v = randn([3, 6]);
    const ht = f.text_proj.forward(t);
    const hv = f.image_proj.forward(v);
    const st = F.tanh(ht).matmul(f.score.weight.T);
    const sv = F.tanh(hv).matmul(f.score.weight.T);
    const a = F.softmax(cat([st, sv], 1), 1);
    const out = f.forward(t, v);
    close(out, ht.mul(a.narrow(1, 0, 1)).add(hv.mul(a.narrow(1, 1, 1))));
    // the weights are a convex combination: with equal projections the output is that projection
    noGrad(() => f.image_proj.weight.zero_());
    noGrad(() => f.image_proj.bias!.zero_());
    noGrad(() => f.text_proj.weight.zero_());
    noGrad(() => f.text_proj.bias!.fill_(0.3));
    noGrad(() => f.image_proj.bias!.fill_(0.3));
    close(
      f.forward(t, v),
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
    () => buildFusion('max' as never, 2, 2),
    /fusion: "max" is not supported \(supported: concat, attention, gmu\)/,
  );
});
