// Errors that more than one layer raises or handles. Each layer keeps the errors only it raises; these live here
// so that a layer can recognise them without importing a layer it does not build on.

/** A listener (of messages, close or drain) threw; the others still ran and the pipe or channel goes on. */
export class ListenerError extends Error {
  override name = 'ListenerError';
  constructor(readonly error: unknown) {
    super(`A listener threw: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
}

/**
 * A message over the pipe's maxMessageSize. Outgoing: thrown by send() or commit() before anything is written,
 * and the pipe (and a channel over it) stays usable. Incoming: reported through onError, and the pipe closes
 * without allocating for the message.
 */
export class MessageTooLargeError extends RangeError {
  override name = 'MessageTooLargeError';
  constructor(
    readonly direction: 'outgoing' | 'incoming',
    readonly size: number,
    readonly maxMessageSize: number,
    /** Outgoing: the limit is the other side's, which it told this one. */
    readonly peerLimit = false,
  ) {
    super(
      direction === 'outgoing'
        ? peerLimit
          ? `Cannot send a message of ${size} bytes: the other side accepts at most ${maxMessageSize} bytes (its ` +
            'maxMessageSize); nothing was sent and the connection goes on'
          : `Cannot send a message of ${size} bytes: the pipe's maxMessageSize is ${maxMessageSize} bytes`
        : `The peer announced a message of ${size} bytes, over this pipe's maxMessageSize of ${maxMessageSize} ` +
            'bytes: closing the pipe',
    );
  }
}
