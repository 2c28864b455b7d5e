import type { ReadBuffer as CoreReadBuffer } from '../buffer/ReadBuffer';
import { Uint8ArrayReadBuffer as CoreUint8ArrayReadBuffer } from '../buffer/Uint8ArrayReadBuffer';
import { UnsupportedReadBufferError } from './errors';
import type { ReadBuffer } from './message-buffer';

// fdpipe's write buffer has Theia's shape: new Uint8ArrayWriteBuffer(buffer?, writePosition?), onCommit,
// getCurrentContents(), commit().
export { Uint8ArrayWriteBuffer } from '../buffer/Uint8ArrayWriteBuffer';

/**
 * Reads one message, Theia's way and fdpipe's at once, so a channel of this face serves Theia code and fdpipe's own
 * layers alike. Reads return views into the message rather than copies, as fdpipe's do.
 */
export class Uint8ArrayReadBuffer extends CoreUint8ArrayReadBuffer implements ReadBuffer {
  private readonly message: Uint8Array;

  /** @param readPosition where reading starts: the bytes before it are skipped. */
  constructor(buffer: Uint8Array, readPosition = 0) {
    super(buffer);
    this.message = buffer;
    if (readPosition !== 0) this.readRaw(readPosition, 'readPosition');
  }

  /**
   * What is left of the message, from the read position on, without moving it (as in Theia). The result is the
   * bytes themselves, which read as a ReadBuffer of their own: Theia code reads it, fdpipe code takes it as bytes.
   */
  override sliceAtReadPosition(): MessageSlice {
    const { buffer, byteOffset } = this.message;
    return new MessageSlice(buffer, byteOffset + this.position, this.remaining);
  }
}

// Uint8Array's constructor, typed without the buffer type parameter TypeScript 5.7 gave typed arrays: a view of any
// buffer, and declarations that still read under TypeScript 4.9 (whose Uint8Array takes no type argument).
const ByteView: new (buffer: ArrayBufferLike, byteOffset: number, length: number) => Uint8Array = Uint8Array;

/**
 * The rest of a message: a view of its bytes (no copy) that can also be read from its start, as a ReadBuffer. Array
 * methods that make new arrays (slice, subarray, map) give plain Uint8Arrays.
 */
export class MessageSlice extends ByteView implements ReadBuffer, CoreReadBuffer {
  static get [Symbol.species](): Uint8ArrayConstructor {
    return Uint8Array;
  }

  private reader: Uint8ArrayReadBuffer | undefined;

  /** Made on the first read: most slices are taken as bytes and never read. */
  private get read(): Uint8ArrayReadBuffer {
    return (this.reader ??= new Uint8ArrayReadBuffer(this));
  }

  get remaining(): number {
    return this.read.remaining;
  }

  get position(): number {
    return this.read.position;
  }

  readUint8(): number {
    return this.read.readUint8();
  }

  readUint16(): number {
    return this.read.readUint16();
  }

  readUint32(): number {
    return this.read.readUint32();
  }

  readNumber(): number {
    return this.read.readNumber();
  }

  readLength(): number {
    return this.read.readLength();
  }

  readString(): string {
    return this.read.readString();
  }

  readBytes(): Uint8Array {
    return this.read.readBytes();
  }

  readRaw(length: number): Uint8Array {
    return this.read.readRaw(length);
  }

  sliceAtReadPosition(): MessageSlice {
    return this.read.sliceAtReadPosition();
  }
}

/**
 * The message under a Theia ReadBuffer, as fdpipe's layers read it: a reader of this face or of fdpipe passes as it
 * is. Any other implementation of the interface cannot be read as bytes, and throws UnsupportedReadBufferError.
 */
export function toCoreReadBuffer(reader: ReadBuffer): CoreReadBuffer {
  if (reader instanceof CoreUint8ArrayReadBuffer || reader instanceof MessageSlice) return reader;
  throw new UnsupportedReadBufferError();
}
