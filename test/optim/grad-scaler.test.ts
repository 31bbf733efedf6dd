// The fp16 loss scaler (torch.amp.GradScaler's policy): an infinite or NaN gradient skips the step and halves
// the scale; 2000 good steps in a row double it; unscale divides the gradients by the scale; state round-trips.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tensor, tidy } from '../../src/tensor/index.js';
import { AdamW, GradScaler } from '../../src/optim/index.js';

function param(values: number[]) {
  return tensor(values).requiresGrad_();
}

test('defaults are PyTorch`s: scale 2^16, growth 2 every 2000 steps, backoff 0.5', () => {
  const s = new GradScaler();
  assert.deepEqual(s.stateDict(), {
    scale: 65536,
    growthFactor: 2,
    backoffFactor: 0.5,
    growthInterval: 2000,
    growthTracker: 0,
    skippedSteps: 0,
  });
});

test('an infinite gradient skips the optimiser step and halves the scale', () => {
  const p = param([1, 2, 3]);
  const q = param([4]);
  const opt = new AdamW([p, q], { lr: 0.1, weightDecay: 0 });
  const scaler = new GradScaler();
  const before = p.toArray();
  tidy(() => {
    p.grad = tensor([1, Infinity, 0]);
    q.grad = tensor([2]);
  });
  const { foundInf } = scaler.unscale([p, q]);
  assert.equal(foundInf, true);
  if (!foundInf) opt.step();
  scaler.update(foundInf);
  assert.deepEqual(p.toArray(), before, 'parameters untouched');
  assert.equal(scaler.scale, 32768);
  assert.equal(scaler.skippedSteps, 1);
  // NaN is caught as well.
  tidy(() => {
    p.grad = tensor([NaN, 0, 0]);
  });
  assert.equal(scaler.unscale([p, q]).foundInf, true);
  scaler.update(true);
  assert.equal(scaler.scale, 16384);
});

test('unscale divides the gradients by the scale; finite gradients step', () => {
  const p = param([1, 2]);
  const scaler = new GradScaler({ initScale: 1024 });
  tidy(() => scaler.scaleLoss(p.mul(p).sum()).backward());
  assert.deepEqual(p.grad!.toArray(), [2048, 4096], 'backward of the scaled loss');
  assert.equal(scaler.unscale([p]).foundInf, false);
  assert.deepEqual(p.grad!.toArray(), [2, 4], 'true gradients after unscale');
});

test('the scale grows by 2 after growthInterval good steps in a row; a bad step resets the count', () => {
  const s = new GradScaler({ initScale: 8, growthInterval: 3 });
  s.update(false);
  s.update(false);
  assert.equal(s.scale, 8);
  s.update(true);
  assert.equal(s.scale, 4, 'backoff');
  s.update(false);
  s.update(false);
  assert.equal(s.scale, 4, 'the count restarted after the bad step');
  s.update(false);
  assert.equal(s.scale, 8, 'grown after 3 good steps');
  // 2000 by default.
  const d = new GradScaler();
  for (let i = 0; i < 1999; i++) d.update(false);
  assert.equal(d.scale, 65536);
  d.update(false);
  assert.equal(d.scale, 131072);
});

test('state round-trips through JSON (for checkpoints) and bad state is refused', () => {
  const s = new GradScaler({ initScale: 8, growthInterval: 3 });
  s.update(false);
  s.update(true);
  s.update(false);
  const t = new GradScaler();
  t.loadStateDict(JSON.parse(JSON.stringify(s.stateDict())));
  assert.deepEqual(t.stateDict(), s.stateDict());
  t.update(false);
  t.update(false);
  assert.equal(t.scale, 8, 'continues the growth count it was saved with');
  assert.throws(() => t.loadStateDict({ ...s.stateDict(), scale: null as never }), /'scale' must be a finite number/);
  assert.throws(() => new GradScaler({ backoffFactor: 1 }), /backoffFactor must be in \(0, 1\)/);
});
