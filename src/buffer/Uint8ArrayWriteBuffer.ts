import { Emitter, type Event } from '../common/event';
import { AbstractWriteBuffer } from './AbstractWriteBuffer';
import { BufferCommittedError, BufferWriteError } from './errors';
import { supportUsing, type Disposable } from '../common/lifecycle';
import type { CommittableWriteBuffer } from './WriteBuffer';

/** Room a buffer starts with when it is given none. Below 4 KiB, Node carves it out of a shared pool: no syscall. */
export const DEFAULT_BUFFER_SIZE = 256;

/**
 * A WriteBuffer over a Uint8Array that grows as needed. commit() hands the bytes written to the onCommit listeners.
 */
export class Uint8ArrayWriteBuffer extends AbstractWriteBuffer implements CommittableWriteBuffer, Disposable {
  /** dispose(), for `using`. */
  declare readonly [Symbol.dispose]: () => void;
  private declare commitEmitter: Emitter<Uint8Array> | undefined;

  /**
   * @param buffer the memory to write into until it is outgrown; then the bytes move to new memory twice as large.
   * @param writePosition where in `buffer` writing starts. The bytes before it are part of the message.
   */
  constructor(buffer: Uint8Array = Buffer.allocUnsafe(DEFAULT_BUFFER_SIZE), writePosition = 0) {
    if (!Number.isInteger(writePosition) || writePosition < 0 || writePosition > buffer.byteLength) {
      throw new BufferWriteError(`writePosition must be a whole number from 0 to ${buffer.byteLength}, got ${writePosition}`);
    }
    super(Buffer.isBuffer(buffer) ? buffer : Buffer.from(buffer.buffer, buffer.byteOffset, buffer.byteLength), writePosition);
    this.commitEmitter = undefined;
  }

  /** Fires once, at commit(), with the message: a view of the bytes written, which no later write changes. */
  get onCommit(): Event<Uint8Array> {
    return (this.commitEmitter ??= new Emitter<Uint8Array>()).event;
  }

  /** The bytes written so far, as a view (no copy). */
  getCurrentContents(): Uint8Array {
    return this.memory.subarray(0, this.pos);
  }

  /** Makes sure `size` more bytes fit without growing. */
  ensureCapacity(size: number): this {
    if (this.pos + size > this.memory.length) this.grow(size);
    return this;
  }

  /**
   * Abandons the message: the onCommit listeners are released and nothing is sent; a later write or commit throws.
   * A no-op after commit().
   */
  dispose(): void {
    if (this.committed) return;
    this.committed = true;
    this.commitEmitter?.dispose();
  }

  commit(): void {
    if (this.committed) throw new BufferCommittedError();
    this.committed = true;
    const emitter = this.commitEmitter;
    if (emitter) {
      emitter.fire(this.getCurrentContents());
      emitter.dispose();
    }
  }
}

supportUsing(Uint8ArrayWriteBuffer.prototype);
