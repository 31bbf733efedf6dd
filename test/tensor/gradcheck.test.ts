// Every differentiable engine op and the attention block against central finite differences in float64.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { F, cat, stack, einsum, tensor, manualSeed, type Tensor } from '../../src/tensor/index.js';
import { gradcheck, values } from './gradcheck.js';

type Inp = { data: number[]; shape: number[]; grad?: boolean; dtype?: 'float64' | 'int64' | 'bool' };
const r = (shape: number[], seed: number, lo = -1, hi = 1): Inp => ({
  data: values(
    shape.reduce((a, b) => a * b, 1),
    seed,
    lo,
    hi,
  ),
  shape,
});
const ints = (data: number[], shape: number[]): Inp => ({ data, shape, dtype: 'int64' });
const mask = (data: number[], shape: number[]): Inp => ({ data, shape, dtype: 'bool' });

// Values kept away from kinks (abs, relu, clamp, max) so that the finite difference is well defined.
const awayFromZero = (shape: number[], seed: number): Inp => {
  const d = values(
    shape.reduce((a, b) => a * b, 1),
    seed,
    0.2,
    1,
  ).map((v, i) => (i % 2 ? -v : v));
  return { data: d, shape };
};

const cases: [string, (...x: Tensor[]) => Tensor, Inp[]][] = [
  ['add', (a, b) => a.add(b), [r([2, 3], 1), r([3], 2)]],
  ['add alpha', (a, b) => a.add(b, 0.5), [r([2, 3], 1), r([2, 3], 2)]],
  ['add scalar', (a) => a.add(2), [r([4], 1)]],
  ['sub', (a, b) => a.sub(b), [r([2, 3], 3), r([2, 1], 4)]],
  ['rsub', (a) => a.rsub(3), [r([4], 3)]],
  ['mul', (a, b) => a.mul(b), [r([2, 3], 5), r([2, 3], 6)]],
  ['div', (a, b) => a.div(b), [r([2, 3], 7), r([2, 3], 8, 0.5, 2)]],
  ['rdiv', (a) => a.rdiv(2), [r([4], 8, 0.5, 2)]],
  ['pow tensor', (a, b) => a.pow(b), [r([5], 9, 0.5, 2), r([5], 10)]],
  ['pow scalar', (a) => a.pow(3), [r([5], 11)]],
  ['neg', (a) => a.neg(), [r([3], 12)]],
  ['abs', (a) => a.abs(), [awayFromZero([6], 13)]],
  ['exp', (a) => a.exp(), [r([4], 14)]],
  ['log', (a) => a.log(), [r([4], 15, 0.3, 3)]],
  ['log1p', (a) => a.log1p(), [r([4], 15, 0, 3)]],
  ['sqrt', (a) => a.sqrt(), [r([4], 16, 0.3, 3)]],
  ['rsqrt', (a) => a.rsqrt(), [r([4], 16, 0.3, 3)]],
  ['sin', (a) => a.sin(), [r([4], 17)]],
  ['cos', (a) => a.cos(), [r([4], 17)]],
  ['reciprocal', (a) => a.reciprocal(), [r([4], 18, 0.5, 2)]],
  ['tanh', (a) => F.tanh(a), [r([4], 19)]],
  ['sigmoid', (a) => F.sigmoid(a), [r([4], 20)]],
  ['relu', (a) => F.relu(a), [awayFromZero([6], 21)]],
  ['erf', (a) => F.erf(a), [r([4], 22)]],
  ['silu', (a) => F.silu(a), [r([4], 22)]],
  ['logsigmoid', (a) => F.logSigmoid(a), [r([4], 22)]],
  ['gelu (erf)', (a) => F.gelu(a), [r([6], 23, -3, 3)]],
  ['gelu (tanh)', (a) => F.gelu(a, 'tanh'), [r([6], 24, -3, 3)]],
  ['quick_gelu', (a) => F.quickGelu(a), [r([6], 25, -3, 3)]],
  ['maximum', (a, b) => a.maximum(b), [r([6], 26), r([6], 27)]],
  ['minimum', (a, b) => a.minimum(b), [r([6], 28), r([6], 29)]],
  ['clamp', (a) => a.clamp(-0.5, 0.5), [{ data: [-0.9, -0.2, 0.1, 0.7, 0.3, -0.7], shape: [6] }]],
  ['where', (c, a, b) => a.where(c, b), [mask([1, 0, 1, 0], [4]), r([4], 30), r([4], 31)]],
  ['masked_fill', (a, m) => a.maskedFill(m, 0), [r([4], 32), mask([0, 1, 1, 0], [4])]],
  ['sum all', (a) => a.sum(), [r([2, 3], 33)]],
  ['sum dims keepdim', (a) => a.sum([0, 2], true), [r([2, 3, 2], 34)]],
  ['mean', (a) => a.mean(1), [r([2, 3], 35)]],
  ['max all', (a) => a.max(), [r([2, 3], 36)]],
  ['max dim', (a) => a.maxDim(1).values, [r([2, 3], 37)]],
  ['min dim', (a) => a.minDim(0, true).values, [r([2, 3], 38)]],
  ['logsumexp', (a) => a.logsumexp(-1), [r([2, 3], 39)]],
  ['var unbiased', (a) => a.var(1), [r([2, 4], 40)]],
  ['std biased', (a) => a.std(1, { correction: 0 }), [r([2, 4], 41)]],
  ['norm', (a) => a.norm(2, 1), [r([2, 3], 42)]],
  ['cumsum', (a) => a.cumsum(1), [r([2, 3], 43)]],
  ['topk values', (a) => a.topk(2, 1).values, [r([2, 4], 44)]],
  ['sort values', (a) => a.sort(1, true).values, [r([2, 4], 45)]],
  ['matmul batched', (a, b) => a.matmul(b), [r([2, 2, 3], 46), r([3, 2], 47)]],
  ['mm', (a, b) => a.mm(b), [r([2, 3], 48), r([3, 2], 49)]],
  ['bmm', (a, b) => a.bmm(b), [r([2, 2, 3], 50), r([2, 3, 2], 51)]],
  ['linear', (x, w, b) => F.linear(x, w, b), [r([2, 3], 52), r([4, 3], 53), r([4], 54)]],
  ['einsum', (a, b) => einsum('bij,bjk->bik', a, b), [r([2, 2, 3], 55), r([2, 3, 2], 56)]],
  ['softmax', (a) => a.softmax(-1), [r([2, 4], 57, -2, 2)]],
  ['log_softmax', (a) => F.logSoftmax(a, 0), [r([3, 2], 58, -2, 2)]],
  ['layer_norm', (x, w, b) => F.layerNorm(x, [4], w, b, 1e-5), [r([2, 4], 59), r([4], 60), r([4], 61)]],
  [
    'dropout (seeded mask)',
    (a) => {
      manualSeed(7);
      return F.dropout(a, 0.3, true);
    },
    [r([8], 62)],
  ],
  ['embedding', (w, ids) => F.embedding(w, ids), [r([5, 3], 63), ints([0, 2, 2, 4], [4])]],
  [
    'conv2d',
    (x, w, b) => F.conv2d(x, w, b, { stride: 1, padding: 1 }),
    [r([1, 2, 4, 4], 64), r([3, 2, 3, 3], 65), r([3], 66)],
  ],
  ['conv2d stride', (x, w) => F.conv2d(x, w, null, { stride: 2 }), [r([1, 1, 4, 4], 67), r([2, 1, 2, 2], 68)]],
  ['avg_pool2d', (x) => F.avgPool2d(x, [2, 2]), [r([1, 1, 4, 4], 69)]],
  ['interpolate bilinear', (x) => F.interpolate(x, { size: [5, 3], mode: 'bilinear' }), [r([1, 1, 3, 4], 70)]],
  [
    'interpolate bilinear align',
    (x) => F.interpolate(x, { size: [5, 3], mode: 'bilinear', alignCorners: true }),
    [r([1, 1, 3, 4], 71)],
  ],
  ['interpolate bicubic', (x) => F.interpolate(x, { size: [5, 6], mode: 'bicubic' }), [r([1, 1, 3, 4], 72)]],
  [
    'interpolate bicubic align',
    (x) => F.interpolate(x, { scaleFactor: [2, 1.5], mode: 'bicubic', alignCorners: true }),
    [r([1, 1, 3, 4], 73)],
  ],
  ['interpolate nearest', (x) => F.interpolate(x, { size: [6, 8], mode: 'nearest' }), [r([1, 1, 3, 4], 74)]],
  ['normalize', (x) => F.normalize(x, { dim: -1 }), [r([2, 3], 75)]],
  ['cross_entropy', (x, y) => F.crossEntropy(x, y), [r([3, 4], 76), ints([0, 3, 1], [3])]],
  [
    'cross_entropy weights',
    (x, y, w) => F.crossEntropy(x, y, { weight: w }),
    [r([3, 4], 77), ints([0, 3, 1], [3]), { ...r([4], 78, 0.5, 2), grad: false }],
  ],
  [
    'cross_entropy ignore_index',
    (x, y) => F.crossEntropy(x, y, { ignoreIndex: 1 }),
    [r([3, 4], 79), ints([0, 1, 2], [3])],
  ],
  [
    'cross_entropy label smoothing',
    (x, y) => F.crossEntropy(x, y, { labelSmoothing: 0.1 }),
    [r([3, 4], 80), ints([0, 3, 1], [3])],
  ],
  [
    'cross_entropy probabilities',
    (x, p) => F.crossEntropy(x, p),
    [r([2, 3], 81), { data: [0.2, 0.3, 0.5, 1, 0, 0], shape: [2, 3], grad: false }],
  ],
  ['nll_loss', (x, y) => F.nllLoss(x, y), [r([3, 4], 82), ints([2, 0, 1], [3])]],
  [
    'bce_with_logits',
    (x, y) => F.binaryCrossEntropyWithLogits(x, y),
    [r([4], 83), { data: [0, 1, 1, 0], shape: [4], grad: false }],
  ],
  [
    'bce_with_logits pos_weight',
    (x, y, p) => F.binaryCrossEntropyWithLogits(x, y, { posWeight: p }),
    [r([2, 2], 84), { data: [0, 1, 1, 0], shape: [2, 2], grad: false }, { data: [2, 0.5], shape: [2], grad: false }],
  ],
  ['mse_loss', (x, y) => F.mseLoss(x, y), [r([4], 85), r([4], 86)]],
  [
    'mlp gelu',
    (x, w1, b1, w2, b2) => F.mlp(x, w1, b1, w2, b2, 'gelu'),
    [r([2, 3], 87), r([4, 3], 88), r([4], 89), r([2, 4], 90), r([2], 91)],
  ],
  [
    'mlp quick_gelu',
    (x, w1, b1, w2, b2) => F.mlp(x, w1, b1, w2, b2, 'quick_gelu'),
    [r([2, 3], 92), r([4, 3], 93), r([4], 94), r([2, 4], 95), r([2], 96)],
  ],
  ['attention', (q, k, v) => F.attention(q, k, v), [r([1, 2, 3, 4], 97), r([1, 2, 5, 4], 98), r([1, 2, 5, 4], 99)]],
  [
    'attention additive mask',
    (q, k, v, m) => F.attention(q, k, v, { mask: m }),
    [
      r([2, 1, 3, 4], 100),
      r([2, 1, 3, 4], 101),
      r([2, 1, 3, 4], 102),
      { data: [0, 0, -1e9, 0, -1e9, 0], shape: [2, 1, 1, 3], grad: false },
    ],
  ],
  [
    'attention bool mask + scale',
    (q, k, v, m) => F.attention(q, k, v, { mask: m, scale: 0.3 }),
    [r([2, 1, 3, 4], 103), r([2, 1, 3, 4], 104), r([2, 1, 3, 4], 105), mask([1, 1, 0, 1, 0, 1], [2, 1, 1, 3])],
  ],
  [
    'attention causal',
    (q, k, v) => F.attention(q, k, v, { causal: true }),
    [r([1, 1, 4, 2], 106), r([1, 1, 4, 2], 107), r([1, 1, 4, 2], 108)],
  ],
  [
    'attention dropout (seeded)',
    (q, k, v) => {
      manualSeed(3);
      return F.attention(q, k, v, { dropout: 0.25, training: true });
    },
    [r([1, 1, 3, 2], 109), r([1, 1, 3, 2], 110), r([1, 1, 3, 2], 111)],
  ],
  ['reshape/permute/transpose', (a) => a.reshape(3, 2, 2).permute(2, 0, 1).transpose(0, 2), [r([2, 6], 112)]],
  ['expand', (a) => a.expand(3, 2, 4), [r([2, 1], 113)]],
  ['repeat', (a) => a.repeat(2, 3), [r([2, 1], 114)]],
  ['squeeze/unsqueeze/flatten', (a) => a.unsqueeze(0).squeeze(2).flatten(), [r([2, 1, 3], 115)]],
  ['slice/narrow/select', (a) => a.slice(1, 1, 4, 2).narrow(0, 1, 2).select(1, 0), [r([3, 5], 116)]],
  ['flip', (a) => a.flip([0]), [r([3, 2], 117)]],
  ['tril/triu', (a) => a.tril().add(a.triu(1).mul(2)), [r([3, 3], 118)]],
  ['index_select', (a, i) => a.indexSelect(0, i), [r([4, 2], 119), ints([3, 0, 3], [3])]],
  ['gather', (a, i) => a.gather(1, i), [r([2, 3], 120), ints([2, 0, 1, 1], [2, 2])]],
  ['scatter_add', (a, i, s) => a.scatterAdd(1, i, s), [r([2, 3], 121), ints([2, 0, 2, 1], [2, 2]), r([2, 2], 122)]],
  ['index (advanced)', (a, i) => a.index([null, i]), [r([2, 4], 123), ints([3, 1], [2])]],
  ['index_put accumulate', (a, i, v) => a.indexPut([i], v, true), [r([4], 124), ints([1, 1, 3], [3]), r([3], 125)]],
  ['masked_select', (a, m) => a.maskedSelect(m), [r([4], 126), mask([1, 0, 1, 1], [4])]],
  ['cat', (a, b) => cat([a, b], 1), [r([2, 1], 127), r([2, 3], 128)]],
  ['stack', (a, b) => stack([a, b], 0), [r([3], 129), r([3], 130)]],
  [
    'split/chunk/unbind',
    (a) => {
      const [x, y] = a.split([1, 2], 1);
      const [p, q] = a.chunk(2, 0);
      return x!.sum().add(y!.mul(2).sum()).add(p!.mul(q!).sum()).add(a.unbind(1)[2]!.sum());
    },
    [r([2, 3], 131)],
  ],
];

