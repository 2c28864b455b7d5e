import { writeSync } from 'fs';
import type { Writable } from 'stream';
import type { WriteLog } from './WriteLog';

// At process exit the event loop never runs again: bytes a socket still holds (in Node's write queue or libuv's)
// would never be written, and the peer would see its last messages cut off. So at 'exit' the bytes the stream has
// not written yet are written straight to its descriptor, synchronously, waiting for a reader that is slow to make
// room, up to a deadline. Whatever cannot be written is reported on stderr: a loss is never silent.

/** How long an exiting process waits for a reader that takes nothing: it is stalled, gone, or in this process. */
export const EXIT_STALL_MS = 1000;
/** How long an exiting process waits in all, however steadily its readers take what it still has to write. */
export const EXIT_WRITE_TIMEOUT_MS = 10000;

const sleeper = new Int32Array(new SharedArrayBuffer(4));
/** One deadline for the whole exit, however many streams have something left. */
let deadline: number | undefined;

/** 'stalled' when the reader took nothing for EXIT_STALL_MS, 'late' at the overall deadline. */
type Outcome = number | 'gone' | 'stalled' | 'late';

/** Internals of a net.Socket this relies on, read with care: anything missing means "not known". */
interface SocketInternals {
  _writableState?: { writing?: unknown; writelen?: unknown };
  _handle?: { fd?: unknown; writeQueueSize?: unknown } | null;
}

/**
 * Bytes handed to the stream that it has not given to the OS: everything it holds, less what the OS already took
 * of the write under way (libuv's write queue size is what is left of that write). Undefined when not known.
 */
function unwrittenBytes(stream: Writable): number | undefined {
  const length = stream.writableLength;
  if (length === 0) return 0;
  const { _writableState: state, _handle: handle } = stream as unknown as SocketInternals;
  if (!state || !handle || typeof state.writelen !== 'number' || typeof handle.writeQueueSize !== 'number') {
    return undefined;
  }
  return state.writing ? length - (state.writelen - handle.writeQueueSize) : length;
}

function descriptorOf(stream: Writable): number | undefined {
  const fd = (stream as unknown as SocketInternals)._handle?.fd;
  return typeof fd === 'number' && fd >= 0 ? fd : undefined;
}

/**
 * Writes `chunks` to `fd` in order; returns the byte count when all went, else why it stopped (the bytes written
 * then are `written.count`).
 */
function writeAll(fd: number, chunks: readonly Uint8Array[], written: { count: number }): Outcome {
  let lastProgress = Date.now();
  for (const chunk of chunks) {
    let offset = 0;
    while (offset < chunk.byteLength) {
      try {
        const n = writeSync(fd, chunk, offset, chunk.byteLength - offset);
        offset += n;
        written.count += n;
        lastProgress = Date.now();
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code !== 'EAGAIN' && code !== 'EWOULDBLOCK') return 'gone';
        const now = Date.now();
        if (now - lastProgress >= EXIT_STALL_MS) return 'stalled';
        if (now >= (deadline ??= now + EXIT_WRITE_TIMEOUT_MS)) return 'late';
        // The reader has not made room yet: sleep a millisecond rather than spin.
        Atomics.wait(sleeper, 0, 0, 1);
      }
    }
  }
  return written.count;
}

function report(lost: number, where: string, why: string): void {
  const message =
    `fdpipe: ${lost} bytes of messages sent on ${where} were lost when the process exited (${why}). ` +
    'Let the channel flush before exiting: await channel.flush(), then call process.exit().\n';
  try {
    writeSync(2, message);
  } catch {
    // No stderr either: nothing more can be done.
  }
}

/**
 * At exit: writes what `log`'s stream has not written yet straight to its descriptor. A stream destroyed on
 * purpose, or whose peer has gone, has nothing to deliver and nobody to tell.
 */
export function writeOutAtExit(log: WriteLog): void {
  const stream = log.stream;
  if (stream.destroyed) return;
  const unwritten = unwrittenBytes(stream);
  if (unwritten === 0) return;
  const fd = descriptorOf(stream);
  const where = fd === undefined ? 'a stream' : `fd ${fd}`;
  if (fd === undefined || unwritten === undefined || unwritten > log.bytes) {
    report(stream.writableLength, where, 'the stream has no descriptor to write them to synchronously');
    return;
  }
  const written = { count: 0 };
  const outcome = writeAll(fd, log.tail(unwritten), written);
  if (typeof outcome === 'number' || outcome === 'gone') return;
  const why =
    outcome === 'stalled'
      ? `the other side took none of them for ${EXIT_STALL_MS} ms`
      : `the other side had not taken them all after ${EXIT_WRITE_TIMEOUT_MS} ms`;
  report(unwritten - written.count, where, why);
}
