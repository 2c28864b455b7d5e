/** A send, or a write buffer's commit, on a pipe that has closed. */
export class PipeClosedError extends Error {
  override name = 'PipeClosedError';
  constructor(message = 'The pipe is closed: no more messages can be sent on it') {
    super(message);
  }
}

/**
 * A message over the pipe's maxMessageSize. Outgoing: thrown by send() before anything is written, and the pipe
 * stays usable. Incoming: reported through onError, and the pipe closes without allocating for the message.
 */
export class MessageTooLargeError extends RangeError {
  override name = 'MessageTooLargeError';
  constructor(
    readonly direction: 'outgoing' | 'incoming',
    readonly size: number,
    readonly maxMessageSize: number,
  ) {
    super(
      direction === 'outgoing'
        ? `Cannot send a message of ${size} bytes: the pipe's maxMessageSize is ${maxMessageSize} bytes`
        : `The peer announced a message of ${size} bytes, over this pipe's maxMessageSize of ${maxMessageSize} ` +
            'bytes: closing the pipe',
    );
  }
}

/** A listener (of messages, close or drain) threw; the others still ran and the pipe or channel goes on. */
export class ListenerError extends Error {
  override name = 'ListenerError';
  constructor(readonly error: unknown) {
    super(`A listener threw: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
}
