// Exit codes that mean something, and the error that carries one (option parsing: ./options.ts).
import { constants } from 'node:os';

export const EXIT = { ok: 0, failure: 1, usage: 2, interrupted: 130 } as const;

/** The conventional exit code of a process that stopped because of a signal: 128 + its number. */
export function signalExitCode(signal: NodeJS.Signals): number {
  return 128 + constants.signals[signal];
}

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
