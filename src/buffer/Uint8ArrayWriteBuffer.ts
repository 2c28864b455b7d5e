import type { Disposable } from '../common/lifecycle';
import { BufferCommittedError, BufferWriteError } from './errors';
import { encodeShortUtf8, SHORT_STRING_UNITS } from './utf8';
import type { CommittableWriteBuffer } from './WriteBuffer';

export interface Uint8ArrayWriteBufferOptions {
  /** Bytes to allocate up front; the buffer grows past this as needed. Default 256. */
  initialCapacity?: number;
  /**
   * Bytes left free before the message, so a transport can write its frame header in place and send header and
   * message as one contiguous run without copying. The bytes handed to commit listeners exclude this room, but
   * lie right after it in the same memory. Default 0.
   */
  headerRoom?: number;
  /**
   * Start in memory lent by the owner (a transport's slab shared by many small messages): the message is written
   * from `offset` (header room first) up to the end of `memory`. The buffer moves to memory of its own when it
   * outgrows the loan or when moveOut() is called, so the lender can hand that memory to someone else.
   */
  borrowed?: { memory: Buffer; offset: number };
}

/** A WriteBuffer over a growable Buffer. */
export class Uint8ArrayWriteBuffer implements CommittableWriteBuffer {
  private buffer: Buffer;
  /** Where this message's header room starts in `buffer`: 0 unless the memory is borrowed. */
  private start: number;
  private pos: number;
  private borrowed: boolean;
  private readonly headerRoom: number;
  private committed = false;
  private listeners: Array<(bytes: Uint8Array) => void> | undefined;

  /** @param onCommitted receives the message at commit(); cheaper than onCommit() on hot paths. */
  constructor(
    private readonly onCommitted?: (bytes: Uint8Array) => void,
    options: Uint8ArrayWriteBufferOptions = {},
  ) {
    this.headerRoom = options.headerRoom ?? 0;
    const loan = options.borrowed;
    if (loan) {
      this.buffer = loan.memory;
      this.start = loan.offset;
      this.borrowed = true;
    } else {
      this.buffer = Buffer.allocUnsafe(this.headerRoom + (options.initialCapacity ?? 256));
      this.start = 0;
      this.borrowed = false;
    }
    this.pos = this.start + this.headerRoom;
  }

  /** Bytes written so far, not counting the header room. */
  get length(): number {
    return this.pos - this.start - this.headerRoom;
  }

  /** Copies what was written so far out of borrowed memory into memory of its own; a no-op otherwise. */
  moveOut(): void {
    if (this.borrowed && !this.committed) this.relocate(0);
  }

  /** Moves the message (header room included) to a new buffer with room for `extra` more bytes. */
  private relocate(extra: number): void {
    const used = this.pos - this.start;
    const grown = Buffer.allocUnsafe(Math.max(used + extra, used * 2, this.headerRoom + 256));
    this.buffer.copy(grown, 0, this.start, this.pos);
    this.buffer = grown;
    this.start = 0;
    this.pos = used;
    this.borrowed = false;
  }

  get isCommitted(): boolean {
    return this.committed;
  }

  onCommit(listener: (bytes: Uint8Array) => void): Disposable {
    (this.listeners ??= []).push(listener);
    return {
      dispose: () => {
        const index = this.listeners?.indexOf(listener) ?? -1;
        if (index >= 0) this.listeners!.splice(index, 1);
      },
    };
  }

  /** Makes room for `size` more bytes and returns the offset to write them at. */
  private reserve(size: number): number {
    if (this.committed) throw new BufferCommittedError();
    if (this.pos + size > this.buffer.length) this.relocate(size);
    return this.pos;
  }

  writeUint8(value: number): this {
    checkUint(value, 0xff, 'writeUint8');
    const pos = this.reserve(1);
    this.buffer[pos] = value;
    this.pos = pos + 1;
    return this;
  }

  writeUint16(value: number): this {
    checkUint(value, 0xffff, 'writeUint16');
    const pos = this.reserve(2);
    this.buffer.writeUInt16BE(value, pos);
    this.pos = pos + 2;
    return this;
  }

  writeUint32(value: number): this {
    checkUint(value, 0xffffffff, 'writeUint32');
    const pos = this.reserve(4);
    this.buffer.writeUInt32BE(value, pos);
    this.pos = pos + 4;
    return this;
  }

  writeNumber(value: number): this {
    const pos = this.reserve(8);
    this.buffer.writeDoubleBE(value, pos);
    this.pos = pos + 8;
    return this;
  }

  writeLength(value: number): this {
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new BufferWriteError(`writeLength takes a whole number from 0 to 2^53-1, got ${value}`);
    }
    if (value < 0x80) return this.writeUint8(value);
    let pos = this.reserve(8);
    const buffer = this.buffer;
    while (value >= 0x80) {
      buffer[pos++] = (value % 0x80) | 0x80;
      value = Math.floor(value / 0x80);
    }
    buffer[pos++] = value;
    this.pos = pos;
    return this;
  }

  writeString(value: string): this {
    const units = value.length;
    if (units <= SHORT_STRING_UNITS) {
      const pos = this.reserve(1 + units * 3);
      const end = encodeShortUtf8(this.buffer, pos + 1, value);
      this.buffer[pos] = end - pos - 1;
      this.pos = end;
      return this;
    }
    const size = Buffer.byteLength(value, 'utf8');
    this.writeLength(size);
    const pos = this.reserve(size);
    this.buffer.write(value, pos, size, 'utf8');
    this.pos = pos + size;
    return this;
  }

  writeBytes(value: Uint8Array): this {
    return this.writeLength(value.byteLength).writeRaw(value);
  }

  writeRaw(value: Uint8Array): this {
    const size = value.byteLength;
    const pos = this.reserve(size);
    this.buffer.set(value, pos);
    this.pos = pos + size;
    return this;
  }

  commit(): void {
    if (this.committed) throw new BufferCommittedError();
    this.committed = true;
    const bytes = this.buffer.subarray(this.start + this.headerRoom, this.pos);
    this.onCommitted?.(bytes);
    const listeners = this.listeners;
    if (listeners) {
      this.listeners = undefined;
      for (const listener of listeners) listener(bytes);
    }
  }
}

function checkUint(value: number, max: number, what: string): void {
  // Written as one comparison chain so the common, valid case costs two compares.
  if (!(value >= 0 && value <= max && Math.floor(value) === value)) {
    throw new BufferWriteError(`${what} takes a whole number from 0 to ${max}, got ${value}`);
  }
}
