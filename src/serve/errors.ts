// Errors a request can get: an HTTP status and a message for the client (never a server path, never a
// command-line flag), sometimes a header such as Retry-After.
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}
