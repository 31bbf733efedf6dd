// A few thousand malformed requests (broken JSON, wrong types, bad base64, non-images, truncated multipart,
// huge declared lengths, huge pixel counts, slow bodies, odd content types and methods): every answer is a
// 4xx JSON error that names no server path and gives no command-line advice, no 5xx; the server stays
// healthy and its memory bounded.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer } from '../../src/serve/server.js';
import { trainedRun } from './fixture.js';

const tmp = mkdtempSync(join(tmpdir(), 'tandem-serve-fuzz-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
const { run, posts } = trainedRun(tmp, 12);

function mulberry(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function crc32(buf: Buffer): number {
  let c = ~0;
  for (const b of buf) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  return ~c >>> 0;
}

/** A PNG header that claims w × h pixels (no pixel data): a decompression bomb's first bytes. */
function pngClaiming(w: number, h: number): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(td));
    return Buffer.concat([len, td, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr[8] = 8;
  ihdr[9] = 2;
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

interface Answer {
  status: number;
  body: string;
}

/** Sends bytes on a raw socket; `stallMs` leaves the body unfinished. Resolves with the parsed answer. */
function rawRequest(port: number, head: string, body: Buffer): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1');
    let got = Buffer.alloc(0);
    const finish = () => {
      const text = got.toString('latin1');
      const m = /^HTTP\/1\.1 (\d+)/.exec(text);
      if (!m) return reject(new Error(`no HTTP answer: ${JSON.stringify(text.slice(0, 200))}`));
      s.destroy();
      resolve({ status: Number(m[1]), body: text.slice(text.indexOf('\r\n\r\n') + 4) });
    };
    s.on('data', (c: Buffer) => {
      got = Buffer.concat([got, c]);
      const text = got.toString('latin1');
      const end = text.indexOf('\r\n\r\n');
      const len = /content-length: (\d+)/i.exec(text);
      if (end >= 0 && len && got.length >= end + 4 + Number(len[1])) finish();
    });
    s.on('end', finish);
    s.on('error', (e) => (got.length ? finish() : reject(e)));
    s.write(head);
    s.write(body);
  });
}

test('2,000 malformed requests: all 4xx JSON errors, no 5xx, health fine, memory bounded', async () => {
  const server = await startServer({
    run,
    port: 0,
    maxBodyBytes: 64 * 1024,
    bodyTimeoutMs: 300,
    maxPixels: 4_000_000,
    accessLog: false,
  });
  const port = Number(new URL(server.url).port);
  const rnd = mulberry(12345);
  const pick = <T>(xs: T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const img = posts[0]!.bytes.toString('base64');
  const good = JSON.stringify({ posts: [{ id: 'a', text: 'hello', image: img }] });
  const multipart = (parts: string, boundary = 'XyZ') => ({
    type: `multipart/form-data; boundary=${boundary}`,
    body: Buffer.from(parts),
  });
  const formPart = (name: string, value: string, file?: string) =>
    `--XyZ\r\nContent-Disposition: form-data; name="${name}"${file ? `; filename="${file}"` : ''}\r\n\r\n${value}\r\n`;
  const wrongTypes: unknown[] = [
    null,
    [],
    'text',
    42,
    { text: 1, image: img },
    { text: 'x', image: 7 },
    { text: ['a'], image: img },
    { text: 'x' },
    { image: img },
    { text: '   ', image: img },
    { posts: 'x' },
    { posts: [] },
    { posts: [1] },
    { posts: [null] },
    { posts: [{ id: {}, text: 'x', image: img }] },
    { posts: [[{ text: 'x', image: img }]] },
    { text: 'x', image: '' },
    { text: 'x', image: 'data:image/png;base64,' },
  ];
  const kinds: (() => Promise<Answer>)[] = [
    // broken JSON: a strict prefix of a valid body, or garbage
    async () => {
      const cut = good.slice(0, Math.floor(rnd() * (good.length - 1)));
      return fetchAnswer('/predict', { method: 'POST', body: cut, headers: { 'content-type': 'application/json' } });
    },
    async () =>
      fetchAnswer('/predict', {
        method: 'POST',
        body: Buffer.from(Array.from({ length: 64 }, () => Math.floor(rnd() * 256))),
      }),
    // wrong types and missing fields
    async () => fetchAnswer('/predict', { method: 'POST', body: JSON.stringify(pick(wrongTypes)) }),
    // not base64, and base64 of bytes that are no image
    async () =>
      fetchAnswer('/predict', { method: 'POST', body: JSON.stringify({ text: 'x', image: '%%%' + img.slice(0, 20) }) }),
    async () => {
      const bytes = Buffer.from(Array.from({ length: 10 + Math.floor(rnd() * 500) }, () => Math.floor(rnd() * 256)));
      // sometimes a real image's first bytes: a truncated PNG
      const body = rnd() < 0.5 ? bytes : posts[1]!.bytes.subarray(0, 10 + Math.floor(rnd() * 200));
      return fetchAnswer('/predict', {
        method: 'POST',
        body: JSON.stringify({ text: 'x', image: body.toString('base64') }),
      });
    },
    // huge pixel counts
    async () =>
      fetchAnswer('/predict', {
        method: 'POST',
        body: JSON.stringify({
          text: 'x',
          image: pngClaiming(30000 + Math.floor(rnd() * 30000), 40000).toString('base64'),
        }),
      }),
    // truncated and malformed multipart
    async () => {
      const full =
        formPart('text', 'hello') + formPart('image', posts[2]!.bytes.toString('latin1'), 'a.png') + '--XyZ--\r\n';
      const m = multipart(full.slice(0, Math.floor(rnd() * (full.length - 10))));
      return fetchAnswer('/predict', { method: 'POST', body: m.body, headers: { 'content-type': m.type } });
    },
    async () => {
      const variants = [
        multipart(
          formPart('text', 'a') + formPart('text', 'b') + formPart('image', 'notanimage', 'x.png') + '--XyZ--\r\n',
        ),
        multipart(formPart('other', 'a') + '--XyZ--\r\n'),
        multipart(formPart('picture', 'a', 'x.png') + '--XyZ--\r\n'),
        { type: 'multipart/form-data', body: Buffer.from('no boundary') },
        multipart(formPart('text', 'a') + formPart('image', 'notanimage', 'x.png') + '--XyZ--\r\n'),
      ];
      const m = pick(variants);
      return fetchAnswer('/predict', { method: 'POST', body: m.body, headers: { 'content-type': m.type } });
    },
    // too large: actual and declared
    async () =>
      fetchAnswer('/predict', { method: 'POST', body: JSON.stringify({ text: 'x', image: 'A'.repeat(70000) }) }),
    async () =>
      rawRequest(
        port,
        `POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${1e12 + Math.floor(rnd() * 1e6)}\r\n\r\n`,
        Buffer.from('{"text":'),
      ),
    // odd content types, methods and paths
    async () =>
      fetchAnswer('/predict', {
        method: 'POST',
        body: good,
        headers: { 'content-type': pick(['image/png', 'application/xml']) },
      }),
    async () => fetchAnswer(pick(['/predict', '/metrics', '/health']), { method: pick(['PUT', 'DELETE', 'PATCH']) }),
    async () => fetchAnswer(pick(['/nope', '/predict/x', '/../etc/passwd', '/%00']), { method: 'GET' }),
  ];
  async function fetchAnswer(path: string, init: RequestInit): Promise<Answer> {
    const res = await fetch(`${server.url}${path}`, init);
    return { status: res.status, body: await res.text() };
  }
  const slow = async (): Promise<Answer> =>
    rawRequest(
      port,
      'POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n',
      Buffer.from('{"text": "slow'),
    );

  const statuses: Record<string, number> = {};
  const check = (a: Answer, what: string) => {
    statuses[a.status] = (statuses[a.status] ?? 0) + 1;
    assert.ok(a.status >= 400 && a.status < 500, `${what}: status ${a.status} ${a.body}`);
    const msg = (JSON.parse(a.body) as { error: unknown }).error;
    assert.equal(typeof msg, 'string', `${what}: ${a.body}`);
    assert.ok(!(msg as string).includes(tmp) && !(msg as string).includes(tmpdir()), `server path in: ${msg}`);
    assert.doesNotMatch(msg as string, /--[a-z]/, `command-line advice in: ${msg}`);
  };
  global.gc?.();
  const rssBefore = process.memoryUsage().rss;
  const total = 2000;
  let next = 0;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next < total) {
        const i = next++;
        const k = Math.floor(rnd() * kinds.length);
        check(await kinds[k]!(), `request ${i} (kind ${k})`);
      }
    }),
  );
  // Slow bodies: a handful at once, each answered 408 once the body timeout passes.
  const slowAnswers = await Promise.all(Array.from({ length: 8 }, slow));
  for (const a of slowAnswers) {
    check(a, 'slow body');
    assert.equal(a.status, 408);
  }
  const rssAfter = process.memoryUsage().rss;
  console.log(
    `statuses ${JSON.stringify(statuses)}; rss ${(rssBefore / 2 ** 20).toFixed(0)} -> ${(rssAfter / 2 ** 20).toFixed(0)} MiB`,
  );
  assert.ok(rssAfter - rssBefore < 256 * 2 ** 20, `rss grew by ${(rssAfter - rssBefore) / 2 ** 20} MiB`);
  const health = await fetch(`${server.url}/health`);
  assert.equal(health.status, 200);
  const ok = await fetch(`${server.url}/predict`, { method: 'POST', body: good });
  assert.equal(ok.status, 200, 'still predicts');
  const text = await (await fetch(`${server.url}/metrics`)).text();
  assert.doesNotMatch(text, /status="5\d\d"/);
  await server.close();
});
