// The HTTP API: predictions from a trained run. One model per process; requests are handled one at a time
// (libtorch already uses every core for one batch), each with a bounded body. Images arrive as base64 in
// JSON and are written to a private temporary folder only for the duration of the request.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { DataError, type Row } from '../data/rows.js';
import { labelPredictions, openRun, type LoadedRun } from '../train/experiment.js';
import { checkPrecision, type Precision } from '../tensor/index.js';

export interface ServeOptions {
  /** Run folder (its best checkpoint) or checkpoint folder. */
  run: string;
  checkpoint?: 'best' | 'last';
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  /** Largest accepted request body (default 20 MiB). */
  maxBodyBytes?: number;
  /** Posts per forward pass (default 32). */
  batchSize?: number;
  /** Most posts in one request (default 256). */
  maxPosts?: number;
  /** Forward-pass precision (default: the run's, else fp32). */
  precision?: Precision;
}

export interface RunningServer {
  url: string;
  close(): Promise<void>;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? NaN);
    if (declared > limit)
      return reject(new HttpError(413, `request body of ${declared} bytes exceeds the limit of ${limit}`));
    const parts: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        req.destroy();
        reject(new HttpError(413, `request body exceeds the limit of ${limit} bytes`));
      } else parts.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(parts)));
    req.on('error', reject);
  });
}

interface PostIn {
  id?: unknown;
  text?: unknown;
  image?: unknown;
}

/** The posts of a request: `{ text, image }` or `{ posts: [{ id?, text, image }] }`, image as base64 (or a data URL). */
function parsePosts(body: Buffer, dir: string, maxPosts: number): Row[] {
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch (e) {
    throw new HttpError(400, `body is not valid JSON (${(e as Error).message})`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json))
    throw new HttpError(400, 'body must be a JSON object: {"text", "image"} or {"posts": [...]}');
  const obj = json as { posts?: unknown } & PostIn;
  const list: PostIn[] = Array.isArray(obj.posts) ? (obj.posts as PostIn[]) : obj.posts === undefined ? [obj] : [];
  if (obj.posts !== undefined && !Array.isArray(obj.posts)) throw new HttpError(400, '"posts" must be an array');
  if (list.length === 0) throw new HttpError(400, 'no posts in the request');
  if (list.length > maxPosts) throw new HttpError(413, `${list.length} posts in one request; the limit is ${maxPosts}`);
  return list.map((p, i) => {
    const where = obj.posts ? `posts[${i}]` : 'body';
    if (typeof p !== 'object' || p === null)
      throw new HttpError(400, `${where}: expected an object with "text" and "image"`);
    if (typeof p.text !== 'string') throw new HttpError(400, `${where}.text: expected a string`);
    if (typeof p.image !== 'string' || p.image === '')
      throw new HttpError(400, `${where}.image: expected the image file as a base64 string`);
    const b64 = p.image.replace(/^data:[^;,]*;base64,/, '');
    const bytes = Buffer.from(b64, 'base64');
    // Buffer.from skips what is not base64: a round trip tells whether the string was base64 at all.
    if (bytes.toString('base64').replace(/=+$/, '') !== b64.replace(/\s+/g, '').replace(/=+$/, ''))
      throw new HttpError(400, `${where}.image: not base64`);
    if (bytes.length === 0) throw new HttpError(400, `${where}.image: empty image`);
    const file = join(dir, createHash('sha1').update(bytes).digest('hex'));
    writeFileSync(file, bytes);
    const id = p.id === undefined ? String(i) : String(p.id);
    return { id, text: p.text, image: file };
  });
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const data = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(data),
  });
  res.end(data);
}

async function predict(run: LoadedRun, rows: Row[], batchSize: number, precision: Precision | undefined) {
  try {
    const { pred } = await run.predict(rows, {
      withLabels: false,
      batchSize,
      workers: 0,
      ...(precision ? { precision } : {}),
    });
    return labelPredictions(pred, run.labelNames, run.multiLabel).map(({ id, label, probabilities }) => ({
      id,
      label,
      probabilities,
    }));
  } catch (e) {
    // A bad post (found by the pre-flight, or an image that does not decode) is the client's fault.
    if (e instanceof DataError || /decode|image|unreadable/i.test((e as Error).message))
      throw new HttpError(400, (e as Error).message);
    throw e;
  }
}

/** Starts the API; resolves once it listens. */
export async function startServer(o: ServeOptions): Promise<RunningServer> {
  if (o.precision) checkPrecision(o.precision, 'cpu');
  const run = openRun(o.run, o.checkpoint ?? 'best');
  run.model.eval();
  const limit = o.maxBodyBytes ?? 20 * 2 ** 20;
  const info = {
    status: 'ok',
    checkpoint: run.dir,
    recipe: run.model.recipe,
    labels: run.labelNames,
    multi_label: run.multiLabel,
  };
  let queue: Promise<unknown> = Promise.resolve();
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const handle = async (): Promise<void> => {
      if (url.pathname === '/health' || url.pathname === '/') {
        if (req.method !== 'GET') throw new HttpError(405, `${req.method} ${url.pathname}: use GET`);
        return send(res, 200, info);
      }
      if (url.pathname !== '/predict')
        throw new HttpError(404, `no such endpoint: ${url.pathname} (endpoints: GET /health, POST /predict)`);
      if (req.method !== 'POST') throw new HttpError(405, `${req.method} /predict: use POST with a JSON body`);
      const body = await readBody(req, limit);
      // One request at a time: the engine uses every core for one batch.
      // (a failed request must not stop the ones queued behind it)
      const result = (queue = queue
        .catch(() => undefined)
        .then(async () => {
          const dir = mkdtempSync(join(tmpdir(), 'tandem-serve-'));
          try {
            return await predict(run, parsePosts(body, dir, o.maxPosts ?? 256), o.batchSize ?? 32, o.precision);
          } finally {
            rmSync(dir, { recursive: true, force: true });
          }
        }));
      send(res, 200, { predictions: await result });
    };
    handle().catch((e: unknown) => {
      const status = e instanceof HttpError ? e.status : 500;
      if (!res.headersSent) send(res, status, { error: (e as Error).message });
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port ?? 8080, o.host ?? '127.0.0.1', () => resolve());
  });
  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return {
    url: `http://${host}:${addr.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => {
          run.model.dispose();
          resolve();
        });
        server.closeAllConnections();
      }),
  };
}
