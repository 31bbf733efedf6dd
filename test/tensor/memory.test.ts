// 1,000 steps of a small training loop inside tidy scopes: resident memory stays flat.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { manualSeed, randn, randint, tidy, F } from '../../src/tensor/index.js';
import { Linear, LayerNorm, Module } from '../../src/nn/index.js';
import { AdamW, clipGradNorm } from '../../src/optim/index.js';

class Small extends Module {
  fc1 = this.child('fc1', new Linear(64, 128));
  norm = this.child('norm', new LayerNorm(128));
  fc2 = this.child('fc2', new Linear(128, 4));
  forward(x: ReturnType<typeof randn>) {
    return this.fc2.forward(F.dropout(F.gelu(this.norm.forward(this.fc1.forward(x))), 0.1, this.training));
  }
}

test('resident memory is flat over 1,000 training steps', () => {
  manualSeed(0);
  const model = new Small();
  const opt = new AdamW(model.parameters(), { lr: 1e-3 });
  const step = () =>
    tidy(() => {
      const x = randn([32, 64]);
      const y = randint(0, 4, [32]);
      opt.zeroGrad();
      const loss = F.crossEntropy(model.forward(x), y);
      loss.backward();
      clipGradNorm(model.parameters(), 1.0);
      opt.step();
      return loss.item();
    });
  for (let i = 0; i < 100; i++) step(); // warm-up: allocator pools and optimiser state
  const mb = () => process.memoryUsage().rss / 2 ** 20;
  const start = mb();
  let last = 0;
  for (let i = 0; i < 1000; i++) last = step();
  const end = mb();
  console.log(`rss at step 100: ${start.toFixed(1)} MiB, at step 1100: ${end.toFixed(1)} MiB (growth ${(end - start).toFixed(1)} MiB), final loss ${last.toFixed(3)}`);
  assert.ok(Number.isFinite(last));
  assert.ok(end - start < 8, `resident memory grew by ${(end - start).toFixed(1)} MiB over 1,000 steps`);
});
