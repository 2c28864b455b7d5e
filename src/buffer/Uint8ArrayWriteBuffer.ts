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
  /**
   * writeRaw() and writeBytes() of at least this many bytes keep a reference to the caller's bytes instead of
   * copying them, and the message is handed to `onCommitRuns` as a list of runs. For transports that write a
   * list of chunks at once (a socket's writev); the caller must leave such bytes unchanged until they are written.
   */
  referenceFrom?: number;
  /**
   * Receives the message at commit() as runs of bytes to send in order — the first starts with the header room
   * — instead of `onCommitted`'s single view. `size` counts the message without the header room. When the
   * buffer never left its borrowed memory, `inLentMemory` is true: runs alternate between bytes in that memory,
   * back to back from the lent offset, and referenced bytes; and `runs` is undefined when the message is a
   * single run there (the lender knows where it is, so no view is made).
   */
  onCommitRuns?: (runs: Uint8Array[] | undefined, size: number, inLentMemory: boolean) => void;
}

/** A WriteBuffer over a growable Buffer. */
export class Uint8ArrayWriteBuffer implements CommittableWriteBuffer {
  private buffer: Buffer;
  private pos: number;
  private borrowed: boolean;
  private readonly headerRoom: number;
  /**
   * Where the run being written now starts in `buffer`. Until a reference cuts the message into runs, that is where
   * the message (its header room first) starts: 0, or the lent offset while the memory is borrowed.
   */
  private runStart: number;
  /** Runs finished before the current one, and how many bytes they hold (header room included). */
  private runs: Uint8Array[] | undefined;
  private runBytes = 0;
  private readonly referenceFrom: number;
  private readonly onCommitRuns: Uint8ArrayWriteBufferOptions['onCommitRuns'];
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
      this.runStart = loan.offset;
      this.borrowed = true;
    } else {
      this.buffer = Buffer.allocUnsafe(this.headerRoom + (options.initialCapacity ?? 256));
      this.runStart = 0;
      this.borrowed = false;
    }
    this.pos = this.runStart + this.headerRoom;
    this.onCommitRuns = options.onCommitRuns;
    this.referenceFrom = this.onCommitRuns ? (options.referenceFrom ?? Infinity) : Infinity;
  }

  /** Bytes written so far, not counting the header room. */
  get length(): number {
    return this.runBytes + this.pos - this.runStart - this.headerRoom;
  }

  /** Copies what was written so far out of borrowed memory into memory of its own; a no-op otherwise. */
  moveOut(): void {
    if (this.borrowed && !this.committed) this.relocate(0);
  }

  /**
   * Moves the current run to a new buffer with room for `extra` more bytes. Leaving borrowed memory, the runs
   * already cut there are copied out too: the lender may hand that memory to the next message.
   */
  private relocate(extra: number): void {
    if (this.borrowed && this.runs) {
      const lent = this.buffer.buffer;
      for (let i = 0; i < this.runs.length; i++) {
        if (this.runs[i].buffer === lent) this.runs[i] = Buffer.from(this.runs[i]);
      }
    }
    const used = this.pos - this.runStart;
    const grown = Buffer.allocUnsafe(Math.max(used + extra, used * 2, this.headerRoom + 256));
    this.buffer.copy(grown, 0, this.runStart, this.pos);
    this.buffer = grown;
    this.runStart = 0;
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
    if (value < 0x80) {
      const at = this.reserve(1);
      this.buffer[at] = value;
      this.pos = at + 1;
      return this;
    }
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
    if (size >= this.referenceFrom) {
      if (this.committed) throw new BufferCommittedError();
      // Cut the run written so far and keep the caller's bytes as a run of their own; writing goes on after.
      const runs = (this.runs ??= []);
      runs.push(this.buffer.subarray(this.runStart, this.pos), value);
      this.runBytes += this.pos - this.runStart + size;
      this.runStart = this.pos;
      return this;
    }
    const pos = this.reserve(size);
    this.buffer.set(value, pos);
    this.pos = pos + size;
    return this;
  }

  commit(): void {
    if (this.committed) throw new BufferCommittedError();
    this.committed = true;
    if (this.onCommitRuns) {
      const size = this.runBytes + this.pos - this.runStart - this.headerRoom;
      if (this.borrowed && !this.runs && !this.listeners) {
        this.onCommitRuns(undefined, size, true);
        return;
      }
      const runs = this.runs ?? [];
      runs.push(this.buffer.subarray(this.runStart, this.pos));
      this.onCommitRuns(runs, size, this.borrowed);
      if (this.listeners) {
        const whole = runs.length === 1 ? runs[0] : Buffer.concat(runs);
        this.notify(whole.subarray(this.headerRoom));
      }
      return;
    }
    // Without onCommitRuns nothing is kept by reference, so the message is the one run there is.
    const bytes = this.buffer.subarray(this.runStart + this.headerRoom, this.pos);
    this.onCommitted?.(bytes);
    if (this.listeners) this.notify(bytes);
  }

  private notify(bytes: Uint8Array): void {
    const listeners = this.listeners!;
    this.listeners = undefined;
    for (const listener of listeners) listener(bytes);
  }
}

function checkUint(value: number, max: number, what: string): void {
  // Written as one comparison chain so the common, valid case costs two compares.
  if (!(value >= 0 && value <= max && Math.floor(value) === value)) {
    throw new BufferWriteError(`${what} takes a whole number from 0 to ${max}, got ${value}`);
  }
}
