// `tandem serve`: an HTTP API that predicts with a trained run.
import { SERVE_DEFAULTS, startServer } from '../../serve/server.js';
import { CliError, EXIT } from '../args.js';
import { defineCommand, parseCommand } from '../options.js';

export const SERVE = defineCommand({
  name: 'serve',
  usage: ['tandem serve --run runs/NAME [--host 127.0.0.1] [--port 8080]'],
  description: `Serves predictions of a trained run (its best checkpoint) over HTTP:
  GET  /health    {"status": "ok", "recipe", "labels", "checkpoint"}
  POST /predict   {"text": "...", "image": "<base64 image file>"} or {"posts": [{"id", "text", "image"}, ...]}
                  -> {"predictions": [{"id", "label", "probabilities": {label: p}}]}
Errors are JSON {"error": "..."} with status 400 (bad input), 404, 405, 413 (too large) or 500.`,
  options: {
    run: { type: 'string', required: true, placeholder: 'R', help: 'run folder (uses R/best) or a checkpoint folder' },
    checkpoint: { type: 'enum', choices: ['best', 'last'], default: 'best', help: 'which checkpoint of a run folder' },
    host: { type: 'string', default: SERVE_DEFAULTS.host, placeholder: 'H', help: 'interface to listen on' },
    port: { type: 'int', default: SERVE_DEFAULTS.port, min: 0, max: 65535, help: 'port (0 picks a free one)' },
    'max-body-mb': { type: 'number', default: SERVE_DEFAULTS.maxBodyMiB, min: 0, help: 'largest request body in MiB' },
    'batch-size': { type: 'int', default: SERVE_DEFAULTS.batchSize, min: 1, help: 'posts per forward pass' },
  },
  footer: 'Stops on Ctrl-C or SIGTERM.',
});

export const specs = [SERVE];

export async function run(argv: string[]): Promise<number> {
  const a = parseCommand(SERVE, argv);
  if (!a) return EXIT.ok;
  const v = a.values;
  let server;
  try {
    server = await startServer({
      run: v.run,
      checkpoint: v.checkpoint,
      host: v.host,
      port: v.port,
      maxBodyBytes: Math.round(v['max-body-mb'] * 2 ** 20),
      batchSize: v['batch-size'],
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
