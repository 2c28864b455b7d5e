import type { Writable } from 'stream';
import { flushAtExit, flushed } from '../common/exitFlush';
import { FRAME_HEADER_SIZE } from './frame';
import { FrameWriteBuffer } from './FrameWriteBuffer';

/** Small frames are written into slabs of this size, one after another. */
const SLAB_SIZE = 64 * 1024;
/** A slab with less room than this left is set aside, and the next small frame starts a new one. */
const MIN_SLAB_ROOM = 1024;
/** send() copies messages below this size into the slab; larger ones are written by reference. */
const COPY_BELOW = 16 * 1024;

/**
 * Queues outgoing frames and writes them to the stream once per tick.
 *
 * Small frames are built in place in a slab: each write buffer borrows the slab from where the last committed frame
 * ended, so the frames of one tick lie back to back and leave as one chunk, with no per-message allocation and no
 * copy. A slab is never written again once a frame in it is queued, so the stream may hold it as long as it needs.
 * Large frames, and large runs inside a frame, go by reference. Everything of one flush is corked, so the stream
 * hands it to the OS in one writev.
 */
export class FrameWriter {
  private slab = Buffer.allocUnsafeSlow(SLAB_SIZE);
  /** End of the committed frames in the slab. */
  private slabUsed = 0;
  /** Start of the slab's committed frames that are not in `queue` yet. */
  private slabQueued = 0;
  /** The uncommitted write buffer that is borrowing the slab at slabUsed, if any. */
  private tenant: FrameWriteBuffer | undefined;
  private queue: Uint8Array[] = [];
  private queuedBytes = 0;
  private scheduled = false;
  private stopped = false;
  private readonly flushBound = () => {
    flushed(this.flushBound);
    this.flush();
    this.onFlushed();
  };

  /** @param onFlushed runs after each scheduled flush, when the stream may already have taken everything. */
  constructor(
    private readonly stream: Writable,
    private readonly onFlushed: () => void = () => {},
  ) {}

  /** Bytes accepted but not yet handed to the stream. */
  get pending(): number {
    return this.queuedBytes + this.slabUsed - this.slabQueued;
  }

  /**
   * A buffer for one frame, writing straight into the slab. `send` gets the frame at commit() and must hand it to
   * enqueueFrame() (or refuse it by throwing).
   */
  createWriteBuffer(send: (frame: FrameWriteBuffer) => void): FrameWriteBuffer {
    // One borrower at a time: an earlier buffer still open (being built alongside, or abandoned) moves out.
    this.tenant?.leaveSlab();
    if (SLAB_SIZE - this.slabUsed < MIN_SLAB_ROOM) this.newSlab();
    this.tenant = new FrameWriteBuffer(this.slab, this.slabUsed, send);
    return this.tenant;
  }

  /** Queues a frame committed by a buffer from createWriteBuffer(). */
  enqueueFrame(frame: FrameWriteBuffer): void {
    // A frame that left the slab was not the tenant any more: the one that is keeps borrowing.
    if (frame === this.tenant) this.tenant = undefined;
    this.schedule();
    frame.writeHeader();
    // Built in place from slabUsed, it stays where it is: the common case, kept apart from the others so it is short.
    if (frame.inSlab && frame.references === undefined) this.slabUsed = frame.end;
    else this.enqueueInPieces(frame);
  }

  /** A frame with referenced runs, or one that left the slab: its pieces are queued in order. */
  private enqueueInPieces(frame: FrameWriteBuffer): void {
    if (!frame.inSlab) {
      for (const chunk of frame.chunks()) this.push(chunk);
      return;
    }
    // What it wrote stays in the slab, and the runs it references are queued in between.
    for (const run of frame.references ?? []) {
      this.slabUsed = frame.start + run.after;
      this.push(run.bytes);
    }
    this.slabUsed = frame.end;
  }

  /** Queues a message given as it is: copied into the slab when small, referenced when large. */
  enqueueMessage(message: Uint8Array): void {
    const size = message.byteLength;
    if (size < COPY_BELOW) {
      this.tenant?.leaveSlab();
      this.tenant = undefined;
      if (SLAB_SIZE - this.slabUsed < FRAME_HEADER_SIZE + size) this.newSlab();
      this.slab.writeUInt32BE(size, this.slabUsed);
      this.slab.set(message, this.slabUsed + FRAME_HEADER_SIZE);
      this.slabUsed += FRAME_HEADER_SIZE + size;
    } else {
      const header = Buffer.allocUnsafe(FRAME_HEADER_SIZE);
      header.writeUInt32BE(size, 0);
      this.push(header);
      this.push(message);
    }
    this.schedule();
  }

  /** Drops whatever is queued; used when the stream is gone. */
  stop(): void {
    this.stopped = true;
    this.queue = [];
    this.queuedBytes = 0;
    this.slabQueued = this.slabUsed;
  }

  /** Writes everything queued now. */
  flush(): void {
    this.scheduled = false;
    if (this.stopped) return;
    this.queueSlabFrames();
    const queue = this.queue;
    if (queue.length === 0) return;
    this.queue = [];
    this.queuedBytes = 0;
    const stream = this.stream;
    if (queue.length === 1) {
      stream.write(queue[0]);
    } else {
      stream.cork();
      for (const chunk of queue) stream.write(chunk);
      stream.uncork();
    }
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    process.nextTick(this.flushBound);
    flushAtExit(this.flushBound);
  }

  /** Adds a chunk behind the slab frames committed before it, keeping the order of frames. */
  private push(chunk: Uint8Array): void {
    this.queueSlabFrames();
    this.queue.push(chunk);
    this.queuedBytes += chunk.byteLength;
  }

  private queueSlabFrames(): void {
    if (this.slabUsed === this.slabQueued) return;
    this.queue.push(this.slab.subarray(this.slabQueued, this.slabUsed));
    this.queuedBytes += this.slabUsed - this.slabQueued;
    this.slabQueued = this.slabUsed;
  }

  /** Sets the slab aside (queued frames keep it alive until written) and starts a fresh one. */
  private newSlab(): void {
    this.queueSlabFrames();
    this.slab = Buffer.allocUnsafeSlow(SLAB_SIZE);
    this.slabUsed = 0;
    this.slabQueued = 0;
  }
}
