/**
 * VS Code's byte buffer: a Uint8Array (a Node Buffer underneath, so toString and friends are native) with the
 * helpers IPC code uses.
 */
export class VSBuffer {
  static alloc(byteLength: number): VSBuffer {
    return new VSBuffer(Buffer.allocUnsafe(byteLength).fill(0));
  }

  /** Shares the memory of `actual`: no copy. */
  static wrap(actual: Uint8Array): VSBuffer {
    const view = Buffer.isBuffer(actual) ? actual : Buffer.from(actual.buffer, actual.byteOffset, actual.byteLength);
    return new VSBuffer(view);
  }

  static fromString(source: string, options?: { dontUseNodeBuffer?: boolean }): VSBuffer {
    void options; // Node always has Buffer: the option only matters in browsers.
    return new VSBuffer(Buffer.from(source, 'utf8'));
  }

  static fromByteArray(source: number[]): VSBuffer {
    return new VSBuffer(Buffer.from(source));
  }

  static concat(buffers: VSBuffer[], totalLength?: number): VSBuffer {
    return new VSBuffer(
      Buffer.concat(
        buffers.map((b) => b.buffer),
        totalLength,
      ),
    );
  }

  static isNativeBuffer(buffer: unknown): buffer is Buffer {
    return Buffer.isBuffer(buffer);
  }

  readonly buffer: Buffer;
  readonly byteLength: number;

  private constructor(buffer: Buffer) {
    this.buffer = buffer;
    this.byteLength = buffer.byteLength;
  }

  clone(): VSBuffer {
    return new VSBuffer(Buffer.from(this.buffer));
  }

  toString(): string {
    return this.buffer.toString('utf8');
  }

  /** A view of part of this buffer: no copy. */
  slice(start?: number, end?: number): VSBuffer {
    return new VSBuffer(this.buffer.subarray(start, end));
  }

  set(array: VSBuffer | Uint8Array | ArrayBuffer | ArrayBufferView, offset?: number): void {
    if (array instanceof VSBuffer) this.buffer.set(array.buffer, offset);
    else if (array instanceof Uint8Array) this.buffer.set(array, offset);
    else if (array instanceof ArrayBuffer) this.buffer.set(new Uint8Array(array), offset);
    else this.buffer.set(new Uint8Array(array.buffer, array.byteOffset, array.byteLength), offset);
  }

  readUInt32BE(offset: number): number {
    return this.buffer.readUInt32BE(offset);
  }

  writeUInt32BE(value: number, offset: number): void {
    this.buffer.writeUInt32BE(value, offset);
  }

  readUInt32LE(offset: number): number {
    return this.buffer.readUInt32LE(offset);
  }

  writeUInt32LE(value: number, offset: number): void {
    this.buffer.writeUInt32LE(value, offset);
  }

  readUInt8(offset: number): number {
    return this.buffer[offset];
  }

  writeUInt8(value: number, offset: number): void {
    this.buffer[offset] = value;
  }

  indexOf(subarray: VSBuffer | Uint8Array, offset = 0): number {
    return this.buffer.indexOf(subarray instanceof VSBuffer ? subarray.buffer : subarray, offset);
  }

  equals(other: VSBuffer): boolean {
    return this === other || this.buffer.equals(other.buffer);
  }
}
