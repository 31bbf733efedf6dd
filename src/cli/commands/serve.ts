// `tandem serve`: an HTTP API that predicts with a trained run, batching concurrent requests.
import { SERVE_DEFAULTS, startServer } from '../../serve/server.js';
import { CliError, EXIT } from '../args.js';
import { defineCommand, deviceFlag, deviceOption, parseCommand, precisionOption } from '../options.js';
import { inProcessDecoder } from '../../vision/index.js';

export const SERVE = defineCommand({
  name: 'serve',
  usage: ['tandem serve --run runs/NAME [--host 127.0.0.1] [--port 8080] [options]'],
  description: `Serves predictions of a trained run (its best checkpoint) over HTTP:
  POST /predict   JSON {"text": "...", "image": "<base64 image file>"} or {"posts": [{"id", "text", "image"}, ...]},
                  or multipart/form-data: 'text' fields and 'image' files (the k-th text goes with the k-th
                  image; optional 'id' fields) -> {"predictions": [{"id", "label", "probabilities": {label: p}}]}
  GET  /health    live: {"status": "ok", "recipe", "labels", "checkpoint"}
  GET  /ready     200 once the model answered a warm-up batch; 503 while warming up or shutting down
  GET  /metrics   Prometheus metrics: requests by status, latency, batch sizes, queue depth, posts
Concurrent requests are batched: up to --max-batch posts run together, or whatever is queued once the oldest
post has waited --max-wait-ms. Errors are JSON {"error": "..."}: 400 bad input, 401 no/wrong key, 404, 405,
408 body too slow, 413 too large, 415, 503 queue full (with Retry-After), 504 timed out, 500.`,
  options: {
    run: { type: 'string', required: true, placeholder: 'R', help: 'run folder (uses R/best) or a checkpoint folder' },
    checkpoint: { type: 'enum', choices: ['best', 'last'], default: 'best', help: 'which checkpoint of a run folder' },
    host: {
      type: 'string',
      default: SERVE_DEFAULTS.host,
      placeholder: 'H',
      help: 'interface to listen on (this machine only by default)',
    },
    port: { type: 'int', default: SERVE_DEFAULTS.port, min: 0, max: 65535, help: 'port (0 picks a free one)' },
    'max-batch': {
      type: 'int',
      default: SERVE_DEFAULTS.maxBatch,
      min: 1,
      help: 'most posts per forward pass (1 = one post at a time)',
    },
    'batch-size': { type: 'int', min: 1, help: 'the earlier name of --max-batch' },
    'max-wait-ms': {
      type: 'int',
      default: SERVE_DEFAULTS.maxWaitMs,
      min: 0,
      help: 'longest wait for a batch to fill, only while other requests are arriving: a lone request runs at once',
    },
    'always-wait': { type: 'boolean', help: 'wait --max-wait-ms even when no other request is arriving' },
    'max-queue': {
      type: 'int',
      default: SERVE_DEFAULTS.maxQueue,
      min: 1,
      help: 'most posts waiting; beyond it 503 + Retry-After',
    },
    'max-posts': { type: 'int', default: SERVE_DEFAULTS.maxPosts, min: 1, help: 'most posts in one request' },
    'timeout-ms': { type: 'int', default: SERVE_DEFAULTS.timeoutMs, min: 1, help: 'per-request limit, 504 beyond it' },
    'max-body-mb': { type: 'number', default: SERVE_DEFAULTS.maxBodyMiB, min: 0, help: 'largest request body in MiB' },
    'max-pixels': { type: 'int', min: 1, help: 'largest image in pixels', defaultText: '89478485, as in training' },
    'api-key': { type: 'string', placeholder: 'K', help: "require 'Authorization: Bearer K' (or set TANDEM_API_KEY)" },
    'no-access-log': { type: 'boolean', help: 'no JSON access log lines on stderr' },
    workers: {
      type: 'int',
      min: 0,
      help: 'image decoding threads (0: decode on the main thread)',
      defaultText: 'min(2, cores)',
    },
    precision: precisionOption("forward passes in fp32 or under bf16/fp16 (CUDA) autocast (default: the run's)"),
    device: deviceOption('cpu or cuda[:N]: where the model runs'),
  },
  footer: 'Stops on SIGTERM or Ctrl-C: stops accepting, answers the requests already accepted, exits 0.',
});

export const specs = [SERVE];

export async function run(argv: string[]): Promise<number> {
  const a = parseCommand(SERVE, argv);
  if (!a) return EXIT.ok;
  const v = a.values;
  const device = deviceFlag(v.device);
  const apiKey = v['api-key'] ?? process.env.TANDEM_API_KEY;
  if (apiKey !== undefined && apiKey === '') throw new CliError('--api-key (or TANDEM_API_KEY) is empty');
  let server;
  try {
    server = await startServer({
      run: v.run,
      checkpoint: v.checkpoint,
      host: v.host,
      port: v.port,
      maxBodyBytes: Math.round(v['max-body-mb'] * 2 ** 20),
      maxBatch: v['batch-size'] ?? v['max-batch'],
      maxWaitMs: v['max-wait-ms'],
      maxQueue: v['max-queue'],
      maxPosts: v['max-posts'],
      timeoutMs: v['timeout-ms'],
      ...(v['max-pixels'] !== undefined ? { maxPixels: v['max-pixels'] } : {}),
      ...(apiKey ? { apiKey } : {}),
      ...(v['no-access-log'] ? { accessLog: false as const } : {}),
      ...(v['always-wait'] ? { eager: false } : {}),
      ...(v.precision ? { precision: v.precision } : {}),
      ...(v.workers !== undefined ? { workers: v.workers } : {}),
      device,
    });
  } catch (e) {
    if (e instanceof CliError) throw e;
    throw new CliError(
      (e as Error).message,
      (e as NodeJS.ErrnoException).code === 'EADDRINUSE' ? EXIT.failure : EXIT.usage,
    );
  }
  console.log(`tandem serve: listening on ${server.url} (POST /predict, GET /health, /ready, /metrics)`);
  console.error(
    inProcessDecoder
      ? `tandem serve: PNG and JPEG images decoded in the process (${inProcessDecoder}), other formats by sharp`
      : 'tandem serve: images decoded by sharp (build/Release/tandem_image.node is not built: about 0.6 ms more CPU per image)',
  );
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
