/** Reads one message in the order it was written (see WriteBuffer for the encoding). */
export interface ReadBuffer {
  readUint8(): number;
  readUint16(): number;
  readUint32(): number;
  readNumber(): number;
  readLength(): number;
  readString(): string;
  /** A length-prefixed byte run, as a view into the message (no copy). */
  readBytes(): Uint8Array;
  /** The next `length` bytes, as a view into the message (no copy). */
  readRaw(length: number): Uint8Array;
  /** Everything not read yet, as a view; the read position moves to the end. */
  sliceAtReadPosition(): Uint8Array;
  /** How many bytes are left to read. */
  readonly remaining: number;
  /** Where the next read starts, from the start of the message. */
  readonly position: number;
}
