// Prefetching: while the caller holds a batch (its synchronous step runs), the images of the next `prefetch`
// batches are already submitted to the worker threads and finish without the caller asking for them; never
// more than that many ahead; with prefetch 0 nothing is prepared ahead. Counted, not timed (the time saved is
// a benchmark's business): a loader that ignored `prefetch`, launched only on next(), or ran unboundedly ahead
// fails here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadGeneric } from '../../../src/data/generic.js';
import { PostEncoder, disposeBatch } from '../../../src/data/pipeline/encoder.js';
import { ImagePool } from '../../../src/data/pipeline/image-pool.js';
import type { ImageJob, ImageResult } from '../../../src/data/pipeline/image-job.js';
import { BatchLoader } from '../../../src/data/pipeline/loader.js';
import { Tokenizer } from '../../../src/text/tokenizer.js';
import { loadImageProcessorConfig } from '../../../src/vision/index.js';
import { BERT_DIR, LABELS, VIT_DIR, tempDir, writeImage } from './fixtures.js';

/** A worker pool that counts the image jobs submitted to it and those finished. */
class CountingPool extends ImagePool {
  submitted = 0;
  finished = 0;
  override run(job: ImageJob): Promise<ImageResult> {
    this.submitted++;
    return super.run(job).then((r) => {
      this.finished++;
      return r;
    });
  }
  /** Waits until no job is outstanding (bounded: a stuck pool fails the test rather than hanging it). */
  async idle(): Promise<void> {
    for (let i = 0; i < 2000 && this.finished < this.submitted; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(this.finished, this.submitted, 'image jobs still outstanding after 20 s');
  }
}

const PER_BATCH = 4;

test('the next batches are prepared in worker threads while the caller holds the current one', async () => {
  const dir = tempDir();
  mkdirSync(join(dir, 'img'));
  const n = 24;
  const posts = [];
  for (let i = 0; i < n; i++) {
    await writeImage(join(dir, 'img', `${i}.jpg`), 256, 192, i, 'jpeg');
    posts.push({ id: `p${i}`, text: `post number ${i}`, image: `img/${i}.jpg`, label: LABELS[i % 3], split: 'train' });
  }
  writeFileSync(join(dir, 'posts.jsonl'), posts.map((p) => JSON.stringify(p)).join('\n') + '\n');
  const rows = loadGeneric(dir).rows;
  const enc = new PostEncoder(Tokenizer.fromModelDir(BERT_DIR), loadImageProcessorConfig(VIT_DIR), {
    labelNames: LABELS,
  });

  /** Takes the batches one by one; at each, records the jobs submitted and (once the pool is idle) finished. */
  async function walk(prefetch: number): Promise<{ ids: string[][]; submitted: number[]; finished: number[] }> {
    const pool = new CountingPool(2);
    const loader = new BatchLoader(rows, enc, { batchSize: PER_BATCH, seed: 1, prefetch, workers: pool });
    const out = { ids: [] as string[][], submitted: [] as number[], finished: [] as number[] };
    for await (const b of loader.epoch(0)) {
      out.submitted.push(pool.submitted);
      await pool.idle(); // the caller's step: the loader is not asked for anything meanwhile
      out.finished.push(pool.finished);
      out.ids.push([...b.ids]);
      disposeBatch(b);
    }
    await loader.close();
    await pool.close();
    return out;
  }

  const batches = n / PER_BATCH;
  const ahead = await walk(2);
  const none = await walk(0);
  console.log(`jobs submitted when each batch is taken: prefetch 2 ${ahead.submitted}, prefetch 0 ${none.submitted}`);
  // Holding batch k, the loader has submitted batches k+1 and k+2 (as far as they exist), and they finish
  // without another request.
  const expected = (k: number, p: number) => Math.min(batches, k + 1 + p) * PER_BATCH;
  assert.deepEqual(
    ahead.submitted,
    Array.from({ length: batches }, (_, k) => expected(k, 2)),
  );
  assert.deepEqual(ahead.finished, ahead.submitted);
  assert.deepEqual(
    none.submitted,
    Array.from({ length: batches }, (_, k) => expected(k, 0)),
  );
  // Prefetching changes when work is done, never what the batches hold.
  assert.deepEqual(ahead.ids, none.ids);
});
