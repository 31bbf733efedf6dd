// The HTTP API: predictions equal `tandem predict`'s, health, and clear errors for bad requests.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import sharp from 'sharp';
import { startServer } from '../../src/serve/server.js';
import { TINY_VILT } from '../helpers/train.js';

const tmp = mkdtempSync(join(tmpdir(), 'tandem-serve-test-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const data = join(tmp, 'synth');
assert.equal(runCli(['data', 'synth', '--out', data, '--count', '40', '--size', '32', '--style', 'plain']).status, 0);
const run = join(tmp, 'run');
const trained = runCli([
  'train',
  ...TINY_VILT,
  '--data',
  join(data, 'posts.jsonl'),
  '--out',
  run,
  '--steps',
  '3',
  '--epochs',
  '1',
  '--batch-size',
  '8',
  '--no-progress',
]);
assert.equal(trained.status, 0, trained.stderr);
const posts = readFileSync(join(data, 'posts.jsonl'), 'utf8')
  .trim()
  .split('\n')
  .map((l) => JSON.parse(l));

test('POST /predict gives what tandem predict gives; GET /health describes the model', async () => {
  const chosen = posts.slice(0, 3);
  // The CLI runs first: spawnSync blocks the event loop, and a keep-alive socket the server times out
  // meanwhile would fail the next fetch.
  const wants = chosen.map((p) =>
    JSON.parse(runCli(['predict', '--run', run, '--text', p.text, '--image', join(data, p.image), '--json']).stdout),
  );
  const server = await startServer({ run, port: 0 });
  try {
    const health = (await (await fetch(`${server.url}/health`)).json()) as {
      status: string;
      recipe: string;
      labels: string[];
    };
    assert.equal(health.status, 'ok');
    assert.equal(health.recipe, 'vilt');
    assert.deepEqual(health.labels, ['match', 'mismatch']);
    const body = {
      posts: chosen.map((p) => ({
        id: p.id,
        text: p.text,
        image: readFileSync(join(data, p.image)).toString('base64'),
      })),
    };
    const res = await fetch(`${server.url}/predict`, {
      method: 'POST',
      body: JSON.stringify(body),
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(res.status, 200);
    type Predictions = { predictions: { id: string; label: string; probabilities: Record<string, number> }[] };
    const { predictions } = (await res.json()) as {
      predictions: { id: string; label: string; probabilities: Record<string, number> }[];
    };
    assert.deepEqual(
      predictions.map((p: { id: string }) => p.id),
      chosen.map((p) => p.id),
    );
    for (const [i, want] of wants.entries()) {
      assert.equal(predictions[i].label, want.label);
      for (const k of ['match', 'mismatch'])
        assert.ok(Math.abs(predictions[i].probabilities[k] - want.probabilities[k]) < 1e-6);
    }
    // a single post, with a data URL
    const one = await fetch(`${server.url}/predict`, {
      method: 'POST',
      body: JSON.stringify({
        text: chosen[0].text,
        image: `data:image/png;base64,${readFileSync(join(data, chosen[0].image)).toString('base64')}`,
      }),
    });
    assert.equal(one.status, 200);
    assert.equal(((await one.json()) as Predictions).predictions[0]!.label, predictions[0]!.label);
  } finally {
    await server.close();
  }
});

// Images are decoded in worker threads by default; 0 workers decodes on the main thread: the same answers.
for (const workers of [undefined, 0])
  test(`bad requests get a status and a message (image workers: ${workers ?? 'default'})`, async () => {
    const server = await startServer({
      run,
      port: 0,
      maxBodyBytes: 4096,
      maxPixels: 1000,
      ...(workers === undefined ? {} : { workers }),
    });
    const post = (body: string) => fetch(`${server.url}/predict`, { method: 'POST', body });
    const tooBig = await sharp({ create: { width: 40, height: 30, channels: 3, background: 'red' } })
      .png()
      .toBuffer();
    try {
      const cases: [Response, number, RegExp][] = [
        [await post('{not json'), 400, /not valid JSON/],
        [
          await post(JSON.stringify({ text: 'a red circle' })),
          400,
          /body\.image: expected the image file as a base64 string/,
        ],
        [
          await post(JSON.stringify({ posts: [{ text: 1, image: 'aGk=' }] })),
          400,
          /posts\[0\]\.text: expected a string/,
        ],
        [await post(JSON.stringify({ text: 'x', image: '@@not base64@@' })), 400, /body\.image: not base64/],
        [
          await post(JSON.stringify({ text: 'x', image: Buffer.from('definitely not an image').toString('base64') })),
          400,
          /^body\.image: a text file, not an image$/,
        ],
        [
          await post(JSON.stringify({ text: 'x', image: tooBig.toString('base64') })),
          400,
          /^body\.image: the image is 40x30 = 1200 pixels, over the limit of 1000$/,
        ],
        [await post(JSON.stringify({ text: 'x', image: 'A'.repeat(8000) })), 413, /exceeds the limit/],
        [await fetch(`${server.url}/predict`), 405, /use POST/],
        [await fetch(`${server.url}/nope`), 404, /no such endpoint/],
      ];
      for (const [res, status, message] of cases) {
        assert.equal(res.status, status);
        assert.match(((await res.json()) as { error: string }).error, message);
      }
    } finally {
      await server.close();
    }
  });

test('image work runs in the worker threads: a large photo no longer holds up the event loop', async () => {
  const [w, h] = [2560, 1920];
  const raw = Buffer.alloc(w * h * 3);
  for (let i = 0; i < raw.length; i++) raw[i] = (i * 2654435761) >>> 24;
  const photo = await sharp(raw, { raw: { width: w, height: h, channels: 3 } })
    .blur(2)
    .jpeg({ quality: 85 })
    .toBuffer();
  const body = JSON.stringify({ text: 'a photo', image: photo.toString('base64') });
  /** The event loop's longest stall (ms) while the server answers three posts with the photo, one at a time. */
  async function longestStall(workers?: number): Promise<number> {
    const server = await startServer({ run, port: 0, accessLog: false, ...(workers === undefined ? {} : { workers }) });
    try {
      await fetch(`${server.url}/predict`, { method: 'POST', body }); // the workers' first run compiles the resampler
      const delay = monitorEventLoopDelay({ resolution: 1 });
      delay.enable();
      for (let i = 0; i < 3; i++)
        assert.equal((await fetch(`${server.url}/predict`, { method: 'POST', body })).status, 200);
      delay.disable();
      return delay.max / 1e6;
    } finally {
      await server.close();
    }
  }
  const pooled = await longestStall();
  const inline = await longestStall(0);
  console.log(
    `longest event-loop stall with a ${w}x${h} photo: ${pooled.toFixed(1)} ms in workers, ${inline.toFixed(1)} ms inline`,
  );
  assert.ok(pooled < inline / 2, `workers ${pooled.toFixed(1)} ms, inline ${inline.toFixed(1)} ms`);
});
