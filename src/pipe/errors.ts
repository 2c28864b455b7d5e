export { ListenerError, MessageTooLargeError } from '../common/errors';

/** A send, or a write buffer's commit, on a pipe that has closed. */
export class PipeClosedError extends Error {
  override name = 'PipeClosedError';
  constructor(message = 'The pipe is closed: no more messages can be sent on it') {
    super(message);
  }
}

/**
 * The stream ran out inside a frame — it ended, or a read found the connection reset: the peer crashed or was cut
 * off mid-message, so the message is lost. The pipe closes with this as its error, rather than as a clean end.
 */
export class TruncatedFrameError extends Error {
  override name = 'TruncatedFrameError';
  constructor(
    /** Bytes the frame needed, its 4-byte header included (just the header's, when it ended inside the header). */
    readonly expected: number,
    /** Bytes of it that arrived. */
    readonly received: number,
    inHeader: boolean,
    cause?: Error,
  ) {
    super(
      inHeader
        ? `The stream ended inside a frame header: ${received} of its ${expected} bytes arrived, so the peer ` +
            'was cut off mid-message (it crashed, or its connection broke)'
        : `The stream ended inside a frame: ${received} of its ${expected} bytes arrived, so that message is lost ` +
            '(the peer crashed, or its connection broke, while sending it)',
      cause === undefined ? undefined : { cause },
    );
  }
}

/**
 * The peer broke the framing of large messages: a fragment of a message it never started, a message started again
 * while under way, a fragment longer than what its message still needs, more messages under way at once than a
 * receiver accepts, or a bulk-lane frame that names what the lane does not hold (or comes over a pipe without
 * one). The stream cannot be trusted past that point: the pipe reports this and closes (messages that arrived
 * whole before it were delivered).
 */
export class MalformedFrameError extends Error {
  override name = 'MalformedFrameError';
  constructor(
    /** What was wrong, in the words of the message. */
    readonly problem:
      | 'unknown-message'
      | 'restarted-message'
      | 'oversized-fragment'
      | 'too-many-messages'
      | 'unexpected-lane-frame'
      | 'bad-lane-message'
      | 'bad-lane-release',
    /** The id of the message the offending fragment named (0 for a lane frame). */
    readonly messageId: number,
    detail: string,
  ) {
    const what = problem.includes('lane') ? 'bulk-lane frame' : 'fragment sequence';
    super(`The peer sent a malformed ${what} (${detail}): closing the pipe, as its framing is lost`);
  }
}

/**
 * The bulk lane's shared file failed under a message on its way through it, after the peer had been told of its
 * first pieces: the file was cut short under this side, or its tmpfs failed. The rest of that message cannot reach
 * the peer, so the pipe closes with this error rather than leave the peer waiting for it, on the next tick or at a
 * close() before then: the messages sent before it still go out, none sent after it does. A lane that fails before
 * any piece of a message is out just turns off: that message and all later ones go through the stream.
 */
export class BulkLaneError extends Error {
  override name = 'BulkLaneError';
  constructor(
    /** Bytes of the message the peer had been told of. */
    readonly sent: number,
    /** The message's size. */
    readonly total: number,
  ) {
    super(
      `The bulk lane's shared memory failed under a message written through it (${sent} of its ${total} bytes had ` +
        'gone): that message is lost, so the pipe closes. Restart the worker; where /dev/shm is not reliable, turn ' +
        'the lane off (the bulkLane: false option, or FDPIPE_NO_BULK_LANE=1)',
    );
  }
}
