import { Uint8ArrayWriteBuffer } from '../../../buffer/Uint8ArrayWriteBuffer';

/**
 * A producer's batch of encoded items, reused from batch to batch: its length is read after every item, which
 * getCurrentContents() would answer with a new view each time.
 */
export class StagingBuffer extends Uint8ArrayWriteBuffer {
  get length(): number {
    return this.pos;
  }

  /** The bytes written, as a view; valid until the next reset(). */
  contents(): Uint8Array {
    return this.memory.subarray(0, this.pos);
  }

  /** Empties it for the next batch; memory it grew into is kept while a transport would still copy it. */
  reset(reusableUpTo: number): void {
    if (this.memory.length > reusableUpTo) this.memory = Buffer.allocUnsafe(reusableUpTo);
    this.pos = 0;
  }
}
