// The API under concurrent traffic: every client gets the label of its own post (a run trained to get them
// right) while posts are batched together, a full queue answers 503 with Retry-After, a timed-out request 504 (its work dropped), SIGTERM
// during load answers what was accepted and exits 0, multipart uploads equal JSON, and the API key.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer } from '../../src/serve/server.js';
import { cliEntry, learnedRun, metric, predictJson, type LabelledPost, type Prediction } from './fixture.js';

const tmp = mkdtempSync(join(tmpdir(), 'tandem-serve-traffic-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
// Trained until it labels each of its 32 posts right (checked without the server).
const { run, posts } = learnedRun(tmp);
const quiet = { accessLog: false as const };

async function predictions(res: Response): Promise<Prediction[]> {
  assert.equal(res.status, 200, await res.clone().text());
  return ((await res.json()) as { predictions: Prediction[] }).predictions;
}

test('16 concurrent clients each get the label of their own post, from batches of more than one post', async () => {
  // Alone (one post per forward pass) first: the reference each batched answer must equal.
  const solo = await startServer({ run, port: 0, maxBatch: 1, ...quiet });
  const alone = new Map<string, Prediction>();
  try {
    for (const p of posts) alone.set(p.id, (await predictions(await predictJson(solo.url, [p])))[0]!);
  } finally {
    await solo.close();
  }
  for (const p of posts) assert.equal(alone.get(p.id)!.label, p.label, `post ${p.id} alone`);
  // The posts must be told apart by their answers too, so that a mix-up of two posts of one label shows.
  const distinct = new Set([...alone.values()].map((p) => Object.values(p.probabilities)[0]!.toFixed(6)));
  assert.ok(distinct.size >= posts.length * 0.9, `${distinct.size} distinct answers for ${posts.length} posts`);
  const labels = new Set(posts.map((p) => p.label));
  assert.equal(labels.size, 4, 'posts of all four labels');

  const server = await startServer({ run, port: 0, maxBatch: 16, maxWaitMs: 20, ...quiet });
  const clients = 16;
  const rounds = 12;
  const wrong: string[] = [];
  const drifted: string[] = [];
  let answers = 0;
  const isMany = (c: number, round: number) => (c + round) % 5 === 0;
  let expected = 0;
  for (let c = 0; c < clients; c++) for (let round = 0; round < rounds; round++) expected += isMany(c, round) ? 3 : 1;
  try {
    // startServer resolves after the warm-up batch: ready at once.
    const ready = await fetch(`${server.url}/ready`);
    assert.equal(ready.status, 200);
    assert.deepEqual(await ready.json(), { ready: true });
    // Each client sends its requests one after the other, each one post; every fifth request carries three
    // (split across batches); the clients walk the posts with different strides, so batches mix labels.
    await Promise.all(
      Array.from({ length: clients }, async (_, c) => {
        for (let round = 0; round < rounds; round++) {
          const many = isMany(c, round);
          const at = (k: number) => posts[(c * 7 + round * (c + 1) + k * 11) % posts.length]!;
          const chosen: LabelledPost[] = many ? [at(0), at(1), at(2)] : [at(0)];
          const got = await predictions(await predictJson(server.url, chosen));
          assert.deepEqual(
            got.map((p) => p.id),
            chosen.map((p) => p.id),
          );
          got.forEach((p, k) => {
            answers++;
            if (p.label !== chosen[k]!.label) wrong.push(`${p.id}: ${p.label}, not ${chosen[k]!.label}`);
            const want = alone.get(p.id)!;
            for (const [name, v] of Object.entries(want.probabilities))
              if (!(Math.abs(p.probabilities[name]! - v) < 1e-5))
                drifted.push(`${p.id}: p(${name}) ${p.probabilities[name]} vs ${v} alone`);
          });
        }
      }),
    );
    assert.equal(answers, expected, 'every post answered');
    assert.equal(
      wrong.length,
      0,
      `${wrong.length} of ${answers} answers carry another label than their post's: ${wrong.slice(0, 4).join('; ')}`,
    );
    assert.equal(drifted.length, 0, `batched answers differ from the post's alone: ${drifted.slice(0, 4).join('; ')}`);
    const text = await (await fetch(`${server.url}/metrics`)).text();
    const batches = metric(text, 'tandem_batch_size_count');
    const postsRun = metric(text, 'tandem_batch_size_sum');
    const single = metric(text, 'tandem_batch_size_bucket{le="1"}');
    console.log(
      `${postsRun} posts in ${batches} batches (${single} of one post); mean ${(postsRun / batches).toFixed(1)}`,
    );
    assert.ok(batches - single >= 1, 'some batches hold more than one post');
    assert.ok(postsRun / batches > 1.5, `mean batch ${postsRun / batches}`);
    assert.equal(metric(text, 'tandem_http_requests_total{route="/predict",status="200"}'), clients * rounds);
    assert.equal(metric(text, 'tandem_queue_depth'), 0);
  } finally {
    await server.close();
  }
});

test('a full queue answers 503 with Retry-After; a timed-out request 504 and its posts never run', async () => {
  // A long batch wait keeps the first request's posts queued while the second arrives.
  const server = await startServer({
    run,
    port: 0,
    maxBatch: 64,
    maxWaitMs: 1500,
    maxQueue: 4,
    eager: false,
    ...quiet,
  });
  try {
    const first = predictJson(server.url, posts.slice(0, 3));
    await new Promise((r) => setTimeout(r, 300));
    const full = await predictJson(server.url, posts.slice(3, 5));
    assert.equal(full.status, 503);
    assert.ok(Number(full.headers.get('retry-after')) >= 1, `Retry-After ${full.headers.get('retry-after')}`);
    assert.match(((await full.json()) as { error: string }).error, /busy: 3 posts are queued \(the limit is 4\)/);
    assert.equal((await predictions(await first)).length, 3, 'the queued request is still answered');
    const tooMany = await predictJson(server.url, posts.slice(0, 5));
    assert.equal(tooMany.status, 413);
  } finally {
    await server.close();
  }
  const slow = await startServer({
    run,
    port: 0,
    maxBatch: 64,
    maxWaitMs: 3000,
    timeoutMs: 400,
    eager: false,
    ...quiet,
  });
  try {
    const before = metric(await (await fetch(`${slow.url}/metrics`)).text(), 'tandem_posts_predicted_total');
    const t0 = Date.now();
    const res = await predictJson(slow.url, posts.slice(0, 2));
    const waited = Date.now() - t0;
    assert.equal(res.status, 504);
    assert.match(((await res.json()) as { error: string }).error, /did not finish within 400 ms/);
    assert.ok(waited >= 350 && waited < 2500, `answered after ${waited} ms`);
    // Past the batch wait: had the posts stayed queued, they would have run by now.
    await new Promise((r) => setTimeout(r, 3200));
    const text = await (await fetch(`${slow.url}/metrics`)).text();
    assert.equal(metric(text, 'tandem_posts_predicted_total'), before, 'the timed-out posts were dropped');
    assert.equal(metric(text, 'tandem_queue_depth'), 0);
  } finally {
    await slow.close();
  }
});

test('multipart uploads give what JSON gives; bad multipart is a 400 naming the problem', async () => {
  const server = await startServer({ run, port: 0, ...quiet });
  try {
    const chosen = posts.slice(0, 3);
    const want = await predictions(await predictJson(server.url, chosen));
    const form = new FormData();
    for (const p of chosen) {
      form.append('id', p.id);
      form.append('text', p.text);
      form.append('image', new Blob([p.bytes], { type: 'image/png' }), `${p.id}.png`);
    }
    const got = await predictions(await fetch(`${server.url}/predict`, { method: 'POST', body: form }));
    assert.deepEqual(got, want);
    const one = new FormData();
    one.append('text', chosen[0]!.text);
    const res = await fetch(`${server.url}/predict`, { method: 'POST', body: one });
    assert.equal(res.status, 400);
    assert.match(((await res.json()) as { error: string }).error, /1 'text' field\(s\) but 0 'image' file\(s\)/);
  } finally {
    await server.close();
  }
});

test('with an API key every request needs the bearer token', async () => {
  const server = await startServer({ run, port: 0, apiKey: 's3cret', ...quiet });
  try {
    for (const auth of [undefined, 'Bearer wrong', 'Bearer s3cret2', 's3cret']) {
      const res = await fetch(`${server.url}/health`, auth ? { headers: { authorization: auth } } : {});
      assert.equal(res.status, 401, String(auth));
      assert.match(((await res.json()) as { error: string }).error, /Authorization: Bearer/);
    }
    const ok = await fetch(`${server.url}/predict`, {
      method: 'POST',
      headers: { authorization: 'Bearer s3cret' },
      body: JSON.stringify({ text: posts[0]!.text, image: posts[0]!.bytes.toString('base64') }),
    });
    assert.equal(ok.status, 200);
  } finally {
    await server.close();
  }
});

test('SIGTERM during load: the accepted requests are answered, then the process exits 0', async () => {
  const child = spawn(
    process.execPath,
    [
      ...cliEntry(),
      'serve',
      '--run',
      run,
      '--port',
      '0',
      '--max-batch',
      '64',
      '--max-wait-ms',
      '2000',
      '--always-wait',
      '--no-access-log',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.on('exit', () => reject(new Error(`serve exited early: ${stderr}`)));
  });
  try {
    const pending = posts.slice(0, 24).map((p) => predictJson(url, [p]));
    // Wait until all 24 posts are queued (held by the 2 s batch wait), then stop the server.
    for (let i = 0; i < 100; i++) {
      const depth = metric(await (await fetch(`${url}/metrics`)).text(), 'tandem_queue_depth');
      if (depth === 24) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    child.kill('SIGTERM');
    const answers = await Promise.all(pending);
    assert.deepEqual(
      answers.map((r) => r.status),
      Array(24).fill(200),
    );
    for (const [i, r] of answers.entries())
      assert.equal(((await r.json()) as { predictions: Prediction[] }).predictions[0]!.id, posts[i]!.id);
    assert.equal(await exited, 0, stderr);
    assert.match(stderr, /SIGTERM: no new requests/);
    await assert.rejects(fetch(`${url}/health`), 'no longer listening');
  } finally {
    child.kill('SIGKILL');
  }
});
