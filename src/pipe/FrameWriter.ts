import type { Writable } from 'stream';
import { flushAtExit, flushed } from '../common/exitFlush';
import { writeOutAtExit } from './exitWrite';
import { LANE_PIECE_SIZE, type BulkLane } from './BulkLane';
import {
  DEFAULT_FRAGMENT_SIZE,
  FRAME_HEADER_SIZE,
  LANE_MESSAGE,
  LANE_MESSAGE_HEADER_SIZE,
  LANE_RELEASE,
  LANE_RELEASE_HEADER_SIZE,
  MAX_PASSED_MESSAGES,
} from './frame';
import { BulkLaneError } from './errors';
import { FragmentQueue } from './FragmentQueue';
import { FrameWriteBuffer } from './FrameWriteBuffer';
import { WriteLog } from './WriteLog';

/** Small frames are written into slabs of this size, one after another. */
const SLAB_SIZE = 64 * 1024;
/** A slab with less room than this left is set aside, and the next small frame starts a new one. */
const MIN_SLAB_ROOM = 1024;
/** send() copies messages below this size into the slab; larger ones are written by reference. */
const COPY_BELOW = 16 * 1024;
/**
 * Fragments handed to the stream in one turn of the event loop while the OS keeps taking them at once (a fast
 * reader): past this the writer yields, so timers and incoming messages are not held up by a long write loop.
 */
const TURN_BUDGET = 1024 * 1024;
/**
 * Fragments the stream may hold not yet handed to the OS before the writer waits: enough that the OS never runs
 * dry while the writer is woken for the next one, few enough that a small message waits behind little.
 */
const AHEAD = 2;

/** The notice of one piece of a lane message (LANE_MESSAGE, frame.ts). */
function laneNotice(offset: number, total: number, size: number): Buffer {
  const notice = Buffer.allocUnsafe(LANE_MESSAGE_HEADER_SIZE);
  notice.writeUInt32BE(LANE_MESSAGE, 0);
  notice.writeUInt32BE(offset, 4);
  notice.writeUInt32BE(total, 8);
  notice.writeUInt32BE(size, 12);
  return notice;
}

/** A frame's message as views of its chunks, its header left out. */
function bodyOf(frame: FrameWriteBuffer): Uint8Array[] {
  const chunks = frame.chunks();
  const body = chunks[0].subarray(FRAME_HEADER_SIZE);
  if (body.byteLength > 0) chunks[0] = body;
  else chunks.shift();
  return chunks;
}

/** `chunks` cut into pieces of `pieceSize` bytes (the last one shorter), as views. */
function piecesOf(chunks: readonly Uint8Array[], pieceSize: number): Array<{ chunks: Uint8Array[]; size: number }> {
  const pieces: Array<{ chunks: Uint8Array[]; size: number }> = [];
  let current: Uint8Array[] = [];
  let filled = 0;
  for (const chunk of chunks) {
    for (let at = 0; at < chunk.byteLength; ) {
      const count = Math.min(chunk.byteLength - at, pieceSize - filled);
      current.push(count === chunk.byteLength ? chunk : chunk.subarray(at, at + count));
      at += count;
      filled += count;
      if (filled === pieceSize) {
        pieces.push({ chunks: current, size: filled });
        current = [];
        filled = 0;
      }
    }
  }
  if (filled > 0) pieces.push({ chunks: current, size: filled });
  return pieces;
}

