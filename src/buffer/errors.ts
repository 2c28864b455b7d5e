/** A read asked for more bytes than the message has left, or the bytes there are not a valid value. */
export class BufferReadError extends Error {
  override name = 'BufferReadError';
}

/** A write or commit on a buffer that was already committed, or disposed. */
export class BufferCommittedError extends Error {
  override name = 'BufferCommittedError';
  constructor(message = 'This WriteBuffer was already committed: get a new one for the next message') {
    super(message);
  }
}

/** A value that cannot be written as asked (a negative length, a number out of range). */
export class BufferWriteError extends RangeError {
  override name = 'BufferWriteError';
}
