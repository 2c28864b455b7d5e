import { FRAME_HEADER_SIZE } from './frame';

/**
 * Turns a stream of chunks into frames (4-byte big-endian length, then that many bytes), whatever the chunking.
 *
 * A frame lying whole inside a chunk is handed on as a view of that chunk, with no copy. A frame that spans chunks
 * gets one buffer of its exact size as soon as its header is known, and each chunk is copied into it once: no
 * re-concatenation, so a 64 MiB frame arriving in 64 KiB pieces costs one copy. A header split across chunks is
 * collected in a 4-byte scratch buffer.
 */
export class FrameDecoder {
  private readonly header = Buffer.alloc(FRAME_HEADER_SIZE);
  private headerFilled = 0;
  private target: Buffer | undefined;
  private targetFilled = 0;
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
  }

  /** Bytes of a partly received frame being held, header included. */
  get pendingBytes(): number {
    return this.headerFilled + this.targetFilled;
  }

  /**
   * Where the stream stands inside a frame it has not finished, if it does: the bytes the frame needs (header
   * included; just the header's while the header itself is incomplete) and how many of them came.
   */
  get partialFrame(): { inHeader: boolean; expected: number; received: number } | undefined {
    if (this.target) {
      return { inHeader: false, expected: FRAME_HEADER_SIZE + this.target.length, received: FRAME_HEADER_SIZE + this.targetFilled };
    }
    if (this.headerFilled > 0) return { inHeader: true, expected: FRAME_HEADER_SIZE, received: this.headerFilled };
    return undefined;
  }

  push(chunk: Buffer): void {
    const end = chunk.length;
    let offset = 0;
    while (offset < end && !this.stopped) {
      const target = this.target;
      if (target) {
        const count = Math.min(end - offset, target.length - this.targetFilled);
        chunk.copy(target, this.targetFilled, offset, offset + count);
        this.targetFilled += count;
        offset += count;
        if (this.targetFilled === target.length) {
          this.target = undefined;
          this.targetFilled = 0;
          this.onFrame(target);
        }
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
        this.target = Buffer.allocUnsafe(size);
        this.targetFilled = 0;
      }
    }
  }
}
