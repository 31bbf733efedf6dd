// The HTTP API: predictions from a trained run under concurrent traffic. One model per process; posts of
// concurrent requests are batched together (batcher.ts) behind a bounded queue; images are decoded in memory
// (no temporary files); every error is JSON naming the field at fault. GET /health (live), GET /ready (model
// warmed up), GET /metrics (Prometheus), an optional bearer key, a JSON access log line per request, and a
// graceful close that stops accepting, answers what was accepted, then frees the model.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import sharp from 'sharp';
import { defaultWorkerCount, disposeBatch, ImagePool } from '../data/pipeline/index.js';
import {
  batchOfDecoded,
  decodePost,
  labelPrediction,
  openRun,
  predictBatch,
  type DecodedPost,
} from '../inference/index.js';
import { DEFAULT_MAX_PIXELS, ImageDecodeError } from '../vision/index.js';
import { ClosingError, DeadlineError, MicroBatcher, QueueFullError } from './batcher.js';
import { HttpError } from './errors.js';
import { parseJsonPosts, parseMultipartPosts, readBody, type InputLimits, type RawPost } from './inputs.js';
import { ServeMetrics } from './metrics.js';
import { checkPrecision, type Device, type Precision } from '../tensor/index.js';

export interface ServeOptions {
  /** Run folder (its best checkpoint) or checkpoint folder. */
  run: string;
  checkpoint?: 'best' | 'last';
  /** Default 127.0.0.1 (loopback only). */
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  /** Largest accepted request body (default 20 MiB). */
  maxBodyBytes?: number;
  /** Most posts per forward pass (default 32; 1 answers requests one post at a time). */
  maxBatch?: number;
  /** Longest wait of the oldest queued post for others to batch with (default 5 ms). */
  maxWaitMs?: number;
  /** Most posts waiting for the model; beyond it requests get 503 with Retry-After (default 1024). */
  maxQueue?: number;
  /** Most posts in one request (default 256). */
  maxPosts?: number;
  /** Per-request limit from arrival to answer, 504 beyond it (default 30 s). */
  timeoutMs?: number;
  /** Longest time to receive a request body, 408 beyond it (default 10 s). */
  bodyTimeoutMs?: number;
  /**
   * Wait for a batch to fill only while other requests are being read or decoded (default true); false
   * always waits up to maxWaitMs.
   */
  eager?: boolean;
  /** Largest image in pixels (default: the training pipeline's limit, Pillow's). */
  maxPixels?: number;
  /** When set, every request needs `Authorization: Bearer <key>`. */
  apiKey?: string;
  /** Where the JSON access log lines go (default stderr); false for none. */
  accessLog?: ((line: string) => void) | false;
  /** Forward-pass precision (default: the run's, else fp32). */
  precision?: Precision;
  /** Where the model runs (default cpu). */
  device?: Device;
  /**
   * Worker threads that decode and preprocess images (default min(2, cores)), so that the event loop keeps
   * reading requests and the model keeps running meanwhile; 0 does it on the main thread.
   */
  workers?: number;
}

/** The defaults of ServeOptions (the `tandem serve` option table reads them too). */
export const SERVE_DEFAULTS = {
  host: '127.0.0.1',
  port: 8080,
  maxBodyMiB: 20,
  maxBatch: 32,
  maxWaitMs: 5,
  maxQueue: 1024,
  maxPosts: 256,
  timeoutMs: 30_000,
  bodyTimeoutMs: 10_000,
} as const;

export interface RunningServer {
  url: string;
  metrics: ServeMetrics;
  /** Stops accepting, answers the requests already accepted, frees the model. */
  close(): Promise<void>;
}

type Prediction = { id: string; label: string | string[]; probabilities: Record<string, number> };

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const data = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(Buffer.byteLength(data)),
    ...headers,
  });
  res.end(data);
}

// Compared as fixed-length digests, so that neither the key's length nor its bytes leak through timing.
function keyMatches(header: string | undefined, digest: Buffer): boolean {
  const m = /^Bearer (.+)$/.exec(header ?? '');
  const given = createHash('sha256')
    .update(m ? m[1]! : '')
    .digest();
  return timingSafeEqual(given, digest) && m !== null;
}

/** The client's view of an image that does not decode: the field, what is wrong, no server detail. */
function imageError(e: ImageDecodeError, field: string, maxPixels: number): HttpError {
  const big = /image is (\d+x\d+) = (\d+) pixels/.exec(e.message);
  if (big)
    return new HttpError(400, `${field}: the image is ${big[1]} = ${big[2]} pixels, over the limit of ${maxPixels}`);
  return new HttpError(400, e.message);
}