for (const [name, fn, inputs] of cases) {
  test(`gradcheck ${name}`, () => {
    const res = gradcheck(fn, inputs);
    assert.ok(res.maxAbsErr < 1e-6, `${name}: max abs error ${res.maxAbsErr} (${res.worst})`);
  });
}

test('gradcheck detects a wrong gradient (the checker itself can fail)', () => {
  // sign() has zero gradient almost everywhere, but x * sign(x) mixed with a detached branch is wrong on purpose:
  // f(x) = x.detach() * x has derivative x, whereas the true derivative of x² is 2x.
  const res = gradcheck((a) => a.detach().mul(a), [r([3], 132, 0.5, 1)]);
  assert.ok(res.maxAbsErr > 1e-3, `expected a mismatch, got ${res.maxAbsErr}`);
});

test('embedding padding_idx: the padding row gets no gradient, the others the full one', () => {
  const w1 = tensor(values(15, 63), { dtype: 'float64', shape: [5, 3] }).requiresGrad_();
  const w2 = tensor(values(15, 63), { dtype: 'float64', shape: [5, 3] }).requiresGrad_();
  const ids = tensor([0n, 2n, 2n, 4n]);
  F.embedding(w1, ids, 2).sum().backward();
  F.embedding(w2, ids).sum().backward();
  const g1 = w1.grad!.toArray();
  const g2 = w2.grad!.toArray();
  for (let i = 0; i < 15; i++) assert.equal(g1[i], Math.floor(i / 3) === 2 ? 0 : g2[i]);
  assert.deepEqual(g2.slice(6, 9), [2, 2, 2]);
});
