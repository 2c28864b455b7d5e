import { BufferCommittedError, BufferWriteError } from './errors';
import { encodeShortUtf8, SHORT_STRING_UNITS } from './utf8';
import { encodeVarint, MAX_VARINT_BYTES } from './varint';
import type { WriteBuffer } from './WriteBuffer';

/**
 * The encodings of a WriteBuffer, written into a Node Buffer from a position on. Subclasses say what commit() does
 * with the message, and may say how to make room when the memory runs out (grow).
 *
 * Transports build a buffer per message, so building one must be cheap. That is why the fields here and in the
 * subclasses are `declare`d and set in the constructor: class fields make V8 run an initializer function per class
 * for every object, which measured 10-15% slower on the pipe's small messages.
 */
export abstract class AbstractWriteBuffer implements WriteBuffer {
  /** Where the bytes are written; grow() may swap it for a larger one. */
  protected declare memory: Buffer;
  /** Where the next byte goes in `memory`. */
  protected declare pos: number;
  protected declare committed: boolean;

  constructor(memory: Buffer, pos: number) {
    this.memory = memory;
    this.pos = pos;
    this.committed = false;
  }

  get isCommitted(): boolean {
    return this.committed;
  }

  abstract commit(): void;

  /**
   * Leaves room in `memory` for `size` more bytes from `pos`; called only when they do not fit. By default the
   * message moves to new memory, twice as large, in place of the old.
   */
  protected grow(size: number): void {
    const grown = Buffer.allocUnsafe(Math.max(this.pos + size, this.memory.length * 2));
    this.memory.copy(grown, 0, 0, this.pos);
    this.memory = grown;
  }

  /** Makes room for `size` more bytes and returns the offset to write them at. */
  protected reserve(size: number): number {
    if (this.committed) throw new BufferCommittedError();
    if (this.pos + size > this.memory.length) this.grow(size);
    return this.pos;
  }

  writeUint8(value: number): this {
    checkUint(value, 0xff, 'writeUint8');
    const pos = this.reserve(1);
    this.memory[pos] = value;
    this.pos = pos + 1;
    return this;
  }

  writeUint16(value: number): this {
    checkUint(value, 0xffff, 'writeUint16');
    const pos = this.reserve(2);
    this.memory.writeUInt16BE(value, pos);
    this.pos = pos + 2;
    return this;
  }

  writeUint32(value: number): this {
    checkUint(value, 0xffffffff, 'writeUint32');
    const pos = this.reserve(4);
    this.memory.writeUInt32BE(value, pos);
    this.pos = pos + 4;
    return this;
  }

  writeNumber(value: number): this {
    const pos = this.reserve(8);
    this.memory.writeDoubleBE(value, pos);
    this.pos = pos + 8;
    return this;
  }

  writeLength(value: number): this {
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new BufferWriteError(`writeLength takes a whole number from 0 to 2^53-1, got ${value}`);
    }
    // Most lengths take one byte: reserving the worst case for them would grow buffers that have room.
    const pos = this.reserve(value < 0x80 ? 1 : MAX_VARINT_BYTES);
    this.pos = encodeVarint(this.memory, pos, value);
    return this;
  }

  writeString(value: string): this {
    const units = value.length;
    if (units <= SHORT_STRING_UNITS) {
      // The exact worst case (3 bytes a unit, a one-byte prefix), so a string near the end of memory fits or grows.
      const pos = this.reserve(1 + units * 3);
      const end = encodeShortUtf8(this.memory, pos + 1, value);
      this.memory[pos] = end - pos - 1;
      this.pos = end;
      return this;
    }
    const size = Buffer.byteLength(value, 'utf8');
    this.writeLength(size);
    const pos = this.reserve(size);
    this.memory.write(value, pos, size, 'utf8');
    this.pos = pos + size;
    return this;
  }

  writeBytes(value: Uint8Array): this {
    return this.writeLength(value.byteLength).writeRaw(value);
  }

  writeRaw(value: Uint8Array): this {
    const size = value.byteLength;
    const pos = this.reserve(size);
    this.memory.set(value, pos);
    this.pos = pos + size;
    return this;
  }
}

function checkUint(value: number, max: number, what: string): void {
  // Written as one comparison chain so the common, valid case costs two compares.
  if (!(value >= 0 && value <= max && Math.floor(value) === value)) {
    throw new BufferWriteError(`${what} takes a whole number from 0 to ${max}, got ${value}`);
  }
}
