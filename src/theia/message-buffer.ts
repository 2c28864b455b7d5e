import type { WriteBuffer } from '../buffer/WriteBuffer';

// Theia's WriteBuffer has exactly fdpipe's members, so the two are one interface.
export type { WriteBuffer };

/**
 * Theia's ReadBuffer: reads one message in the order it was written. It is narrower than fdpipe's (no readRaw,
 * remaining or position), and its sliceAtReadPosition() gives a reader rather than bytes.
 */
export interface ReadBuffer {
  readUint8(): number;
  readUint16(): number;
  readUint32(): number;
  readString(): string;
  readNumber(): number;
  readLength(): number;
  readBytes(): Uint8Array;
  /** A reader of what is left of the message, starting at this reader's position; this reader stays where it is. */
  sliceAtReadPosition(): ReadBuffer;
}

/** A WriteBuffer that hands every write on to another: for a transport that prefixes or wraps messages. */
export class ForwardingWriteBuffer implements WriteBuffer {
  constructor(protected readonly underlying: WriteBuffer) {}

  writeUint8(byte: number): this {
    this.underlying.writeUint8(byte);
    return this;
  }

  writeUint16(value: number): this {
    this.underlying.writeUint16(value);
    return this;
  }

  writeUint32(value: number): this {
    this.underlying.writeUint32(value);
    return this;
  }

  writeLength(value: number): this {
    this.underlying.writeLength(value);
    return this;
  }

  writeString(value: string): this {
    this.underlying.writeString(value);
    return this;
  }

  writeBytes(value: Uint8Array): this {
    this.underlying.writeBytes(value);
    return this;
  }

  writeNumber(value: number): this {
    this.underlying.writeNumber(value);
    return this;
  }

  writeRaw(bytes: Uint8Array): this {
    this.underlying.writeRaw(bytes);
    return this;
  }

  commit(): void {
    this.underlying.commit();
  }
}
