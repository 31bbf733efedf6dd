// The Trainer in process, over fake batch sources and a tiny model: gradient accumulation equals the whole
// batch, clipping as torch's clip_grad_norm_ followed by AdamW's first step, the lr of every step under each
// schedule, early stopping by patience, and a resumed run that ends exactly where an uninterrupted one does.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tidy } from '../../src/tensor/index.js';
import { objectiveLosses, Trainer, type StepRecord } from '../../src/train/trainer.js';
import { batchOf, fakeSource, hooks, maxAbsDiff, options, tinyModel, trainableValues } from './fake-source.js';

const tmp = mkdtempSync(join(tmpdir(), 'tandem-trainer-test-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
let runs = 0;
const outDir = () => join(tmp, `run${runs++}`);

test('two accumulated half batches give the loss, gradient norm and weights of the whole batch', async () => {
  const whole = tinyModel();
  const wholeSteps: StepRecord[] = [];
  await new Trainer(
    whole,
    fakeSource(1, () => [0, 1, 2, 3]),
    // A huge clip norm only makes the trainer report the gradient norm.
    options(outDir(), { maxGradNorm: 1e9 }),
    hooks(whole, null, (r) => wholeSteps.push(r)),
  ).run();
  const halves = tinyModel();
  const halfSteps: StepRecord[] = [];
  await new Trainer(
    halves,
    fakeSource(2, (_, i) => (i === 0 ? [0, 1] : [2, 3])),
    options(outDir(), { maxGradNorm: 1e9, gradAccumulation: 2 }),
    hooks(halves, null, (r) => halfSteps.push(r)),
  ).run();
  assert.equal(wholeSteps.length, 1);
  assert.equal(halfSteps.length, 1, 'two micro-batches make one optimiser step');
  const [w, h] = [wholeSteps[0]!, halfSteps[0]!];
  console.log(`loss ${w.loss} vs ${h.loss}, grad norm ${w.grad_norm} vs ${h.grad_norm}`);
  assert.ok(Math.abs(w.loss - h.loss) < 1e-6);
  assert.ok(Math.abs(w.grad_norm! - h.grad_norm!) < 1e-5 * w.grad_norm!);
  const diff = maxAbsDiff(trainableValues(whole), trainableValues(halves));
  console.log(`weights after the step differ by at most ${diff}`);
  assert.ok(diff < 1e-5, `max |Δw| ${diff}`);
  whole.dispose();
  halves.dispose();
});

test("clipping scales the gradient to maxGradNorm before AdamW's first step", async () => {
  const lr = 1e-2;
  const eps = 1e-8;
  // The gradient of the batch, taken on an identical model outside the trainer.
  const probe = tinyModel();
  probe.train();
  tidy(() => objectiveLosses(probe, batchOf([0, 1, 2, 3]), options('')).total.backward());
  const grads = new Map(
    probe.trainableParameters().map(([n, p]) => {
      const g = p.grad;
      const v = g ? g.toArray() : null;
      g?.dispose();
      return [n, v] as const;
    }),
  );
  probe.dispose();
  let norm2 = 0;
  for (const g of grads.values()) for (const x of g ?? []) norm2 += x * x;
  const norm = Math.sqrt(norm2);
  // 1e-8 makes every clipped element far smaller than eps, so that the update shows the scale: unclipped,
  // the first Adam step is about lr·sign(g) whatever the scale.
  for (const maxNorm of [1e-8, 1e3]) {
    const m = tinyModel();
    const before = trainableValues(m);
    const steps: StepRecord[] = [];
    await new Trainer(
      m,
      fakeSource(1, () => [0, 1, 2, 3]),
      options(outDir(), { lr, maxGradNorm: maxNorm }),
      hooks(m, null, (r) => steps.push(r)),
    ).run();
    const afterStep = trainableValues(m);
    assert.ok(Math.abs(steps[0]!.grad_norm! - norm) < 1e-4 * norm, `reported norm ${steps[0]!.grad_norm} vs ${norm}`);
    const scale = Math.min(1, maxNorm / (norm + 1e-6));
    let worst = 0;
    let largest = 0;
    for (const [n, b] of before) {
      const g = grads.get(n);
      const a = afterStep.get(n)!;
      for (let i = 0; i < b.length; i++) {
        // Adam's first step: m̂ = g, √v̂ = |g|.
        const gc = g ? g[i]! * scale : 0;
        const want = -lr * (gc / (Math.abs(gc) + eps));
        worst = Math.max(worst, Math.abs(a[i]! - b[i]! - want));
        largest = Math.max(largest, Math.abs(want));
      }
    }
    console.log(`maxGradNorm ${maxNorm}: largest update ${largest}, worst error ${worst}`);
    assert.ok(worst < 0.02 * largest + 1e-7, `update off by ${worst} (largest ${largest})`);
    m.dispose();
  }
});

/** The factor an lr schedule should give step k (0-based) of `total` with `warm` warm-up steps. */
function expectedFactor(kind: 'constant' | 'linear' | 'cosine', k: number, warm: number, total: number): number {
  if (k < warm) return k / warm;
  if (kind === 'constant') return 1;
  const done = (k - warm) / (total - warm);
  return kind === 'linear' ? 1 - done : 0.5 * (1 + Math.cos(Math.PI * done));
}

for (const kind of ['constant', 'linear', 'cosine'] as const) {
  test(`${kind} schedule: the lr of every step, with accumulation and a step budget`, async () => {
    // 16 batches of one post, 2 per step: 8 steps; 25% warm-up = 2 steps.
    const m = tinyModel();
    const lrs: number[] = [];
    await new Trainer(
      m,
      fakeSource(16, (_, i) => [i % 4]),
      options(outDir(), { lr: 1e-3, schedule: kind, warmupRatio: 0.25, gradAccumulation: 2 }),
      hooks(m, null, (r) => lrs.push(r.lr)),
    ).run();
    assert.equal(lrs.length, 8);
    lrs.forEach((lr, k) => assert.ok(Math.abs(lr - 1e-3 * expectedFactor(kind, k, 2, 8)) < 1e-12, `step ${k}: ${lr}`));
    // maxSteps shortens the run and the schedule with it: 5 steps, round(1.25) = 1 warm-up step.
    const short: number[] = [];
    await new Trainer(
      m,
      fakeSource(16, (_, i) => [i % 4]),
      options(outDir(), { lr: 1e-3, schedule: kind, warmupRatio: 0.25, gradAccumulation: 2, maxSteps: 5 }),
      hooks(m, null, (r) => short.push(r.lr)),
    ).run();
    assert.equal(short.length, 5);
    short.forEach((lr, k) =>
      assert.ok(Math.abs(lr - 1e-3 * expectedFactor(kind, k, 1, 5)) < 1e-12, `step ${k}: ${lr}`),
    );
    m.dispose();
  });
}

test('early stopping: a tie is no improvement; stops after `patience` epochs without one, best kept', async () => {
  // Dev F1 per epoch: improves twice, ties, drops; the 0.9 of epoch 5 must never be seen.
  const script = [0.5, 0.6, 0.6, 0.55, 0.9, 0.9, 0.9, 0.9];
  const m = tinyModel();
  const out = outDir();
  const h = hooks(m, (call) => script[Math.min(call, script.length - 1)]!);
  const t = new Trainer(
    m,
    fakeSource(1, () => [0, 1]),
    options(out, { epochs: 8, patience: 2 }),
    h,
  );
  const r = await t.run();
  assert.equal(r.status, 'early-stopped');
  assert.equal(r.steps, 4, 'four epochs of one step');
  assert.deepEqual(
    t.currentState.devHistory.map((d) => d.metrics.f1),
    [0.5, 0.6, 0.6, 0.55],
  );
  assert.deepEqual(r.best, { value: 0.6, step: 2, epoch: 2 });
  assert.equal(readlinkSync(join(out, 'best')), join('checkpoints', 'best-step-0000002'));
  // patience 0 never stops early.
  const m2 = tinyModel();
  const r2 = await new Trainer(
    m2,
    fakeSource(1, () => [0, 1]),
    options(outDir(), { epochs: 5, patience: 0 }),
    hooks(m2, (call) => script[Math.min(call, script.length - 1)]!),
  ).run();
  assert.equal(r2.status, 'finished');
  assert.equal(r2.steps, 5);
  m.dispose();
  m2.dispose();
});

test('a run interrupted mid-epoch and resumed ends bit for bit where the uninterrupted run ends', async () => {
  // CE + ITC (with a queue) + ITM (random negatives: the random generator matters), a checkpoint every 3
  // steps, 2 epochs of 4 batches of 2 posts in an order that changes per epoch.
  const plan = (epoch: number, i: number) => {
    const order = epoch % 2 === 0 ? [0, 1, 2, 3, 3, 2, 1, 0] : [1, 3, 0, 2, 2, 0, 3, 1];
    return [order[2 * i]!, order[2 * i + 1]!];
  };
  const o = (out: string) =>
    options(out, {
      epochs: 2,
      lr: 1e-3,
      schedule: 'linear',
      warmupRatio: 0.25,
      aux: { itc: true, itm: true },
      itcQueueSize: 4,
      saveEvery: 3,
      maxGradNorm: 1,
    });
  const full = tinyModel();
  const fullOut = outDir();
  const fullSteps: StepRecord[] = [];
  const a = await new Trainer(
    full,
    fakeSource(4, plan),
    o(fullOut),
    hooks(full, null, (r) => fullSteps.push(r)),
  ).run();
  assert.equal(a.status, 'finished');
  assert.equal(a.steps, 8);

  const cutOut = outDir();
  const first = tinyModel();
  const t1: Trainer = new Trainer(
    first,
    fakeSource(4, plan),
    o(cutOut),
    hooks(first, null, (r) => {
      if (r.step === 6) t1.interrupt();
    }),
  );
  const b1 = await t1.run();
  assert.equal(b1.status, 'interrupted');
  assert.equal(b1.steps, 6);
  first.dispose();

  // A fresh process would start from a differently initialised model: the checkpoint must replace it all.
  const second = tinyModel(123);
  const resumedSteps: StepRecord[] = [];
  const t2 = new Trainer(
    second,
    fakeSource(4, plan),
    o(cutOut),
    hooks(second, null, (r) => resumedSteps.push(r)),
  );
  assert.ok(t2.resume());
  assert.deepEqual(
    { epoch: t2.currentState.epoch, position: t2.currentState.position, step: t2.currentState.step },
    { epoch: 1, position: 2, step: 6 },
  );
  const b2 = await t2.run();
  assert.equal(b2.status, 'finished');
  assert.deepEqual(
    resumedSteps.map((r) => r.step),
    [7, 8],
  );
  const strip = (r: StepRecord) => ({ ...r, samples_per_second: 0 });
  assert.deepEqual(resumedSteps.map(strip), fullSteps.slice(6).map(strip));
  const diff = maxAbsDiff(trainableValues(full), trainableValues(second));
  console.log(`resumed vs uninterrupted: max |Δw| = ${diff}`);
  assert.equal(diff, 0);
  // The log holds each step once, as the uninterrupted run's.
  const log = (out: string) =>
    readFileSync(join(out, 'log.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => strip(JSON.parse(l) as StepRecord));
  assert.deepEqual(log(cutOut), log(fullOut));
  full.dispose();
  second.dispose();
});
