/** A client's first message was a context that could not be read; the connection is closed. */
export class MalformedContextError extends Error {
  override name = 'MalformedContextError';
  constructor(cause: unknown) {
    super(`The client's context could not be read: ${cause instanceof Error ? cause.message : String(cause)}`, {
      cause,
    });
  }
}

/** The first message on a server's connection was not a client's context: the other side is not an IPCClient. */
export class NotAClientError extends Error {
  override name = 'NotAClientError';
  constructor() {
    super('The first message was not an IPCClient context: closing the connection');
  }
}
