import type { Duplex } from 'stream';
import { debug, debugEnabled } from '../common/debug';
import { Emitter, Event } from '../common/event';
import { reportTo, warnUnhandled } from '../common/warn';
import { destroyAfter } from '../common/destroyAfter';
import { DisposableStore, toDisposable, type Disposable, supportUsing } from '../common/lifecycle';
import { ListenerError, MessageTooLargeError } from '../common/errors';
import type { WriteBuffer } from '../buffer/WriteBuffer';
import { type BulkLaneError, PipeClosedError, TruncatedFrameError } from './errors';
import type { BulkLane } from './BulkLane';
import { DEFAULT_FRAGMENT_SIZE, DEFAULT_MAX_MESSAGE_SIZE, MAX_FRAME_PAYLOAD, MIN_FRAGMENT_SIZE } from './frame';
import { FrameDecoder, type LaneFrames } from './FrameDecoder';
import { directReadSourceOf } from './directRead';
import type { FrameWriteBuffer } from './FrameWriteBuffer';
import { FrameWriter } from './FrameWriter';

export interface BinaryMessagePipeOptions {
  /** The largest message sent or accepted, in bytes. Default 1 GiB; at most 4 GiB − 1. */
  maxMessageSize?: number;
  /**
   * Bytes waiting to be written (queued here plus buffered in the stream) at which send() starts returning false
   * and needsDrain turns true. Default 1 MiB, and never below the stream's own writableHighWaterMark.
   */
  highWaterMark?: number;
  /**
   * Messages larger than this go out in fragments of this size, interleaved with the other messages, so a small
   * message sent after a large one waits for about one fragment instead of all of it. Default 256 KiB; at least
   * 4 KiB; `Infinity` sends every message whole. The receiver needs no setting: it takes either.
   */
  fragmentSize?: number;
  /**
   * A bulk lane shared with the peer (BulkLane.ts), which the pipe then owns and closes. IPCChannel sets it for
   * the pipe to a child forked with one, and in such a child; there is no need to make one yourself.
   */
  lane?: BulkLane;
}

/** How send() and getWriteBuffer() send a message. */
export interface SendOptions {
  /**
   * Deliver it after every message sent before it. By default a message may pass a larger one that is still under
   * way in fragments; one that ends what the earlier ones belong to (a close, a goodbye) sets this.
   */
  inOrder?: boolean;
}

/**
 * Why a pipe closed: `local` — close() was called here; `end` — the peer ended its side or went away (a reset or
 * broken pipe, then `error` holds it);
 * `error` — the stream failed (`error` says how), the peer broke the protocol, or the stream ran out inside a frame
 * (a TruncatedFrameError: the peer was cut off mid-message); `destroyed` — the stream was
 * closed under the pipe without an end.
 */
export interface PipeCloseEvent {
  reason: 'local' | 'end' | 'error' | 'destroyed';
  error?: Error;
}

const DEFAULT_HIGH_WATER_MARK = 1024 * 1024;

/**
 * Length-prefixed binary messages over any Node Duplex: each frame is a 4-byte unsigned big-endian length followed
 * by the message's bytes; a message over fragmentSize travels in fragments that other messages pass (PROTOCOL.md).
 * Either way the listener gets each message whole. Messages are delivered in the order they were sent, except that
 * a message may pass a larger one still under way: one that completes sooner is delivered sooner.
 */
export class BinaryMessagePipe implements Disposable {
  /** dispose(), for `using`. */
  declare readonly [Symbol.dispose]: () => void;
  readonly maxMessageSize: number;
  /** What the other side said it accepts at most (limitOutgoing); no limit until it says. */
  private peerLimit = Infinity;
  readonly highWaterMark: number;

