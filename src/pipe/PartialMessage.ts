/**
 * One large message arriving in fragments, put together with each byte copied once.
 *
 * Its buffer, of the exact size, is allocated at once when the decoder says so (within the decoder's budget for
 * messages under way, see FrameDecoder), or else only once half of the message has come: until then the pieces are
 * held as the views of the stream's chunks they arrived in, so a peer that announces a huge message and sends
 * little makes this side hold at most twice what it sent. The pieces held by then are not copied in one go (for a
 * 64 MiB message that would stop the event loop for milliseconds): each later piece brings along the copy of as
 * many held bytes as it carries, twice over, so the held half is in place by the time the rest has come.
 */
export class PartialMessage {
  private received = 0;
  private target: Buffer | undefined;
  private held: Buffer[] = [];
  /** The first held piece not yet copied into the target, and where it goes. */
  private nextHeld = 0;
  private heldAt = 0;

  /** @param early allocate the buffer now, rather than once half the message has come */
  constructor(
    readonly total: number,
    readonly early = false,
  ) {
    if (early) this.target = Buffer.allocUnsafe(total);
  }

  get receivedBytes(): number {
    return this.received;
  }

  get isComplete(): boolean {
    return this.received === this.total;
  }

  /**
   * Adds the next `piece` of the message (never more than it still needs). Returns true if the piece is held as it
   * is, to be copied later: the caller keeps it unchanged.
   */
  add(piece: Buffer): boolean {
    const count = piece.length;
    if (this.target === undefined) {
      this.held.push(piece);
      this.received += count;
      if (2 * this.received >= this.total) this.target = Buffer.allocUnsafe(this.total);
      return true;
    }
    piece.copy(this.target, this.received);
    this.received += count;
    this.copyHeld(2 * count);
    return false;
  }

  /** Where the next `count` bytes go, for a reader that can read them there itself; undefined before the buffer exists. */
  readView(count: number): Buffer | undefined {
    return this.target?.subarray(this.received, this.received + count);
  }

  /** The next `count` bytes were read into the view readView() gave. */
  addInPlace(count: number): void {
    this.received += count;
    this.copyHeld(2 * count);
  }

  /** The whole message; call once it is complete. */
  take(): Buffer {
    this.copyHeld(Infinity);
    const message = this.target ?? Buffer.alloc(0);
    this.target = undefined;
    return message;
  }

  private copyHeld(budget: number): void {
    const target = this.target!;
    const held = this.held;
    while (this.nextHeld < held.length && budget > 0) {
      const piece = held[this.nextHeld];
      piece.copy(target, this.heldAt);
      this.heldAt += piece.length;
      budget -= piece.length;
      this.nextHeld++;
    }
    if (this.nextHeld === held.length && held.length > 0) {
      this.held = [];
      this.nextHeld = 0;
    }
  }
}
