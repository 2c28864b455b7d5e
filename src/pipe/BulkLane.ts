import { closeSync, readSync, writevSync } from 'fs';
import { LaneSpace } from './LaneSpace';

/**
 * Messages from this size up to LANE_MESSAGE_UP_TO go through a pipe's bulk lane, when it has one: those the stream
 * would otherwise carry in fragments (frame.ts's default fragment size).
 */
export const LANE_MESSAGE_FROM = 256 * 1024;
/** The largest message that goes through a bulk lane; larger ones go in fragments through the stream. */
export const LANE_MESSAGE_UP_TO = 2 * 1024 * 1024;
/** Each side's region of a lane: room for a few of its largest messages in flight at once. */
export const LANE_REGION_SIZE = 4 * 1024 * 1024;
/**
 * A lane message is written in pieces of this size, each announced as soon as it is written, so the receiver reads
 * one piece while the next is written: the two copies overlap, as they do over a socket.
 */
export const LANE_PIECE_SIZE = 128 * 1024;

/** The two ends of a lane: the side that made it writes the first region, the other the second. */
export type LaneSide = 'maker' | 'joiner';

/**
 * One end of a bulk lane: a file in shared memory (tmpfs) that both processes of a pipe have open, made by the
 * parent for a child it forks. A message in the lane's size range is written into this side's region of the file,
 * a piece at a time, and the stream carries only a 16-byte notice of each piece (LANE_MESSAGE); the receiver reads
 * each piece into the message's own buffer as its notice comes, and gives the space back once it has the whole
 * message (LANE_RELEASE).
 *
 * Why: a socket pair takes about 200 KiB at a time, so a 1 MiB message over it is half a dozen wake-ups of each
 * side, each a copy into the kernel and one out. Through the lane it is one copy in and one copy out, into pages
 * of shared memory that were written before, and the writer never waits for the reader.
 *
 * The lane is an optimisation the stream does not depend on: until the peer says it reads the lane, when the
 * region is full, or after a write to it failed (a full tmpfs), messages go through the stream as before.
 */
export class BulkLane {
  private readonly space: LaneSpace;
  /** The maker's peer says first that it reads the lane (an empty LANE_RELEASE). */
  readonly announces: boolean;
  private readonly ownBase: number;
  private readonly peerBase: number;
  private peerReads: boolean;
  /** How far into this side's region messages have been written: tmpfs holds those pages. */
  private provenUpTo = 0;
  /** The peer's message whose pieces are arriving. */
  private incoming: { start: number; total: number; received: number; message: Buffer } | undefined;
  private failed = false;
  private closed = false;
  /** Messages this end has sent and received through the lane. */
  readonly stats = { sent: 0, received: 0 };

  /**
   * @param fd the lane file, open for reading and writing, 2 × regionSize long; this end closes it
   * @param peerReads whether the other side is known to read the lane already (the maker's peer says so first)
   */
  constructor(
    readonly fd: number,
    readonly regionSize: number,
    side: LaneSide,
    peerReads: boolean,
  ) {
    this.space = new LaneSpace(regionSize);
    this.announces = side === 'joiner';
    this.ownBase = side === 'maker' ? 0 : regionSize;
    this.peerBase = side === 'maker' ? regionSize : 0;
    this.peerReads = peerReads;
  }

  /** The peer's message whose pieces are arriving, if one is: its size, and how much of it has come. */
  get pending(): { readonly total: number; readonly received: number } | undefined {
    return this.incoming;
  }

  /** Whether the peer has said it reads the lane, and no write to it failed: messages may go through it. */
  get isOpen(): boolean {
    return this.peerReads && !this.failed && !this.closed;
  }

  /** Whether a message of `size` bytes may go through the lane now (it may still find no room). */
  takes(size: number): boolean {
    return this.isOpen && size >= LANE_MESSAGE_FROM && size <= LANE_MESSAGE_UP_TO;
  }

  /**
   * Room for a message of `size` bytes in this side's region: where it starts, or undefined when there is none now.
   * Give it back with unclaim() if it is not written after all.
   */
  claim(size: number): number | undefined {
    const at = this.space.claim(size);
    if (at !== undefined) this.stats.sent++;
    return at;
  }

  unclaim(): void {
    this.space.unclaim();
    this.stats.sent--;
  }

  /**
   * Whether the run from `at` of `size` bytes lies in space written before: tmpfs then already holds its pages, so
   * a write there cannot fail for want of space. A message into new space is written whole before its notices go.
   */
  isProven(at: number, size: number): boolean {
    return at + size <= this.provenUpTo;
  }

  /**
   * Writes `size` bytes, given as chunks, at `at` in this side's region; false if the write failed (a full tmpfs):
   * the lane is then off for good, and messages go through the stream.
   */
  write(at: number, chunks: readonly Uint8Array[], size: number): boolean {
    try {
      if (writevSync(this.fd, chunks as Uint8Array[], this.ownBase + at) === size) {
        if (at + size > this.provenUpTo) this.provenUpTo = at + size;
        return true;
      }
    } catch {
      // ENOSPC, most likely: the stream is always there.
    }
    this.failed = true;
    return false;
  }

  /**
   * A piece of the peer's message (`size` bytes at `offset` of its region, of a message of `total` bytes), read
   * into the message's buffer: the whole message once its last piece has come, undefined until then, false when
   * the piece does not follow the one before or lies outside the region (the peer broke the protocol).
   */
  readPiece(offset: number, total: number, size: number): Buffer | undefined | false {
    // Every piece carries bytes: lane messages are never small, and an empty piece would be answered for nothing.
    if (size === 0) return false;
    let incoming = this.incoming;
    if (incoming === undefined) {
      if (this.closed || offset + total > this.regionSize || size > total) return false;
      incoming = this.incoming = { start: offset, total, received: 0, message: Buffer.allocUnsafe(total) };
    } else if (total !== incoming.total || offset !== incoming.start + incoming.received || size > total - incoming.received) {
      return false;
    }
    const { message } = incoming;
    let filled = incoming.received;
    const end = filled + size;
    while (filled < end) {
      const count = readSync(this.fd, message, filled, end - filled, this.peerBase + incoming.start + filled);
      if (count === 0) return false;
      filled += count;
    }
    incoming.received = end;
    if (end < total) return undefined;
    this.incoming = undefined;
    this.stats.received++;
    return message;
  }

  /**
   * The peer gave back the run at `offset` of `size` bytes (or, with both 0, said it reads the lane); false when it
   * gave back what this side has not claimed, or not in order.
   */
  released(offset: number, size: number): boolean {
    if (offset === 0 && size === 0) {
      this.peerReads = true;
      return true;
    }
    return this.space.release(offset, size);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      closeSync(this.fd);
    } catch {
      // Closed already: nothing is lost.
    }
  }
}
