// Optimisers: SGD against hand-computed updates, state save/load giving the same trajectory as an
// uninterrupted run, schedules, clipping, and the no-decay parameter groups.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tensor, tidy, manualSeed, randn, type Tensor } from '../../src/tensor/index.js';
import { AdamW, SGD, clipGradNorm, lrFactor, LRScheduler, decayGroups } from '../../src/optim/index.js';
import { Linear, LayerNorm, Module } from '../../src/nn/index.js';

const close = (a: number[], b: number[], tol = 1e-6) => a.every((v, i) => Math.abs(v - b[i]!) <= tol);

test('SGD with momentum, dampening, weight decay and Nesterov matches the formulas', () => {
  const p = tensor([1, -2], { dtype: 'float64' }).requiresGrad_();
  const opt = new SGD([p], { lr: 0.1, momentum: 0.9, weightDecay: 0.01, nesterov: true });
  let buf = [0, 0];
  let val = [1, -2];
  for (let s = 0; s < 3; s++) {
    p.grad = tensor([0.5 * (s + 1), -0.25], { dtype: 'float64' });
    const g = [0.5 * (s + 1), -0.25].map((gi, i) => gi + 0.01 * val[i]!);
    buf = s === 0 ? g : buf.map((b, i) => 0.9 * b + g[i]!);
    const d = g.map((gi, i) => gi + 0.9 * buf[i]!);
    val = val.map((v, i) => v - 0.1 * d[i]!);
    opt.step();
    assert.ok(close(p.toArray(), val, 1e-12), `step ${s}: ${p.toArray()} vs ${val}`);
  }
  assert.throws(() => new SGD([p], { nesterov: true }), /Nesterov/);
});

// Several steps against the formula (torch.optim.AdamW, amsgrad off). The first step from zero moments is
// the same for any betas (the bias corrections cancel them), so a golden one-step check cannot tell swapped
// hyper-parameters apart: these three steps can. p2 misses the first gradient and so lags one step behind.
test('AdamW follows the formula over several steps, with per-parameter step counts', () => {
  const [lr, b1, b2, eps, wd] = [0.1, 0.8, 0.95, 1e-3, 0.1];
  const p1 = tensor([0.5, -1.2, 3], { dtype: 'float64' }).requiresGrad_();
  const p2 = tensor([2, -0.3], { dtype: 'float64' }).requiresGrad_();
  const opt = new AdamW([p1, p2], { lr, betas: [b1, b2], eps, weightDecay: wd });
  const ref = [
    { p: [0.5, -1.2, 3], m: [0, 0, 0], v: [0, 0, 0], t: 0 },
    { p: [2, -0.3], m: [0, 0], v: [0, 0], t: 0 },
  ];
  const grads = [
    [[0.3, -0.1, 2], null],
    [
      [-0.5, 0.2, 1],
      [0.05, -4],
    ],
    [
      [0.1, 0.1, -3],
      [1, 0.5],
    ],
  ] as const;
  grads.forEach((gs, s) => {
    [p1, p2].forEach((p, i) => (p.grad = gs[i] ? tensor([...gs[i]!], { dtype: 'float64' }) : null));
    opt.step();
    ref.forEach((r, i) => {
      const g = gs[i];
      if (!g) return;
      r.t++;
      const bc1 = 1 - b1 ** r.t;
      const bc2 = 1 - b2 ** r.t;
      r.p = r.p.map((x, k) => {
        r.m[k] = b1 * r.m[k]! + (1 - b1) * g[k]!;
        r.v[k] = b2 * r.v[k]! + (1 - b2) * g[k]! ** 2;
        const decayed = x * (1 - lr * wd);
        return decayed - (lr / bc1) * (r.m[k]! / (Math.sqrt(r.v[k]!) / Math.sqrt(bc2) + eps));
      });
    });
    for (const [i, p] of [p1, p2].entries())
      assert.ok(close(p.toArray(), ref[i]!.p, 1e-12), `step ${s}, p${i + 1}: ${p.toArray()} vs ${ref[i]!.p}`);
  });
});

function tinyLoss(m: Linear, x: Tensor): Tensor {
  return m.forward(x).pow(2).mean();
}

