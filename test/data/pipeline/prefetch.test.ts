// Measures that images are prepared while the (synchronous) step runs: a fake 50 ms step per batch, with
// batches prepared ahead in worker threads versus each batch prepared only when asked for.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadGeneric } from '../../../src/data/generic.js';
import { PostEncoder, disposeBatch } from '../../../src/data/pipeline/encoder.js';
import { ImagePool } from '../../../src/data/pipeline/image-pool.js';
import { BatchLoader } from '../../../src/data/pipeline/loader.js';
import { Tokenizer } from '../../../src/text/tokenizer.js';
import { loadImageProcessorConfig } from '../../../src/vision/index.js';
import { BERT_DIR, LABELS, VIT_DIR, tempDir, writeImage } from './fixtures.js';

const STEP_MS = 50;

function busyStep(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    /* the training step: synchronous work on the main thread */
  }
}

test('prefetching in worker threads overlaps image preparation with the step', async () => {
  const dir = tempDir();
  mkdirSync(join(dir, 'img'));
  const n = 24;
  const posts = [];
  for (let i = 0; i < n; i++) {
    await writeImage(join(dir, 'img', `${i}.jpg`), 1024, 768, i, 'jpeg');
    posts.push({ id: `p${i}`, text: `post number ${i}`, image: `img/${i}.jpg`, label: LABELS[i % 3], split: 'train' });
  }
  writeFileSync(join(dir, 'posts.jsonl'), posts.map((p) => JSON.stringify(p)).join('\n') + '\n');
  const rows = loadGeneric(dir).rows;
  const enc = new PostEncoder(Tokenizer.fromModelDir(BERT_DIR), loadImageProcessorConfig(VIT_DIR), {
    labelNames: LABELS,
  });
  const pool = new ImagePool(2);
  // Start-up (worker threads, module loading) is not what is measured.
  await Promise.all([
    pool.run({ path: rows[0]!.image!, kind: 'process', cfg: enc.imageConfig, backend: 'torchvision', decode: {} }),
    pool.run({ path: rows[1]!.image!, kind: 'process', cfg: enc.imageConfig, backend: 'torchvision', decode: {} }),
  ]);

  async function run(prefetch: number, workers: number | ImagePool, step: number): Promise<number> {
    const loader = new BatchLoader(rows, enc, { batchSize: 4, seed: 1, prefetch, workers });
    const t0 = performance.now();
    let batches = 0;
    for await (const b of loader.epoch(0)) {
      busyStep(step);
      disposeBatch(b);
      batches++;
    }
    assert.equal(batches, n / 4);
    await loader.close();
    return performance.now() - t0;
  }

  // Best of two runs each: other processes on the machine only ever add time.
  const best = async (prefetch: number, workers: number | ImagePool, step: number): Promise<number> =>
    Math.min(await run(prefetch, workers, step), await run(prefetch, workers, step));
  const prepOnly = await best(0, pool, 0);
  const without = await best(0, pool, STEP_MS);
  const withPrefetch = await best(2, pool, STEP_MS);
  const inline = await best(0, 0, STEP_MS);
  await pool.close();
  const steps = (n / 4) * STEP_MS;
  console.log(
    `prefetch overlap: ${n / 4} batches of 4 JPEGs 1024x768 -> 32x32, ${STEP_MS} ms synchronous step each (${steps} ms of steps): ` +
      `prefetch 2 + 2 workers ${withPrefetch.toFixed(0)} ms, no prefetch + 2 workers ${without.toFixed(0)} ms, ` +
      `main-thread decoding ${inline.toFixed(0)} ms; image preparation alone ${prepOnly.toFixed(0)} ms`,
  );
  // Without prefetch the epoch costs the steps plus the preparation; with it, most preparation hides behind steps.
  assert.ok(
    without > steps + 0.5 * prepOnly,
    `without prefetch ${without.toFixed(0)} ms should include the preparation`,
  );
  assert.ok(
    withPrefetch < without - 0.5 * (without - steps),
    `prefetch ${withPrefetch.toFixed(0)} ms vs ${without.toFixed(0)} ms without`,
  );
});
