// Module: names as PyTorch state dicts, strict loading that lists every problem, freezing, train/eval,
// device moves keeping references, and PyTorch's default initialisation ranges.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Conv2d,
  Dropout,
  Embedding,
  LayerNorm,
  Linear,
  MLP,
  Module,
  ModuleList,
  MultiheadAttention,
  StateDictError,
} from '../../src/nn/index.js';
import { tensor, zeros, ones, randn, manualSeed, tidy, F } from '../../src/tensor/index.js';

class Block extends Module {
  fc = this.child('fc', new Linear(4, 3));
  norm = this.child('norm', new LayerNorm(3));
  constructor() {
    super();
    this.buffer('position_ids', tensor([[0n, 1n, 2n]]));
    this.buffer('scratch', zeros([1]), false);
  }
}
class Net extends Module {
  layers = this.child('layer', new ModuleList([new Block(), new Block()]));
  drop = this.child('drop', new Dropout(0.1));
}

test('names follow PyTorch state dicts (nested, numbered, persistent buffers only)', () => {
  const n = new Net();
  assert.deepEqual(
    [...n.stateDict().keys()],
    [
      'layer.0.fc.weight',
      'layer.0.fc.bias',
      'layer.0.norm.weight',
      'layer.0.norm.bias',
      'layer.1.fc.weight',
      'layer.1.fc.bias',
      'layer.1.norm.weight',
      'layer.1.norm.bias',
      'layer.0.position_ids',
      'layer.1.position_ids',
    ],
  );
  assert.equal(n.numParameters(), 2 * (12 + 3 + 3 + 3));
});

test('strict loading lists missing, unexpected and mis-shaped names and copies nothing', () => {
  const a = new Net();
  const sd = new Map(a.stateDict());
  sd.delete('layer.1.fc.bias');
  sd.set('layer.9.extra', zeros([1]));
  sd.set('layer.0.fc.weight', zeros([3, 5]));
  const b = new Net();
  const before = b.layers.at(0).norm.bias!.toArray();
  sd.set('layer.0.norm.bias', ones([3]));
  try {
    b.loadStateDict(sd, { source: 'weights.safetensors' });
    assert.fail('expected an error');
  } catch (e) {
    assert.ok(e instanceof StateDictError);
    assert.match(e.message, /from weights\.safetensors/);
    assert.deepEqual(e.missing, ['layer.1.fc.bias']);
    assert.deepEqual(e.unexpected, ['layer.9.extra']);
    assert.deepEqual(e.mismatched, [{ name: 'layer.0.fc.weight', expected: [3, 4], got: [3, 5] }]);
  }
  assert.deepEqual(b.layers.at(0).norm.bias!.toArray(), before);
  const c = new Net();
  const ok = new Map(a.stateDict());
  ok.delete('layer.1.fc.bias');
  const res = c.loadStateDict(ok, { strict: false });
  assert.deepEqual(res.missing, ['layer.1.fc.bias']);
  assert.deepEqual(c.layers.at(0).fc.weight.toArray(), a.layers.at(0).fc.weight.toArray());
});

test('freeze, train/eval, to(dtype) keeps references valid', () => {
  const n = new Net();
  n.layers.at(0).freeze();
  assert.equal(n.trainableParameters().length, 4);
  n.eval();
  assert.equal(n.drop.training, false);
  n.train();
  assert.equal(n.layers.at(1).norm.training, true);
  const w = n.layers.at(1).fc.weight;
  n.to('float64');
  assert.equal(w.dtype, 'float64');
  assert.equal(w.requiresGrad, true);
  assert.equal(n.layers.at(0).fc.weight.requiresGrad, false);
  assert.equal(n.stateDict().get('layer.0.position_ids')!.dtype, 'int64');
  assert.deepEqual(n.layers.at(1).fc.forward(randn([2, 4], { dtype: 'float64' })).shape, [2, 3]);
});

test('default initialisation matches PyTorch ranges', () => {
  manualSeed(0);
  const l = new Linear(100, 50);
  const bound = 1 / Math.sqrt(100);
  assert.ok(l.weight.abs().max().item() <= bound && l.weight.abs().max().item() > 0.9 * bound);
  assert.ok(l.bias!.abs().max().item() <= bound);
  const c = new Conv2d(3, 8, 4);
  assert.ok(c.weight.abs().max().item() <= 1 / Math.sqrt(48));
  const e = new Embedding(1000, 16, { paddingIdx: 0 });
  assert.ok(Math.abs(e.weight.std().item() - 1) < 0.05);
  assert.deepEqual(e.weight.select(0, 0).toArray(), new Array(16).fill(0));
  const ln = new LayerNorm(4);
  assert.deepEqual(ln.weight!.toArray(), [1, 1, 1, 1]);
});

test('MultiheadAttention equals a hand-written multi-head attention; MLP equals its two layers', () => {
  manualSeed(3);
  tidy(() => {
    const mha = new MultiheadAttention(8, 2);
    const x = randn([2, 5, 8]);
    const pad = tensor([
      [false, false, false, true, true],
      [false, false, false, false, false],
    ]);
    const out = mha.forward(x, x, x, { keyPaddingMask: pad });
    const [wq, wk, wv] = mha.inProjWeight.chunk(3);
    const [bq, bk, bv] = mha.inProjBias.chunk(3);
    const heads = (w: typeof x, b: typeof x) => F.linear(x, w, b).view(2, 5, 2, 4).transpose(1, 2);
    const scores = heads(wq!, bq!).matmul(heads(wk!, bk!).transpose(-1, -2)).div(2);
    const masked = scores.maskedFill(pad.view(2, 1, 1, 5), -Infinity);
    const o = masked.softmax(-1).matmul(heads(wv!, bv!)).transpose(1, 2).reshape(2, 5, 8);
    const ref = mha.outProj.forward(o);
    assert.ok(out.sub(ref).abs().max().item() < 1e-5);
    const mlp = new MLP(8, 16, 4, 'gelu');
    const y = mlp.forward(x);
    const yr = mlp.fc2.forward(F.gelu(mlp.fc1.forward(x)));
    assert.ok(y.sub(yr).abs().max().item() < 1e-6);
  });
});
