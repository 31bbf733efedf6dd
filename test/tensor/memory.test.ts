// 2,000 steps of a small training loop inside tidy scopes: resident memory stays flat. A leak of one [32, 64]
// float tensor per step (8 KiB) would add 16 MiB; the bound is 4 MiB.
import { test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
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

// jemalloc's arenas keep growing for ~3,000 steps of this loop (measured: +15 MiB by step 3,000, then about
// +0.4 MiB per 1,000 steps to step 8,000), so the measured window starts after them.
const WARMUP = 3000;
const MEASURED = 2000;

test('resident memory is flat over 2,000 training steps', async () => {
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
  // Each step yields to the event loop as the trainer does while it awaits the next batch: Node runs the
  // finalisers of collected tensor handles there.
  const yieldToLoop = () => new Promise<void>((r) => setImmediate(r));
  for (let i = 0; i < WARMUP; i++) {
    step(); // warm-up: allocator pools and optimiser state
    await yieldToLoop();
  }
  // Collect JavaScript garbage before each reading so that only native memory growth is measured.
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const mb = () => {
    gc();
    return process.memoryUsage().rss / 2 ** 20;
  };
  const start = mb();
  let last = 0;
  for (let i = 0; i < MEASURED; i++) {
    last = step();
    await yieldToLoop();
  }
  const end = mb();
  console.log(
    `rss at step ${WARMUP}: ${start.toFixed(1)} MiB, at step ${WARMUP + MEASURED}: ${end.toFixed(1)} MiB (growth ${(end - start).toFixed(1)} MiB), final loss ${last.toFixed(3)}`,
  );
  assert.ok(Number.isFinite(last));
  assert.ok(end - start < 4, `resident memory grew by ${(end - start).toFixed(1)} MiB over ${MEASURED} steps`);
});
