import type { Event } from '../common/event';

/**
 * Builds one message. Multi-byte numbers are big-endian (network order, like the frame header); lengths are unsigned
 * LEB128 varints. Every write returns the buffer so writes chain; commit() hands the finished bytes on, once.
 */
export interface WriteBuffer {
  writeUint8(value: number): this;
  writeUint16(value: number): this;
  writeUint32(value: number): this;
  /** IEEE 754 float64. */
  writeNumber(value: number): this;
  /** Unsigned varint, 0 to Number.MAX_SAFE_INTEGER: 7 bits a byte, low bits first, high bit set on all but the last. */
  writeLength(value: number): this;
  /** UTF-8 bytes prefixed by their count as a varint. Lone surrogates are written as U+FFFD. */
  writeString(value: string): this;
  /**
   * Bytes prefixed by their count as a varint. A transport's buffer may keep 64 KiB or more by reference rather
   * than copy them (the pipe's does): leave them unchanged until the message is sent — for an RPC call, until it
   * settles.
   */
  writeBytes(value: Uint8Array): this;
  /** Bytes with no prefix: the reader must know how many to take. Large ones may be kept by reference, as above. */
  writeRaw(value: Uint8Array): this;
  /** Finishes the message and hands it on. Any write or commit after this throws. */
  commit(): void;
}

export interface CommittableWriteBuffer extends WriteBuffer {
  /** Fires once, at commit(), with the message's bytes. */
  readonly onCommit: Event<Uint8Array>;
}
