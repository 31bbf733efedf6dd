// Shared helpers for subcommands: argument parsing with --help, and exit codes that mean something.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { PRECISIONS, type Precision } from '../tensor/autocast.js';

export const EXIT = { ok: 0, failure: 1, usage: 2, interrupted: 130 } as const;

/** An error whose message is shown to the user without a stack trace, with the given exit code. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT.usage,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

type Options = NonNullable<ParseArgsConfig['options']>;

/**
 * Parses argv with node's util.parseArgs (strict: unknown flags are errors). Returns null when --help was
 * given (after printing the help text), so commands do `const a = parse(...); if (!a) return EXIT.ok;`.
 */
export function parse<O extends Options>(
  argv: string[],
  options: O,
  help: string,
  allowPositionals = true,
): {
  values: {
    [K in keyof O]?: O[K]['type'] extends 'boolean' ? boolean : O[K] extends { multiple: true } ? string[] : string;
  };
  positionals: string[];
} | null {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(help);
    return null;
  }
  try {
    const r = parseArgs({ args: argv, options, allowPositionals, strict: true });
    return r as never;
  } catch (e) {
    throw new CliError(`${(e as Error).message}\n\n${help}`);
  }
}

/** Parses an integer flag, naming the flag when the value is not one. */
export function intFlag(name: string, v: string | undefined, dflt?: number): number | undefined {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isInteger(n)) throw new CliError(`--${name} expects an integer, got '${v}'`);
  return n;
}

/** Parses a number flag, naming the flag when the value is not one. */
export function numFlag(name: string, v: string | undefined, dflt?: number): number | undefined {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new CliError(`--${name} expects a number, got '${v}'`);
  return n;
}

/** Parses --precision (fp32, bf16 or fp16); undefined when not given. */
export function precisionFlag(v: string | undefined): Precision | undefined {
  if (v === undefined) return undefined;
  if (!(PRECISIONS as readonly string[]).includes(v))
    throw new CliError(`--precision expects one of ${PRECISIONS.join(', ')}, got '${v}'`);
  return v as Precision;
}