  // Declared first, so the emitters can register with it as they are made. Released once onClose has fired.
  private readonly store = new DisposableStore();
  private readonly messageEmitter = this.store.add(
    new Emitter<Uint8Array>({ onListenerError: (error) => this.reportError(new ListenerError(error)) }),
  );
  private readonly closeEmitter = this.store.add(
    new Emitter<PipeCloseEvent>({ onListenerError: (error) => this.reportError(new ListenerError(error)) }),
  );
  private readonly errorEmitter = this.store.add(new Emitter<Error>({ onListenerError: warnUnhandled }));
  private readonly drainEmitter = this.store.add(
    new Emitter<void>({ onListenerError: (error) => this.reportError(new ListenerError(error)) }),
  );

  /** Each message as a view of its bytes; valid for as long as the listener keeps it (the pipe never reuses it). */
  readonly onMessage: Event<Uint8Array> = this.messageEmitter.event;
  /** Fires exactly once, after the last message. */
  readonly onClose: Event<PipeCloseEvent> = this.closeEmitter.event;
  /** Stream errors, an oversize incoming message, a listener that threw. */
  readonly onError: Event<Error> = this.errorEmitter.event;
  /** Fires when a producer that was told to wait (send() returned false) may send again. */
  readonly onDrain: Event<void> = this.drainEmitter.event;

  private readonly decoder: FrameDecoder;
  private readonly writer: FrameWriter;
  private readonly lane: BulkLane | undefined;
  private closeEvent: PipeCloseEvent | undefined;
  /** The lane failed in the middle of a message: the pipe closes with this, after what was sent before it. */
  private laneFailure: BulkLaneError | undefined;
  private drainWanted = false;
  /** whenPendingBelow()'s callers: each released once pendingBytes is at most its bytes, or the pipe closes. */
  private lowWaiters: Array<{ bytes: number; resolve: () => void }> = [];
  private readonly detach: Disposable;

