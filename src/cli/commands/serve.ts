// `tandem serve`: an HTTP API that predicts with a trained run, batching concurrent requests.
import { startServer } from '../../serve/server.js';
import { CliError, EXIT, intFlag, parse } from '../args.js';

const HELP = `Usage: tandem serve --run runs/NAME [--host 127.0.0.1] [--port 8080] [options]

Serves predictions of a trained run (its best checkpoint) over HTTP:
  POST /predict   JSON {"text": "...", "image": "<base64 image file>"} or {"posts": [{"id", "text", "image"}, ...]},
                  or multipart/form-data: 'text' fields and 'image' files (the k-th text goes with the k-th
                  image; optional 'id' fields) -> {"predictions": [{"id", "label", "probabilities": {label: p}}]}
  GET  /health    live: {"status": "ok", "recipe", "labels", "checkpoint"}
  GET  /ready     200 once the model answered a warm-up batch; 503 while warming up or shutting down
  GET  /metrics   Prometheus metrics: requests by status, latency, batch sizes, queue depth, posts
Concurrent requests are batched: up to --max-batch posts run together, or whatever is queued once the oldest
post has waited --max-wait-ms. Errors are JSON {"error": "..."}: 400 bad input, 401 no/wrong key, 404, 405,
408 body too slow, 413 too large, 415, 503 queue full (with Retry-After), 504 timed out, 500.

Options:
  --run R                 run folder (uses R/best) or a checkpoint folder
  --checkpoint best|last  (default best)
  --host H                interface to listen on (default 127.0.0.1, this machine only)
  --port N                port (default 8080; 0 picks a free one)
  --max-batch N           most posts per forward pass (default 32; 1 = one post at a time)
  --max-wait-ms N         longest wait for a batch to fill (default 5), only while other requests are
                          arriving: a lone request runs at once
  --always-wait           wait --max-wait-ms even when no other request is arriving
  --max-queue N           most posts waiting; beyond it 503 + Retry-After (default 1024)
  --max-posts N           most posts in one request (default 256)
  --timeout-ms N          per-request limit, 504 beyond it (default 30000)
  --max-body-mb N         largest request body in MiB (default 20)
  --max-pixels N          largest image in pixels (default 89478485, as in training)
  --api-key K             require 'Authorization: Bearer K' (or set TANDEM_API_KEY)
  --no-access-log         no JSON access log lines on stderr
Stops on SIGTERM or Ctrl-C: stops accepting, answers the requests already accepted, exits 0.`;

export async function run(argv: string[]): Promise<number> {
  const a = parse(
    argv,
    {
      run: { type: 'string' },
      checkpoint: { type: 'string' },
      host: { type: 'string' },
      port: { type: 'string' },
      'max-body-mb': { type: 'string' },
      'max-batch': { type: 'string' },
      // The earlier name of --max-batch.
      'batch-size': { type: 'string' },
      'max-wait-ms': { type: 'string' },
      'max-queue': { type: 'string' },
      'max-posts': { type: 'string' },
      'timeout-ms': { type: 'string' },
      'max-pixels': { type: 'string' },
      'api-key': { type: 'string' },
      'no-access-log': { type: 'boolean' },
      'always-wait': { type: 'boolean' },
    },
    HELP,
    false,
  );
  if (!a) return EXIT.ok;
  const v = a.values;
  if (!v.run) throw new CliError(`--run is required\n\n${HELP}`);
  const checkpoint = v.checkpoint ?? 'best';
  if (checkpoint !== 'best' && checkpoint !== 'last')
    throw new CliError(`--checkpoint expects best or last, got '${checkpoint}'`);
  const port = intFlag('port', v.port, 8080)!;
  if (port < 0 || port > 65535) throw new CliError(`--port expects 0-65535, got ${port}`);
  const positive = (name: string, value: string | undefined, dflt: number, min = 1): number => {
    const n = intFlag(name, value, dflt)!;
    if (n < min) throw new CliError(`--${name} expects an integer >= ${min}, got ${n}`);
    return n;
  };
  const apiKey = v['api-key'] ?? process.env.TANDEM_API_KEY;
  if (apiKey !== undefined && apiKey === '') throw new CliError('--api-key (or TANDEM_API_KEY) is empty');
  let server;
  try {
    server = await startServer({
      run: v.run,
      checkpoint,
      host: v.host ?? '127.0.0.1',
      port,
      maxBodyBytes: positive('max-body-mb', v['max-body-mb'], 20) * 2 ** 20,
      maxBatch: positive(
        v['max-batch'] !== undefined ? 'max-batch' : 'batch-size',
        v['max-batch'] ?? v['batch-size'],
        32,
      ),
      maxWaitMs: positive('max-wait-ms', v['max-wait-ms'], 5, 0),
      maxQueue: positive('max-queue', v['max-queue'], 1024),
      maxPosts: positive('max-posts', v['max-posts'], 256),
      timeoutMs: positive('timeout-ms', v['timeout-ms'], 30_000),
      ...(v['max-pixels'] !== undefined ? { maxPixels: positive('max-pixels', v['max-pixels'], 0) } : {}),
      ...(apiKey ? { apiKey } : {}),
      ...(v['no-access-log'] ? { accessLog: false as const } : {}),
      ...(v['always-wait'] ? { eager: false } : {}),
    });
  } catch (e) {
    if (e instanceof CliError) throw e;
    throw new CliError(
      (e as Error).message,
      (e as NodeJS.ErrnoException).code === 'EADDRINUSE' ? EXIT.failure : EXIT.usage,
    );
  }
  console.log(`tandem serve: listening on ${server.url} (POST /predict, GET /health, /ready, /metrics)`);
  await new Promise<void>((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      console.error(`tandem serve: ${signal}: no new requests; finishing the ones accepted`);
      // A second signal does not wait.
      process.once('SIGINT', () => process.exit(130));
      process.once('SIGTERM', () => process.exit(143));
      resolve();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await server.close();
  console.error('tandem serve: stopped');
  return EXIT.ok;
}
