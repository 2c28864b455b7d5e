import type { Duplex, Readable, Writable } from 'stream';
import { NoChannelPipeError } from '../channel/errors';
import { BinaryMessagePipe as CoreBinaryMessagePipe, type BinaryMessagePipeOptions } from '../pipe/BinaryMessagePipe';

/** What a stdio slot of a ChildProcess is typed as: `childProcess.stdio[4]` can be given as it is. */
export type StdioStream = Duplex | Readable | Writable | null | undefined;

/**
 * Theia's BinaryMessagePipe is fdpipe's: onMessage, send(message), dispose(), over any Duplex, plus fdpipe's
 * onClose, onError, backpressure and write buffers. It frames messages with fdpipe's 4-byte length header (PROTOCOL.md),
 * not with Theia's start marker.
 */
export class BinaryMessagePipe extends CoreBinaryMessagePipe {
  /** @throws NoChannelPipeError when `underlyingPipe` is not a two-way stream (a child forked without fd 4) */
  constructor(underlyingPipe: StdioStream, options?: BinaryMessagePipeOptions) {
    if (!isDuplex(underlyingPipe)) {
      throw new NoChannelPipeError(
        "A BinaryMessagePipe needs a two-way stream: fork the child with stdio ['pipe', 'pipe', 'pipe', 'ipc', 'pipe']",
      );
    }
    super(underlyingPipe, options);
  }
}

function isDuplex(stream: StdioStream): stream is Duplex {
  return (
    typeof stream === 'object' &&
    stream !== null &&
    typeof (stream as Partial<Duplex>).write === 'function' &&
    typeof (stream as Partial<Duplex>).read === 'function'
  );
}
