// Shared helpers for subcommands: argument parsing with --help, and exit codes that mean something.
import { parseArgs, type ParseArgsConfig } from 'node:util';

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

/** The flags of an option table as parseArgs gives them: boolean, string, or string[] when `multiple`. */
export interface ParsedArgs<O extends Options> {
  values: {
    [K in keyof O]?: O[K]['type'] extends 'boolean' ? boolean : O[K] extends { multiple: true } ? string[] : string;
  };
  positionals: string[];
}

/**
 * Parses argv with node's util.parseArgs (strict: unknown flags are errors). Returns null when --help was
 * given (after printing the help text), so commands do `const a = parse(...); if (!a) return EXIT.ok;`.
 */
export function parse<O extends Options>(
  argv: string[],
  options: O,
  help: string,
  allowPositionals = true,
): ParsedArgs<O> | null {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(help);
    return null;
  }
  try {
    const { values, positionals } = parseArgs({ args: argv, options, allowPositionals, strict: true });
    // node's typings cannot resolve the value types for a table only known as a type parameter here.
    return { values: values as ParsedArgs<O>['values'], positionals };
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
