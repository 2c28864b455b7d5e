import { BufferReadError } from './errors';
import type { ReadBuffer } from './ReadBuffer';
import { decodeShortAscii, SHORT_DECODE_BYTES } from './utf8';
import { MAX_VARINT_BYTES } from './varint';


/** Node's Buffer decoders without toString()'s argument checks, which take longer than a short decode. */
interface NativeSlices {
  utf8Slice(start: number, end: number): string;
}

/** A ReadBuffer over one message's bytes. Reads never copy byte runs: they return views into the message. */
export class Uint8ArrayReadBuffer implements ReadBuffer {
  private readonly bytes: Buffer;
  private pos = 0;

  constructor(bytes: Uint8Array) {
    this.bytes = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  get remaining(): number {
    return this.bytes.length - this.pos;
  }

  get position(): number {
    return this.pos;
  }

  /** Claims `size` bytes for the read named `what`, or throws saying what did not fit. */
  private take(size: number, what: string): number {
    const pos = this.pos;
    if (pos + size > this.bytes.length) {
      throw new BufferReadError(
        `${what} needs ${size} byte${size === 1 ? '' : 's'} at offset ${pos}, ` +
          `but the message has ${this.bytes.length - pos} left`,
      );
    }
    this.pos = pos + size;
    return pos;
  }

  readUint8(): number {
    return this.bytes[this.take(1, 'readUint8')];
  }

  readUint16(): number {
    return this.bytes.readUInt16BE(this.take(2, 'readUint16'));
  }

  readUint32(): number {
    return this.bytes.readUInt32BE(this.take(4, 'readUint32'));
  }

  readNumber(): number {
    return this.bytes.readDoubleBE(this.take(8, 'readNumber'));
  }

  readLength(what = 'readLength'): number {
    const bytes = this.bytes;
    const start = this.pos;
    let value = 0;
    let scale = 1;
    for (let i = 0; i < MAX_VARINT_BYTES; i++) {
      if (start + i >= bytes.length) {
        throw new BufferReadError(`${what} ran past the end of the message at offset ${start + i}`);
      }
      const byte = bytes[start + i];
      value += (byte & 0x7f) * scale;
      if (byte < 0x80) {
        if (!Number.isSafeInteger(value)) {
          throw new BufferReadError(`${what} at offset ${start} decoded ${value}, above 2^53-1`);
        }
        this.pos = start + i + 1;
        return value;
      }
      scale *= 0x80;
    }
    throw new BufferReadError(`${what} at offset ${start} found a varint longer than ${MAX_VARINT_BYTES} bytes`);
  }

  readString(): string {
    // The length prefix is part of the string: a message that ends inside it is a short readString, not readLength.
    const size = this.readLength('readString');
    const start = this.take(size, 'readString');
    const end = start + size;
    if (size <= SHORT_DECODE_BYTES) {
      const ascii = decodeShortAscii(this.bytes, start, end);
      if (ascii !== undefined) return ascii;
    }
    return (this.bytes as unknown as NativeSlices).utf8Slice(start, end);
  }

  readBytes(): Uint8Array {
    const size = this.readLength('readBytes');
    return this.readRaw(size, 'readBytes');
  }

  readRaw(length: number, what = 'readRaw'): Uint8Array {
    if (!Number.isSafeInteger(length) || length < 0) {
      throw new BufferReadError(`${what} takes a byte count of 0 or more, got ${length}`);
    }
    const start = this.take(length, what);
    return this.bytes.subarray(start, start + length);
  }

  sliceAtReadPosition(): Uint8Array {
    const start = this.pos;
    this.pos = this.bytes.length;
    // Nothing read yet (a listener that wants the whole message): the message itself, without making a view.
    return start === 0 ? this.bytes : this.bytes.subarray(start);
  }
}
