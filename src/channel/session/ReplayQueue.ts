/**
 * The DATA frames a session has sent and the peer has not acknowledged yet, oldest first, numbered from 1 in the
 * order they were committed. They are what a resumed session sends again.
 */
export class ReplayQueue {
  private items: Uint8Array[] = [];
  /** Whether each frame was sent in order (behind the large frames before it), as it must be sent again. */
  private inOrder: boolean[] = [];
  private head = 0;
  /** Frames committed in the whole session. */
  private sentCount = 0;
  /** Frames the peer has acknowledged: the first `acked` of them. */
  private ackedCount = 0;
  private heldBytes = 0;

  get sent(): number {
    return this.sentCount;
  }

  get acked(): number {
    return this.ackedCount;
  }

  /** Bytes held for replay. */
  get bytes(): number {
    return this.heldBytes;
  }

  push(frame: Uint8Array, inOrder: boolean): void {
    this.items.push(frame);
    this.inOrder.push(inOrder);
    this.sentCount++;
    this.heldBytes += frame.byteLength;
  }

  /**
   * The peer has the first `count` frames: they are let go. A count below what it acknowledged before, or above
   * what was sent, is refused (returns false) and changes nothing.
   */
  acknowledge(count: number): boolean {
    if (count < this.ackedCount || count > this.sentCount) return false;
    while (this.ackedCount < count) {
      this.heldBytes -= this.items[this.head].byteLength;
      this.items[this.head++] = EMPTY;
      this.ackedCount++;
    }
    // Compacted once the dead front outweighs the live rest, so acknowledging costs O(1) amortized.
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.inOrder = this.inOrder.slice(this.head);
      this.head = 0;
    }
    return true;
  }

  /** Every frame not acknowledged, oldest first, with whether it was sent in order. */
  *unacknowledged(): Iterable<[frame: Uint8Array, inOrder: boolean]> {
    for (let i = this.head; i < this.items.length; i++) yield [this.items[i], this.inOrder[i]];
  }

  clear(): void {
    this.items = [];
    this.inOrder = [];
    this.head = 0;
    this.heldBytes = 0;
  }
}

const EMPTY = new Uint8Array(0);
