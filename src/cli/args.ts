// Exit codes that mean something, and the error that carries one (option parsing: ./options.ts).

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