  constructor(
    private readonly stream: Duplex,
    options: BinaryMessagePipeOptions = {},
  ) {
    const maxMessageSize = options.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE;
    if (!Number.isInteger(maxMessageSize) || maxMessageSize < 0 || maxMessageSize > MAX_FRAME_PAYLOAD) {
      throw new RangeError(`maxMessageSize must be a whole number from 0 to ${MAX_FRAME_PAYLOAD}, got ${maxMessageSize}`);
    }
    this.maxMessageSize = maxMessageSize;
    this.highWaterMark = Math.max(options.highWaterMark ?? DEFAULT_HIGH_WATER_MARK, stream.writableHighWaterMark ?? 0);
    const fragmentSize = options.fragmentSize ?? DEFAULT_FRAGMENT_SIZE;
    if (!(fragmentSize === Infinity || (Number.isInteger(fragmentSize) && fragmentSize >= MIN_FRAGMENT_SIZE))) {
      throw new RangeError(`fragmentSize must be a whole number of at least ${MIN_FRAGMENT_SIZE}, or Infinity, got ${fragmentSize}`);
    }

    const lane = (this.lane = options.lane);
    const laneFrames: LaneFrames | undefined = lane && {
      piece: (offset, total, size) => {
        const message = lane.readPiece(offset, total, size);
        // Read into a buffer of its own: the peer may write there again. Its pieces lie one after another.
        if (message) this.writer.enqueueLaneRelease(offset + size - total, total);
        return message;
      },
      release: (offset, size) => lane.released(offset, size),
      get pending() {
        return lane.pending;
      },
    };
    this.decoder = new FrameDecoder(
      maxMessageSize,
      // Chosen once: with tracing off, a frame pays nothing for it.
      debugEnabled
        ? (frame) => {
            debug('frame in %d B', frame.byteLength);
            this.messageEmitter.fire(frame);
          }
        : (frame) => this.messageEmitter.fire(frame),
      (size) => {
        const error = new MessageTooLargeError('incoming', size, this.decoder.limit);
        this.reportError(error);
        this.shutDown({ reason: 'error', error });
      },
      (error) => {
        this.reportError(error);
        this.shutDown({ reason: 'error', error });
      },
      laneFrames,
    );
    // A lane that breaks mid-message breaks from inside a send. What was sent before goes out now and nothing after
    // it ever does; the pipe closes once that send has returned (or at a close() before then), with the error.
    const laneBroken = (error: BulkLaneError) => {
      if (this.closeEvent || this.laneFailure) return;
      this.laneFailure = error;
      this.writer.flush();
      this.writer.stop();
      process.nextTick(() => this.shutDown({ reason: 'error', error }));
    };
    // A stream that takes a whole flush at once (the OS had room) never emits 'drain': a producer waiting since
    // before the flush is released here instead.
    this.writer = new FrameWriter(stream, () => this.maybeFireDrain(), fragmentSize, lane, laneBroken);
    if (lane?.announces) this.writer.enqueueLaneRelease(0, 0);

    // Listeners' exceptions are caught where they are called; what lands here is the decoder's own failure, such
    // as no memory for an announced frame. It ends the pipe, never the process.
    const decodeFailed = (error: unknown) => {
      const failure = error instanceof Error ? error : new Error(String(error));
      this.reportError(failure);
      this.shutDown({ reason: 'error', error: failure });
    };
    const onData = (chunk: Buffer | string) => {
      if (typeof chunk === 'string') chunk = Buffer.from(chunk);
      try {
        this.decoder.push(chunk);
      } catch (error) {
        decodeFailed(error);
      }
    };
    const onEnd = () => this.shutDown({ reason: 'end' });
    const onError = (error: Error) => {
      if (this.closeEvent) return;
      // A peer that dies mid-write resets the connection: that is the peer going away, not a fault to report.
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ECONNRESET' || code === 'EPIPE') {
        this.shutDown({ reason: 'end', error });
        return;
      }
      this.reportError(error);
      this.shutDown({ reason: 'error', error });
    };
    const onClose = () => this.shutDown({ reason: 'destroyed' });
    const onDrain = () => this.maybeFireDrain();
    // A socket made to read into the buffers the decoder names (directRead.ts) delivers no 'data'.
    const direct = directReadSourceOf(stream);
    if (direct === undefined) {
      stream.on('data', onData);
    } else {
      const decoder = this.decoder;
      const early = direct.attach({
        readBuffer: () => decoder.readBuffer(),
        pushRead(buffer, count) {
          try {
            decoder.pushRead(buffer, count);
          } catch (error) {
            decodeFailed(error);
          }
        },
      });
      for (const chunk of early) onData(chunk);
      // Flowing, so that 'end' is emitted at the end of the stream: no chunk goes through it.
      stream.resume();
    }
    stream.on('end', onEnd);
    stream.on('error', onError);
    stream.on('close', onClose);
    stream.on('drain', onDrain);
    this.detach = this.store.add(
      toDisposable(() => {
        stream.off('data', onData);
        direct?.detach();
        stream.off('end', onEnd);
        stream.off('close', onClose);
        stream.off('drain', onDrain);
        // The error listener stays: a stream can still emit an error (EPIPE after our end()) once we are closed,
        // and without a listener that would be an uncaught exception.
      }),
    );
    if (stream.destroyed) this.shutDown({ reason: 'destroyed' });
  }

  /**
   * Accepts incoming messages of at most `size` bytes until called again with undefined (back to maxMessageSize):
   * for a peer that has not proven who it is yet, so it cannot make this side allocate a large frame.
   */
  limitIncoming(size: number | undefined): void {
    this.decoder.limit = Math.min(size ?? this.maxMessageSize, this.maxMessageSize);
  }

  /**
   * The pipe's bulk lane, when it has one (a forked child's channel on Linux, PROTOCOL.md "Bulk lane"): whether
   * messages go through it now (the peer said it reads it), and how many have gone each way.
   */
  get bulkLane(): { readonly open: boolean; readonly sent: number; readonly received: number } | undefined {
    const lane = this.lane;
    return lane && { open: lane.isOpen, sent: lane.stats.sent, received: lane.stats.received };
  }

  /** The largest message this pipe accepts now. */
  get maxIncomingSize(): number {
    return this.decoder.limit;
  }

  /**
   * Sends no message over `size` bytes (nor over maxMessageSize) from now on: the other side accepts no more, and
   * would close the pipe on such a message. Such a send throws MessageTooLargeError and the pipe goes on.
   */
  limitOutgoing(size: number): void {
    this.peerLimit = Math.min(size, this.maxMessageSize);
  }

  get isClosed(): boolean {
    return this.closeEvent !== undefined;
  }

  /** Bytes sent but not yet handed to the OS. */
  get pendingBytes(): number {
    return this.writer.pending + (this.stream.writableLength ?? 0);
  }

  /** True when a well-behaved producer should wait for onDrain (or whenWritable()) before sending more. */
  get needsDrain(): boolean {
    return this.pendingBytes >= this.highWaterMark;
  }

  /**
   * Stops (true) or resumes (false) reading the stream: the peer's bytes wait in the OS, and then on its side.
   * Frames of a chunk already read are still delivered.
   */
  pauseReading(paused: boolean): void {
    if (this.closeEvent) return;
    if (paused) this.stream.pause();
    else this.stream.resume();
  }

  /** Resolves once pendingBytes is at most `bytes`, or the pipe has closed. */
  whenPendingBelow(bytes: number): Promise<void> {
    if (this.closeEvent || this.pendingBytes <= bytes) return Promise.resolve();
    return new Promise((resolve) => this.lowWaiters.push({ bytes, resolve }));
  }

  /**
   * After close(), gives the stream `graceMs` to write what is left, then destroys it: for a peer that does not
   * read, whose end() would otherwise wait forever with the bytes held. Nothing to do if it is gone already.
   */
  destroyAfter(graceMs: number): void {
    destroyAfter(this.stream, graceMs);
  }

  /** Resolves when needsDrain is false; rejects with PipeClosedError if the pipe closes first. */
  whenWritable(): Promise<void> {
    if (this.closeEvent) return Promise.reject(new PipeClosedError());
    if (!this.needsDrain) return Promise.resolve();
    this.drainWanted = true;
    return Event.race(this.onDrain, this.onClose, () => new PipeClosedError('The pipe closed while waiting for it to drain'));
  }

  /**
   * Resolves once every message sent so far has been written to the OS, so that a process.exit() then loses none
   * of them (await it before exiting); also after close(). Rejects with PipeClosedError if the stream fails or is
   * destroyed first.
   */
  flush(): Promise<void> {
    const failed =
      this.closeEvent !== undefined && this.closeEvent.reason !== 'local' && this.closeEvent.reason !== 'end';
    if (failed) return Promise.reject(this.closedError());
    return this.writer.whenWritten().catch((error: Error) => {
      const closed = this.closedError();
      closed.message = `${closed.message} (a write failed before the messages sent were written: ${error.message})`;
      throw closed;
    });
  }

  /**
   * Sends one message. The bytes are copied when small; a large message is written by reference, so leave it
   * unchanged until the pipe has drained. Returns false when the producer should wait for onDrain.
   * @throws MessageTooLargeError over maxMessageSize (nothing is written), PipeClosedError after close.
   */
  send(message: Uint8Array, options?: SendOptions): boolean {
    this.checkSendable(message.byteLength);
    this.writer.enqueueMessage(message, options?.inOrder === true);
    return this.afterSend();
  }

  /**
   * A buffer for one message whose commit() sends it. Room for the frame header is kept in front of the message,
   * so the committed bytes go out as they are, with no copy.
   */
  getWriteBuffer(options?: SendOptions): WriteBuffer {
    if (this.closeEvent) throw this.closedError();
    return this.writer.createWriteBuffer(options?.inOrder === true ? this.sendFrameInOrder : this.sendFrame);
  }

  /** Ends the stream after what was sent is written; onClose fires here at once with reason `local`. */
  close(): void {
    this.shutDown({ reason: 'local' });
  }

  dispose(): void {
    this.close();
  }

  /** A message committed by a buffer from getWriteBuffer(). */
  private readonly sendFrame = (frame: FrameWriteBuffer) => {
    this.checkSendable(frame.size);
    this.writer.enqueueFrame(frame);
    this.afterSend();
  };

  private readonly sendFrameInOrder = (frame: FrameWriteBuffer) => {
    this.checkSendable(frame.size);
    this.writer.enqueueFrame(frame, true);
    this.afterSend();
  };

  private checkSendable(size: number): void {
    if (this.closeEvent) throw this.closedError();
    if (size > this.maxMessageSize) throw new MessageTooLargeError('outgoing', size, this.maxMessageSize);
    if (size > this.peerLimit) throw new MessageTooLargeError('outgoing', size, this.peerLimit, true);
    if (debugEnabled) debug('frame out %d B', size);
  }

  private afterSend(): boolean {
    if (this.pendingBytes < this.highWaterMark) return true;
    this.drainWanted = true;
    return false;
  }

  private maybeFireDrain(): void {
    if (this.lowWaiters.length > 0) this.releaseLowWaiters(false);
    if (!this.drainWanted || this.closeEvent || this.needsDrain) return;
    this.drainWanted = false;
    this.drainEmitter.fire();
  }

  private releaseLowWaiters(all: boolean): void {
    const pending = this.pendingBytes;
    const waiting = this.lowWaiters;
    this.lowWaiters = [];
    for (const waiter of waiting) {
      if (all || pending <= waiter.bytes) waiter.resolve();
      else this.lowWaiters.push(waiter);
    }
  }

  /**
   * What send(), getWriteBuffer() and a buffer's commit() throw once the pipe has closed. A channel over the pipe
   * overrides it, so its users see the channel's error and never the pipe's.
   */
  protected closedError(): Error {
    return new PipeClosedError();
  }

  private reportError(error: Error): void {
    reportTo(this.errorEmitter, error);
  }

  private shutDown(event: PipeCloseEvent): void {
    if (this.closeEvent) return;
    // Only a read that ran out proves the frame was cut: an EPIPE (or any failed write) stops this side reading
    // while the rest of the peer's frame may still be waiting in the OS, unread; and a stream destroyed without an
    // end was destroyed here, by its owner.
    const readRanOut =
      event.reason === 'end' && (event.error === undefined || (event.error as NodeJS.ErrnoException).syscall === 'read');
    const cut = readRanOut ? this.decoder.partialFrame : undefined;
    if (cut) {
      // A peer that stops mid-frame did not leave cleanly: its last message is lost, and onClose says so.
      event = {
        reason: 'error',
        error: new TruncatedFrameError(cut.expected, cut.received, cut.inHeader, event.error),
      };
    }
    const laneFailure = this.laneFailure;
    if (laneFailure) event = { reason: 'error', error: laneFailure };
    this.closeEvent = event;
    if (debugEnabled) debug('pipe closed (%s)%s', event.reason, event.error ? `: ${event.error.message}` : '');
    // Nothing more is heard from the stream while closing; the emitters go only after onClose has fired.
    this.detach.dispose();
    this.decoder.stop();
    const stream = this.stream;
    if (event.reason === 'local' || event.reason === 'end' || laneFailure) {
      // Let what was already sent reach the peer, then release the descriptor.
      this.writer.flush();
      this.writer.stop();
      if (!stream.destroyed) {
        stream.end(() => stream.destroy());
      }
    } else {
      this.writer.stop();
      stream.destroy();
    }
    // What it carried was read into buffers of their own, and every notice of it went out with the flush above.
    this.lane?.close();
    this.releaseLowWaiters(true);
    if (laneFailure) this.reportError(laneFailure);
    this.closeEmitter.fire(event);
    this.store.dispose();
  }
}

supportUsing(BinaryMessagePipe.prototype);
