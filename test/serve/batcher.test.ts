// MicroBatcher's start of a batch: requests handed over in one turn of the event loop (as the server reads
// the requests that arrived while the previous batch ran) form one batch even when nothing more is on its way
// (upstream 0); a lone request still runs at once, without waiting for --max-wait-ms.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MicroBatcher } from '../../src/serve/batcher.js';

function recorder() {
  const sizes: number[] = [];
  const batcher = new MicroBatcher<number, number>(
    (items) => {
      sizes.push(items.length);
      return items.map((x) => 2 * x);
    },
    { maxBatch: 32, maxWaitMs: 10_000, maxQueue: 100, upstream: () => 0 },
  );
  return { sizes, batcher };
}

test('requests submitted in one turn of the event loop run as one batch; each gets its own results', async () => {
  const { sizes, batcher } = recorder();
  const answers = await Promise.all([1, 2, 3, 4, 5].map((x) => batcher.submit([x, 10 * x])));
  assert.deepEqual(
    answers,
    [1, 2, 3, 4, 5].map((x) => [2 * x, 20 * x]),
  );
  assert.deepEqual(sizes, [10], 'one batch of the 5 requests (10 posts)');
});

test('a lone request runs without waiting for max-wait-ms; one arriving while a batch runs goes in the next', async () => {
  const { sizes, batcher } = recorder();
  const t0 = performance.now();
  assert.deepEqual(await batcher.submit([7]), [14]);
  assert.ok(performance.now() - t0 < 1000, `a lone request waited ${performance.now() - t0} ms`);
  const first = batcher.submit([1, 2]);
  // handed over in a later turn, while the first batch may already have run
  await new Promise((r) => setImmediate(r));
  const second = batcher.submit([3]);
  assert.deepEqual(await Promise.all([first, second]), [[2, 4], [6]]);
  assert.deepEqual(sizes, [1, 2, 1]);
});