test('AdamW state saved mid-run and loaded into a fresh optimiser continues the same trajectory', () => {
  manualSeed(1);
  const x = randn([8, 4]);
  const a = new Linear(4, 3);
  const b = new Linear(4, 3);
  b.loadStateDict(a.stateDict());
  const optA = new AdamW(decayGroups(a, { weightDecay: 0.1 }), { lr: 0.01 });
  const optB = new AdamW(decayGroups(b, { weightDecay: 0.1 }), { lr: 0.01 });
  const step = (m: Linear, o: AdamW) =>
    tidy(() => {
      o.zeroGrad();
      tinyLoss(m, x).backward();
      o.step();
    });
  for (let i = 0; i < 3; i++) step(a, optA);
  for (let i = 0; i < 3; i++) step(b, optB);
  // "resume": a new optimiser over the same parameters, loaded from B's state.
  const saved = optB.stateDict();
  const copies = new Map([...saved.tensors].map(([k, t]) => [k, t.clone()]));
  const optC = new AdamW(decayGroups(b, { weightDecay: 0.1 }), { lr: 0.01 });
  optC.loadStateDict({ tensors: copies, meta: JSON.parse(JSON.stringify(saved.meta)) });
  for (let i = 0; i < 3; i++) step(a, optA);
  for (let i = 0; i < 3; i++) step(b, optC);
  assert.deepEqual(b.weight.toArray(), a.weight.toArray());
  assert.deepEqual(b.bias!.toArray(), a.bias!.toArray());
  assert.throws(() => new SGD([a.weight]).loadStateDict(saved), /state is for AdamW, not SGD/);
});

test('decayGroups exempts biases and LayerNorm weights, or nothing with exemptBiasAndNorm: false', () => {
  class Net extends Module {
    fc = this.child('fc', new Linear(2, 2));
    ln = this.child('ln', new LayerNorm(2));
  }
  const [decay, noDecay] = decayGroups(new Net(), { weightDecay: 0.05 });
  assert.deepEqual(decay!.names, ['fc.weight']);
  assert.equal(decay!.weightDecay, 0.05);
  assert.deepEqual(noDecay!.names, ['fc.bias', 'ln.weight', 'ln.bias']);
  assert.equal(noDecay!.weightDecay, 0);
  // The paper's code: one group, every parameter decays.
  const all = decayGroups(new Net(), { weightDecay: 0.05, exemptBiasAndNorm: false });
  assert.equal(all.length, 1);
  assert.deepEqual(all[0]!.names, ['fc.weight', 'fc.bias', 'ln.weight', 'ln.bias']);
  assert.equal(all[0]!.weightDecay, 0.05);
});

test('clipGradNorm scales gradients to the global norm as PyTorch', () => {
  const p1 = tensor([0, 0]).requiresGrad_();
  const p2 = tensor([0]).requiresGrad_();
  p1.grad = tensor([3, 0]);
  p2.grad = tensor([4]);
  const norm = clipGradNorm([p1, p2], 1);
  assert.ok(Math.abs(norm - 5) < 1e-6);
  const scale = 1 / (5 + 1e-6);
  assert.ok(close(p1.grad!.toArray(), [3 * scale, 0]) && close(p2.grad!.toArray(), [4 * scale]));
  const small = clipGradNorm([p1, p2], 10);
  assert.ok(Math.abs(small - 1) < 1e-5);
  assert.ok(close(p2.grad!.toArray(), [4 * scale])); // unchanged below the threshold
});

test('schedules: warm-up then linear or cosine decay, as transformers', () => {
  const lin = { kind: 'linear' as const, warmupSteps: 10, totalSteps: 110 };
  assert.equal(lrFactor(0, lin), 0);
  assert.equal(lrFactor(5, lin), 0.5);
  assert.equal(lrFactor(10, lin), 1);
  assert.equal(lrFactor(60, lin), 0.5);
  assert.equal(lrFactor(110, lin), 0);
  const cos = { kind: 'cosine' as const, warmupSteps: 0, totalSteps: 100 };
  assert.ok(Math.abs(lrFactor(50, cos) - 0.5) < 1e-12);
  assert.ok(Math.abs(lrFactor(100, cos)) < 1e-12);
  assert.equal(lrFactor(3, { kind: 'constant' }), 1);
  assert.throws(() => lrFactor(20, { kind: 'linear' }), /needs totalSteps/);
  const opt = new SGD([tensor([1]).requiresGrad_()], { lr: 0.2 });
  const sch = new LRScheduler(opt, lin);
  assert.deepEqual(sch.lrs, [0]);
  for (let i = 0; i < 5; i++) sch.step();
  assert.ok(Math.abs(sch.lrs[0]! - 0.1) < 1e-12);
  const st = sch.stateDict();
  const sch2 = new LRScheduler(opt, lin);
  sch2.loadStateDict(st);
  assert.ok(Math.abs(sch2.lrs[0]! - 0.1) < 1e-12);
});
