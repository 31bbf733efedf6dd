// The `tandem` command: a thin dispatcher; each subcommand lives in ./commands/<name>.ts and is loaded lazily
// so that `tandem tokenize` does not pay for loading libtorch.
import { CliError, EXIT } from './args.js';
import type { CommandSpec } from './options.js';
import { didYouMean } from './suggest.js';
import { watchParent } from '../runtime/parent-watch.js';

export interface CommandModule {
  run(argv: string[]): Promise<number>;
  /** The option tables of the command (one per subcommand for `data`). */
  specs: readonly CommandSpec[];
}

export const COMMANDS: Record<string, { summary: string; load: () => Promise<CommandModule> }> = {
  normalize: {
    summary: "normalise tweets as BERTweet and the paper's code do",
    load: () => import('./commands/normalize.js'),
  },
  tokenize: {
    summary: 'tokenize text with a tokenizer.json (debugging inputs)',
    load: () => import('./commands/tokenize.js'),
  },
  preprocess: {
    summary: 'turn images into pixel_values as a Hugging Face image processor does',
    load: () => import('./commands/preprocess.js'),
  },
  forward: {
    summary: "run a model's forward pass on saved inputs and write every output (parity checks)",
    load: () => import('./commands/forward.js'),
  },
  train: {
    summary: 'fine-tune a classifier with cross-entropy + ITC + ITM',
    load: () => import('./commands/train.js'),
  },
  evaluate: { summary: 'evaluate a run on a dataset', load: () => import('./commands/evaluate.js') },
  predict: { summary: 'predict labels for posts with a trained run', load: () => import('./commands/predict.js') },
  serve: { summary: 'serve predictions of a trained run over HTTP', load: () => import('./commands/serve.js') },
  study: {
    summary:
      'run a grid of trainings (datasets × models × objectives × seeds) and report it (study run | status | report)',
    load: () => import('./commands/study.js'),
  },
  data: {
    summary: 'datasets: data formats | data synth | data inspect | data convert',
    load: () => import('./commands/data.js'),
  },
};

export function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((k) => k.length));
  const lines = Object.entries(COMMANDS).map(([k, v]) => `  ${k.padEnd(width)}  ${v.summary}`);
  return [
    'Usage: tandem <command> [options]',
    '',
    'Commands:',
    ...lines,
    '',
    'Run `tandem <command> --help` for the options of a command.',
    'Exit codes: 0 success, 1 failure, 2 bad usage or bad input, 130 interrupted (Ctrl-C), 143 terminated (SIGTERM).',
  ].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  // started by another tandem process (bin/tandem.js, a launcher, a study): end with it, whatever ends it
  watchParent();
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    console.log(usage());
    return name === undefined ? EXIT.usage : EXIT.ok;
  }
  if (name === '--version' || name === '-V') {
    const { readFileSync } = await import('node:fs');
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
      version: string;
    };
    console.log(pkg.version);
    return EXIT.ok;
  }
  const cmd = COMMANDS[name];
  if (!cmd) {
    console.error(`tandem: unknown command '${name}'${didYouMean(name, Object.keys(COMMANDS))}\n\n${usage()}`);
    return EXIT.usage;
  }
  try {
    const mod = await cmd.load();
    return await mod.run(rest);
  } catch (e) {
    if (e instanceof CliError) {
      console.error(`tandem ${name}: ${e.message}`);
      return e.exitCode;
    }
    const err = e as Error;
    console.error(`tandem ${name}: ${err.message ?? String(e)}`);
    if (process.env.TANDEM_DEBUG) console.error(err.stack);
    return EXIT.failure;
  }
}
