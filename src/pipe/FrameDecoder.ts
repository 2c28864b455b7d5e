import { FRAME_HEADER_SIZE } from './frame';

/**
 * Frames up to this size get their buffer as soon as their header is known: what a stranger can make this side
 * reserve with one header is bounded by it, and below it the early buffer is worth its speed (a 1 MiB echo ran
 * 8% slower when it waited for half its bytes).
 */
const ALLOCATE_AT_ONCE_UP_TO = 4 * 1024 * 1024;

/**
 * Turns a stream of chunks into frames (4-byte big-endian length, then that many bytes), whatever the chunking.
 *
 * A frame lying whole inside a chunk is handed on as a view of that chunk, with no copy. A frame that spans chunks
 * is assembled in one buffer of its exact size, each byte copied into it once: no re-concatenation, so a 64 MiB
 * frame arriving in 64 KiB pieces costs one copy. A large frame's buffer is allocated only once half of it has
 * come (the pieces until then are held as they arrived), so a peer that announces a large frame and sends nothing
 * makes this side hold no more than twice what it really sent. A header split across chunks is collected in a
 * 4-byte scratch buffer.
 */
export class FrameDecoder {
  private readonly header = Buffer.alloc(FRAME_HEADER_SIZE);
  private headerFilled = 0;
  /** The size of the frame whose body is arriving, or -1 between frames. */
  private bodySize = -1;
  private bodyFilled = 0;
  /** The frame's buffer, once allocated. */
  private target: Buffer | undefined;
  /** The body's pieces as they came, until the buffer is allocated. */
  private pieces: Buffer[] = [];
  private stopped = false;

  constructor(
    /** Frames announced larger than this stop decoding; the owner may lower it for a peer it does not trust yet. */
    public limit: number,
    private readonly onFrame: (frame: Uint8Array) => void,
    private readonly onOversize: (size: number) => void,
  ) {}

  /** Stops decoding: frames still in the current chunk are dropped. */
  stop(): void {
    this.stopped = true;
    this.target = undefined;
    this.pieces = [];
    // Nothing is held any more: partialFrame and pendingBytes say so.
    this.bodySize = -1;
    this.bodyFilled = 0;
    this.headerFilled = 0;
  }

  /** Bytes of a partly received frame being held, header included. */
  get pendingBytes(): number {
    return this.bodySize >= 0 ? FRAME_HEADER_SIZE + this.bodyFilled : this.headerFilled;
  }

  /**
   * Where the stream stands inside a frame it has not finished, if it does: the bytes the frame needs (header
   * included; just the header's while the header itself is incomplete) and how many of them came.
   */
  get partialFrame(): { inHeader: boolean; expected: number; received: number } | undefined {
    if (this.bodySize >= 0) {
      return { inHeader: false, expected: FRAME_HEADER_SIZE + this.bodySize, received: FRAME_HEADER_SIZE + this.bodyFilled };
    }
    if (this.headerFilled > 0) return { inHeader: true, expected: FRAME_HEADER_SIZE, received: this.headerFilled };
    return undefined;
  }

  push(chunk: Buffer): void {
    const end = chunk.length;
    let offset = 0;
    while (offset < end && !this.stopped) {
      if (this.bodySize >= 0) {
        offset = this.takeBody(chunk, offset);
        continue;
      }

      let size: number;
      if (this.headerFilled === 0 && end - offset >= FRAME_HEADER_SIZE) {
        size = chunk.readUInt32BE(offset);
        offset += FRAME_HEADER_SIZE;
      } else {
        const count = Math.min(end - offset, FRAME_HEADER_SIZE - this.headerFilled);
        chunk.copy(this.header, this.headerFilled, offset, offset + count);
        this.headerFilled += count;
        offset += count;
        if (this.headerFilled < FRAME_HEADER_SIZE) return;
        this.headerFilled = 0;
        size = this.header.readUInt32BE(0);
      }

      if (size > this.limit) {
        this.stop();
        this.onOversize(size);
        return;
      }
      if (end - offset >= size) {
        const frame = chunk.subarray(offset, offset + size);
        offset += size;
        this.onFrame(frame);
      } else {
        this.bodySize = size;
        this.bodyFilled = 0;
        if (size <= ALLOCATE_AT_ONCE_UP_TO) this.target = Buffer.allocUnsafe(size);
      }
    }
  }

  /** Takes what `chunk` holds of the body under way, from `offset`; returns where the chunk's next frame starts. */
  private takeBody(chunk: Buffer, offset: number): number {
    const size = this.bodySize;
    const count = Math.min(chunk.length - offset, size - this.bodyFilled);
    if (this.target) {
      chunk.copy(this.target, this.bodyFilled, offset, offset + count);
    } else {
      // Held as a view: a stream's chunk is the reader's to keep, so nothing is copied twice.
      this.pieces.push(chunk.subarray(offset, offset + count));
      if (2 * (this.bodyFilled + count) >= size) this.allocateTarget();
    }
    this.bodyFilled += count;
    if (this.bodyFilled === size) {
      const frame = this.target!;
      this.target = undefined;
      this.bodySize = -1;
      this.bodyFilled = 0;
      this.onFrame(frame);
    }
    return offset + count;
  }

  private allocateTarget(): void {
    const target = Buffer.allocUnsafe(this.bodySize);
    let at = 0;
    for (const piece of this.pieces) {
      piece.copy(target, at);
      at += piece.length;
    }
    this.pieces = [];
    this.target = target;
  }
}