/** Starts the API; resolves once it listens and the model has answered one warm-up batch. */
export async function startServer(o: ServeOptions): Promise<RunningServer> {
  const device = o.device ?? 'cpu';
  if (o.precision) checkPrecision(o.precision, device);
  const run = openRun(o.run, o.checkpoint ?? 'best', device);
  if (run.modalities.length < 2) {
    // the request format pairs a text with an image; a one-modality run would need requests of one input
    run.model.dispose();
    throw new Error(
      `${o.run}: recipe ${run.model.recipe} reads only the ${run.modalities.join(' and ')} of a post; serving one-modality runs is not supported yet (use tandem predict)`,
    );
  }
  run.model.eval();
  const encoder = run.encoder(false);
  const pool = new ImagePool(o.workers ?? defaultWorkerCount());
  pool.start();
  const precision = {
    precision: o.precision ?? run.config?.precision ?? 'fp32',
    device,
  };
  checkPrecision(precision.precision, precision.device);
  const limits: InputLimits = {
    maxBodyBytes: o.maxBodyBytes ?? SERVE_DEFAULTS.maxBodyMiB * 2 ** 20,
    maxPosts: o.maxPosts ?? SERVE_DEFAULTS.maxPosts,
    bodyTimeoutMs: o.bodyTimeoutMs ?? SERVE_DEFAULTS.bodyTimeoutMs,
  };
  const maxPixels = o.maxPixels ?? DEFAULT_MAX_PIXELS;
  const timeoutMs = o.timeoutMs ?? SERVE_DEFAULTS.timeoutMs;
  const maxQueue = o.maxQueue ?? SERVE_DEFAULTS.maxQueue;
  const metrics = new ServeMetrics();
  const log = o.accessLog === false ? null : (o.accessLog ?? ((l: string) => process.stderr.write(l + '\n')));
  const keyDigest = o.apiKey ? createHash('sha256').update(o.apiKey).digest() : null;
  let lastBatchSeconds = 0.05;
  let ready = false;
  let closing = false;
  let inflight = 0;
  const idle: (() => void)[] = [];

  const batcher: MicroBatcher<DecodedPost, Prediction> = new MicroBatcher<DecodedPost, Prediction>(
    (posts) => {
      const batch = batchOfDecoded(encoder, posts, device);
      try {
        const { probs } = predictBatch(run.model, batch, run.multiLabel, precision);
        return posts.map((p, i) => {
          const { id, label, probabilities } = labelPrediction(p.id, probs[i]!, run.labelNames, run.multiLabel);
          return { id, label, probabilities };
        });
      } finally {
        disposeBatch(batch);
      }
    },
    {
      maxBatch: o.maxBatch ?? SERVE_DEFAULTS.maxBatch,
      maxWaitMs: o.maxWaitMs ?? SERVE_DEFAULTS.maxWaitMs,
      maxQueue,
      ...(o.eager === false ? {} : { upstream: (): number => inflight - batcher.pending }),
      onBatch: (n, s) => {
        lastBatchSeconds = s;
        metrics.batchSize.observe(n);
        metrics.batchSeconds.observe(s);
        metrics.posts.inc(n);
      },
      onQueueDepth: (d) => metrics.queueDepth.set(d),
    },
  );
  const retryAfter = () => String(Math.max(1, Math.ceil((batcher.depth / batcher.o.maxBatch + 1) * lastBatchSeconds)));

  const info = {
    status: 'ok',
    checkpoint: run.dir,
    recipe: run.model.recipe,
    labels: run.labelNames,
    multi_label: run.multiLabel,
  };

  async function predict(req: IncomingMessage, arrived: number): Promise<{ predictions: Prediction[] }> {
    const type = req.headers['content-type'] ?? '';
    let raw: RawPost[];
    if (/^multipart\/form-data/i.test(type)) raw = await parseMultipartPosts(req, limits);
    else if (type === '' || /^application\/json|^text\/plain/i.test(type))
      raw = parseJsonPosts(await readBody(req, limits), limits.maxPosts);
    else
      throw new HttpError(415, `content-type '${type}' is not accepted: send application/json or multipart/form-data`);
    if (raw.length > maxQueue)
      throw new HttpError(413, `${raw.length} posts in one request; the server queues at most ${maxQueue}`);
    const decoded = await Promise.all(
      raw.map(async (p) => {
        try {
          return await decodePost(encoder, p, { maxPixels, name: p.field, pool });
        } catch (e) {
          // Whatever the image itself gets wrong comes back as an ImageDecodeError (from the image workers too);
          // anything else (a worker that died) is the server's fault, answered 500 below.
          if (e instanceof ImageDecodeError) throw imageError(e, p.field, maxPixels);
          throw e;
        }
      }),
    );
    const left = timeoutMs - (Date.now() - arrived);
    if (left <= 0) throw new DeadlineError(timeoutMs);
    try {
      return { predictions: await batcher.submit(decoded, left) };
    } catch (e) {
      // The batcher saw what was left of the limit; the client is told the limit itself.
      throw e instanceof DeadlineError ? new DeadlineError(timeoutMs) : e;
    }
  }

  async function route(req: IncomingMessage, res: ServerResponse, path: string, arrived: number): Promise<number> {
    if (keyDigest && !keyMatches(req.headers.authorization, keyDigest))
      throw new HttpError(401, 'this server needs an API key: send the header Authorization: Bearer <key>', {
        'www-authenticate': 'Bearer',
      });
    const get = (fn: () => void) => {
      if (req.method !== 'GET' && req.method !== 'HEAD') throw new HttpError(405, `${req.method} ${path}: use GET`);
      fn();
    };
    if (path === '/health' || path === '/') {
      get(() => send(res, 200, info));
      return 0;
    }
    if (path === '/ready') {
      get(() =>
        ready && !closing
          ? send(res, 200, { ready: true })
          : send(res, 503, {
              ready: false,
              error: closing ? 'the server is shutting down' : 'the model is warming up',
            }),
      );
      return 0;
    }
    if (path === '/metrics') {
      if (req.method !== 'GET') throw new HttpError(405, `${req.method} /metrics: use GET`);
      const text = await metrics.registry.metrics();
      res.writeHead(200, { 'content-type': metrics.registry.contentType });
      res.end(text);
      return 0;
    }
    if (path !== '/predict')
      throw new HttpError(
        404,
        `no such endpoint: ${path} (endpoints: GET /health, GET /ready, GET /metrics, POST /predict)`,
      );
    if (req.method !== 'POST')
      throw new HttpError(405, `${req.method} /predict: use POST with a JSON or multipart/form-data body`);
    if (closing) throw new HttpError(503, 'the server is shutting down', { 'retry-after': '1' });
    if (inflight > maxQueue)
      throw new HttpError(503, `the server is busy (${inflight} requests in progress); retry shortly`, {
        'retry-after': retryAfter(),
      });
    inflight++;
    try {
      const body = await predict(req, arrived);
      send(res, 200, body);
      return body.predictions.length;
    } finally {
      if (--inflight === 0) for (const w of idle.splice(0)) w();
    }
  }

  const server = createServer((req, res) => {
    const arrived = Date.now();
    const t0 = process.hrtime.bigint();
    let path = '/';
    try {
      path = new URL(req.url ?? '/', 'http://localhost').pathname;
    } catch {
      path = '(bad url)';
    }
    const known = ['/', '/health', '/ready', '/metrics', '/predict'].includes(path) ? path : 'other';
    const done = (status: number, posts: number) => {
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
      metrics.requests.inc({ route: known, status: String(status) });
      metrics.latency.observe({ route: known }, seconds);
      log?.(
        JSON.stringify({
          time: new Date(arrived).toISOString(),
          method: req.method,
          path: known === 'other' ? path.slice(0, 200) : path,
          status,
          ms: Math.round(seconds * 1e4) / 10,
          ...(posts ? { posts } : {}),
          remote: req.socket.remoteAddress,
        }),
      );
    };
    route(req, res, path, arrived)
      .then((posts) => done(res.statusCode, posts))
      .catch((e: unknown) => {
        let err: HttpError;
        if (e instanceof HttpError) err = e;
        else if (e instanceof QueueFullError) err = new HttpError(503, e.message, { 'retry-after': retryAfter() });
        else if (e instanceof DeadlineError) err = new HttpError(504, e.message);
        else if (e instanceof ClosingError) err = new HttpError(503, e.message, { 'retry-after': '1' });
        else {
          // The detail stays in the server's log: it may name files or internals.
          process.stderr.write(`tandem serve: internal error on ${req.method} ${path}: ${(e as Error).stack ?? e}\n`);
          err = new HttpError(500, 'internal error while predicting (the server log has the detail)');
        }
        if (res.headersSent) res.destroy();
        else {
          // A body not read to its end would be taken for the next request on this connection.
          const unread = !req.readableEnded;
          send(res, err.status, { error: err.message }, { ...err.headers, ...(unread ? { connection: 'close' } : {}) });
        }
        done(err.status, 0);
      });
  });
  // Our own body timeout (408 with a JSON body) stands in for Node's, which answers without one.
  server.requestTimeout = 0;
  server.headersTimeout = 20_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port ?? SERVE_DEFAULTS.port, o.host ?? SERVE_DEFAULTS.host, () => resolve());
  });

  // Warm-up: one batch through the whole path, so that the first client does not pay for the first call.
  const blank = await sharp({ create: { width: 224, height: 224, channels: 3, background: { r: 0, g: 0, b: 0 } } })
    .png()
    .toBuffer();
  await batcher.submit([await decodePost(encoder, { id: 'warm-up', text: 'warm up', image: blank }, { pool })]);
  ready = true;

  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  let closed: Promise<void> | null = null;
  return {
    url: `http://${host}:${addr.port}`,
    metrics,
    close: () =>
      (closed ??= (async () => {
        closing = true;
        batcher.hurry();
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        if (inflight > 0) await new Promise<void>((resolve) => idle.push(resolve));
        await batcher.drain();
        server.closeAllConnections();
        await stopped;
        await pool.close();
        run.model.dispose();
      })()),
  };
}
