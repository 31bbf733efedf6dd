// `tandem serve`: an HTTP API that predicts with a trained run.
import { startServer } from '../../serve/server.js';
import { CliError, EXIT, intFlag, parse, precisionFlag } from '../args.js';

const HELP = `Usage: tandem serve --run runs/NAME [--host 127.0.0.1] [--port 8080]

Serves predictions of a trained run (its best checkpoint) over HTTP:
  GET  /health    {"status": "ok", "recipe", "labels", "checkpoint"}
  POST /predict   {"text": "...", "image": "<base64 image file>"} or {"posts": [{"id", "text", "image"}, ...]}
                  -> {"predictions": [{"id", "label", "probabilities": {label: p}}]}
Errors are JSON {"error": "..."} with status 400 (bad input), 404, 405, 413 (too large) or 500.

Options:
  --run R                 run folder (uses R/best) or a checkpoint folder
  --checkpoint best|last  (default best)
  --host H                interface to listen on (default 127.0.0.1)
  --port N                port (default 8080; 0 picks a free one)
  --max-body-mb N         largest request body in MiB (default 20)
  --batch-size N          posts per forward pass (default 32)
  --precision fp32|bf16|fp16  forward passes in fp32 (default) or under bf16/fp16 (CUDA) autocast
Stops on Ctrl-C or SIGTERM.`;

export async function run(argv: string[]): Promise<number> {
  const a = parse(
    argv,
    {
      run: { type: 'string' },
      checkpoint: { type: 'string' },
      host: { type: 'string' },
      port: { type: 'string' },
      'max-body-mb': { type: 'string' },
      'batch-size': { type: 'string' },
      precision: { type: 'string' },
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
  let server;
  try {
    server = await startServer({
      run: v.run,
      checkpoint,
      host: v.host ?? '127.0.0.1',
      port,
      maxBodyBytes: intFlag('max-body-mb', v['max-body-mb'], 20)! * 2 ** 20,
      batchSize: intFlag('batch-size', v['batch-size'], 32)!,
      precision: precisionFlag(v.precision),
    });
  } catch (e) {
    throw new CliError(
      (e as Error).message,
      (e as NodeJS.ErrnoException).code === 'EADDRINUSE' ? EXIT.failure : EXIT.usage,
    );
  }
  console.log(`tandem serve: listening on ${server.url} (POST /predict, GET /health)`);
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await server.close();
  return EXIT.ok;
}
