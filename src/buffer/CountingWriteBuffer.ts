import type { WriteBuffer } from './WriteBuffer';

/** Bytes of `value` as an unsigned LEB128 varint. */
function varintBytes(value: number): number {
  let bytes = 1;
  while (value >= 0x80) {
    value = Math.floor(value / 0x80);
    bytes++;
  }
  return bytes;
}

/**
 * A WriteBuffer that passes every write on to another and counts the bytes of the message, for whoever watches
 * sizes (the RPC core's observers). Only used while something watches: the count costs a little per write.
 */
export class CountingWriteBuffer implements WriteBuffer {
  /** Bytes written so far. */
  size = 0;

  constructor(private readonly inner: WriteBuffer) {}

  writeUint8(value: number): this {
    this.inner.writeUint8(value);
    this.size += 1;
    return this;
  }

  writeUint16(value: number): this {
    this.inner.writeUint16(value);
    this.size += 2;
    return this;
  }

  writeUint32(value: number): this {
    this.inner.writeUint32(value);
    this.size += 4;
    return this;
  }

  writeNumber(value: number): this {
    this.inner.writeNumber(value);
    this.size += 8;
    return this;
  }

  writeLength(value: number): this {
    this.inner.writeLength(value);
    this.size += varintBytes(value);
    return this;
  }

  writeString(value: string): this {
    this.inner.writeString(value);
    // Lone surrogates count as U+FFFD, three bytes, as they are written.
    const bytes = Buffer.byteLength(value, 'utf8');
    this.size += varintBytes(bytes) + bytes;
    return this;
  }

  writeBytes(value: Uint8Array): this {
    this.inner.writeBytes(value);
    this.size += varintBytes(value.byteLength) + value.byteLength;
    return this;
  }

  writeRaw(value: Uint8Array): this {
    this.inner.writeRaw(value);
    this.size += value.byteLength;
    return this;
  }

  commit(): void {
    this.inner.commit();
  }
}