/**
 * Queues outgoing frames and writes them to the stream once per tick.
 *
 * Small frames are built in place in a slab: each write buffer borrows the slab from where the last committed frame
 * ended, so the frames of one tick lie back to back and leave as one chunk, with no per-message allocation and no
 * copy. A slab is never written again once a frame in it is queued, so the stream may hold it as long as it needs.
 * Large runs inside a frame go by reference. Everything of one flush is corked, so the stream hands it to the OS
 * in one writev.
 *
 * Messages larger than the fragment size go out in fragments (see frame.ts), a fragment at a time and only once
 * the stream has handed everything before it to the OS; small frames committed meanwhile are written at once, so
 * they pass the large message and wait behind at most the one fragment under way.
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
  private readonly fragments = new FragmentQueue();
  /** Fragment bytes handed to the stream in this turn of the event loop. */
  private turnBytes = 0;
  private scheduled = false;
  private stopped = false;
  /** The end of a tick: small frames out, then fragments as far as the stream takes them. */
  private readonly tick = () => {
    this.scheduled = false;
    this.writeSmall();
    this.pump();
    this.unhookExit();
    this.onFlushed();
  };
  /** Runs when the stream has handed a write to the OS: room for the next fragment. */
  private readonly wake = () => {
    if (this.fragments.isEmpty) return;
    this.pump();
    this.unhookExit();
    this.onFlushed();
  };
  private readonly newTurn = () => {
    this.turnBytes = 0;
    this.wake();
  };
  /**
   * At process exit: everything queued goes to the stream, and what the stream cannot write before the process
   * ends is written to its descriptor synchronously (see exitWrite.ts). Hooked while anything is queued here or
   * unconfirmed by the stream.
   */
  private readonly atExit = () => {
    this.flush();
    writeOutAtExit(this.out);
  };
  /** Every write goes through the log, which keeps the bytes until the stream has written them. */
  private readonly out: WriteLog;

  /**
   * @param onFlushed runs after each scheduled flush and each step of a large message, when the stream may have
   *   taken everything
   * @param fragmentSize messages over this size go out in fragments of this size
   * @param lane messages it takes go through it, and the stream carries only where they lie
   * @param onLaneBroken the lane failed in the middle of a message, which is lost: the pipe cannot go on
   */
  constructor(
    stream: Writable,
    private readonly onFlushed: () => void = () => {},
    readonly fragmentSize: number = DEFAULT_FRAGMENT_SIZE,
    private readonly lane?: BulkLane,
    private readonly onLaneBroken: (error: BulkLaneError) => void = () => {},
  ) {
    this.out = new WriteLog(stream, () => this.unhookExit());
  }

  /** A message sent now would pass more large ones than a receiver need track (MAX_PASSED_MESSAGES): it waits. */
  private get passedTooMany(): boolean {
    return this.fragments.largeCount >= MAX_PASSED_MESSAGES;
  }

  /** Bytes accepted but not yet handed to the stream. */
  get pending(): number {
    return this.queuedBytes + this.slabUsed - this.slabQueued + this.fragments.pending;
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

  /**
   * Queues a frame committed by a buffer from createWriteBuffer(). `inOrder`: it goes out only after every large
   * message queued before it is complete, so it passes none of them.
   */
  enqueueFrame(frame: FrameWriteBuffer, inOrder = false): void {
    // A frame that left the slab was not the tenant any more: the one that is keeps borrowing.
    if (frame === this.tenant) this.tenant = undefined;
    this.schedule();
    frame.writeHeader();
    if (!this.fragments.isEmpty && (inOrder || this.passedTooMany)) {
      this.holdFrame(frame);
      return;
    }
    if (this.laneTakes(frame.size) && this.sendThroughLane(bodyOf(frame), frame.size)) return;
    // Built in place from slabUsed, it stays where it is: the common case, kept apart from the others so it is short.
    if (frame.inSlab && frame.references === undefined && frame.end - frame.start <= this.fragmentSize) {
      this.slabUsed = frame.end;
    } else if (frame.size > this.fragmentSize) {
      this.enqueueLarge(frame);
    } else {
      this.enqueueInPieces(frame);
    }
  }

  /**
   * Whether a message of `size` bytes may go through the lane now. Not while a fragmented message is under way: a
   * lane message would pass it, and only a smaller one may.
   */
  private laneTakes(size: number): boolean {
    return this.lane !== undefined && this.lane.takes(size) && this.fragments.isEmpty;
  }

  /**
   * Sends a message, given as its chunks, through the lane: false when the lane has no room (or failed), and the
   * message goes through the stream. Each piece's notice goes to the stream as soon as the piece is written, behind
   * what was queued before, so the peer reads a piece while this side writes the next.
   */
  private sendThroughLane(chunks: Uint8Array[], size: number): boolean {
    const lane = this.lane!;
    const at = lane.claim(size);
    if (at === undefined) return false;
    // New space is written whole first, so that a full tmpfs sends the message through the stream instead.
    const proven = lane.isProven(at, size);
    if (!proven && !lane.write(at, chunks, size)) {
      lane.unclaim();
      return false;
    }
    this.writeSmall();
    let done = 0;
    for (const piece of piecesOf(chunks, LANE_PIECE_SIZE)) {
      // Space written before cannot run out: a write failing there is the shared file failing under this side.
      if (proven && !lane.write(at + done, piece.chunks, piece.size)) {
        lane.unclaim();
        // The peer knows nothing of this message yet: the stream takes it.
        if (done === 0) return false;
        this.onLaneBroken(new BulkLaneError(done, size));
        return true;
      }
      this.out.write(laneNotice(at + done, size, piece.size));
      done += piece.size;
    }
    return true;
  }

  /** Queues a LANE_RELEASE (frame.ts) among the small frames. */
  enqueueLaneRelease(offset: number, size: number): void {
    const at = this.slabRoom(LANE_RELEASE_HEADER_SIZE);
    const slab = this.slab;
    slab.writeUInt32BE(LANE_RELEASE, at);
    slab.writeUInt32BE(offset, at + 4);
    slab.writeUInt32BE(size, at + 8);
    this.slabUsed = at + LANE_RELEASE_HEADER_SIZE;
    this.schedule();
  }

  /**
   * Where `bytes` written straight into the slab go, from slabUsed: a buffer still borrowing the slab moves out,
   * and a slab without that much room is set aside for a new one. The caller moves slabUsed past what it wrote.
   */
  private slabRoom(bytes: number): number {
    this.tenant?.leaveSlab();
    this.tenant = undefined;
    if (SLAB_SIZE - this.slabUsed < bytes) this.newSlab();
    return this.slabUsed;
  }

  /** A frame sent in order behind large messages under way: held, as views of its bytes, until they are done. */
  private holdFrame(frame: FrameWriteBuffer): void {
    const large = frame.size > this.fragmentSize;
    const chunks = this.takeOutOfSlab(frame, large);
    this.fragments.hold(chunks, large ? frame.size : FRAME_HEADER_SIZE + frame.size, large);
  }

  /** A frame for fragments: its message's bytes (the header left out) go to the fragment queue as views. */
  private enqueueLarge(frame: FrameWriteBuffer): void {
    this.fragments.add(frame.size, this.takeOutOfSlab(frame, true));
  }

  /**
   * A frame's chunks as views, the header left out when `withoutHeader`. If it is in the slab, the small frames
   * before it go as they are; its own bytes stay in the slab, never written over, until sent.
   */
  private takeOutOfSlab(frame: FrameWriteBuffer, withoutHeader: boolean): Uint8Array[] {
    const chunks = withoutHeader ? bodyOf(frame) : frame.chunks();
    if (frame.inSlab) {
      this.queueSlabFrames();
      this.slabUsed = frame.end;
      this.slabQueued = frame.end;
    }
    return chunks;
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
  enqueueMessage(message: Uint8Array, inOrder = false): void {
    const size = message.byteLength;
    if (!this.fragments.isEmpty && (inOrder || this.passedTooMany)) {
      if (size > this.fragmentSize) {
        this.fragments.hold([message], size, true);
      } else {
        // The caller may reuse a small message's bytes once send() returns: the held frame is a copy.
        const frame = Buffer.allocUnsafe(FRAME_HEADER_SIZE + size);
        frame.writeUInt32BE(size, 0);
        frame.set(message, FRAME_HEADER_SIZE);
        this.fragments.hold([frame], frame.length, false);
      }
    } else if (this.laneTakes(size) && this.sendThroughLane([message], size)) {
      // Written to the lane, its notices to the stream.
    } else if (size > this.fragmentSize) {
      this.fragments.add(size, [message]);
    } else if (size < COPY_BELOW) {
      const at = this.slabRoom(FRAME_HEADER_SIZE + size);
      this.slab.writeUInt32BE(size, at);
      this.slab.set(message, at + FRAME_HEADER_SIZE);
      this.slabUsed = at + FRAME_HEADER_SIZE + size;
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
    this.fragments.clear();
    this.unhookExit();
  }

  /** Hands everything queued to the stream now, the fragments of large messages too (at close, at exit). */
  flush(): void {
    this.writeSmall();
    if (!this.stopped) {
      while (!this.fragments.isEmpty) this.fragments.writeNext(this.out, this.fragmentSize, this.wake);
    }
    this.unhookExit();
  }

  /**
   * Hands everything queued to the stream, and resolves once the stream has written it all to the OS; rejects
   * with the stream's error if a write fails first.
   */
  whenWritten(): Promise<void> {
    this.flush();
    return this.out.whenWritten();
  }

  private writeSmall(): void {
    if (this.stopped) return;
    this.queueSlabFrames();
    const queue = this.queue;
    if (queue.length === 0) return;
    this.queue = [];
    this.queuedBytes = 0;
    const stream = this.out;
    // The callback tells a waiting large message when the stream has room again.
    if (queue.length === 1) {
      stream.write(queue[0], this.wake);
    } else {
      stream.cork();
      const last = queue.length - 1;
      for (let i = 0; i < last; i++) stream.write(queue[i]);
      stream.write(queue[last], this.wake);
      stream.uncork();
    }
  }

  /**
   * Writes fragments while the stream holds less than one fragment not yet handed to the OS: one more always waits
   * behind the one being written, so the OS never runs dry between two, and a small message written now waits
   * behind at most those two. Otherwise the callback of the last write (wake) brings the writer back; after
   * TURN_BUDGET bytes in one turn, the next turn does.
   */
  private pump(): void {
    const stream = this.out;
    while (!this.stopped && !this.fragments.isEmpty) {
      if (stream.writableLength >= AHEAD * this.fragmentSize || this.turnBytes >= TURN_BUDGET) return;
      if (this.turnBytes === 0) setImmediate(this.newTurn);
      this.turnBytes += this.fragments.writeNext(stream, this.fragmentSize, this.wake);
    }
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    process.nextTick(this.tick);
    flushAtExit(this.atExit);
  }

  /** Nothing left that an exit could lose: no tick to come, no fragment waiting, the stream has confirmed all. */
  private unhookExit(): void {
    if (!this.scheduled && this.fragments.isEmpty && this.out.isEmpty) flushed(this.atExit);
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
