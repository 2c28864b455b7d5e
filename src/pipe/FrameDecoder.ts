import { MalformedFrameError } from './errors';
import {
  FRAGMENT_NEXT,
  FRAGMENT_NEXT_HEADER_SIZE,
  FRAGMENT_START,
  FRAGMENT_START_HEADER_SIZE,
  FRAME_HEADER_SIZE,
  LANE_MESSAGE,
  LANE_MESSAGE_HEADER_SIZE,
  LANE_RELEASE,
  LANE_RELEASE_HEADER_SIZE,
  MAX_MESSAGES_IN_PROGRESS,
} from './frame';
import { PartialMessage } from './PartialMessage';

/**
 * Frames up to this size get their buffer as soon as their header is known: what a stranger can make this side
 * reserve with one header is bounded by it, and below it the early buffer is worth its speed (a 1 MiB echo ran
 * 8% slower when it waited for half its bytes).
 */
const ALLOCATE_AT_ONCE_UP_TO = 4 * 1024 * 1024;

/**
 * What the fragmented messages under way may have reserved at once, together. Reserving costs address space, not
 * memory: a buffer's pages become resident only as its bytes are copied in, so memory still follows the bytes
 * received. Taken at once, each piece is copied in as it comes; taken at half, every later piece also brings along
 * twice its size of held bytes, and a batch of reads (libuv reads up to 32 in a row) became one 5–8 ms copy that
 * held up every small message behind it (measured on the rpc bench's 64 MiB echo).
 */
const RESERVE_FRAGMENTED_UP_TO = 256 * 1024 * 1024;

/** The buffer direct reads land in between messages (readBuffer()): the size of one of Node's own reads. */
const SCRATCH_SIZE = 64 * 1024;

/** What the buffer readBuffer() last handed out is: scratch, the body of a whole frame, or a fragment's bytes. */
const enum ReadInto {
  Scratch,
  Body,
  Fragment,
}

/** The first `count` bytes of `buffer`, in memory of their own. */
function copyOf(buffer: Buffer, count: number): Buffer {
  const copy = Buffer.allocUnsafeSlow(count);
  buffer.copy(copy, 0, 0, count);
  return copy;
}

/** The size of the header that starts with `value`: a plain length's, a fragment's or a lane frame's. */
function headerSizeOf(value: number): number {
  if (value === FRAGMENT_START) return FRAGMENT_START_HEADER_SIZE;
  if (value === FRAGMENT_NEXT) return FRAGMENT_NEXT_HEADER_SIZE;
  if (value === LANE_MESSAGE) return LANE_MESSAGE_HEADER_SIZE;
  if (value === LANE_RELEASE) return LANE_RELEASE_HEADER_SIZE;
  return FRAME_HEADER_SIZE;
}

/**
 * What a pipe with a bulk lane does with the lane's frames (BulkLane.ts). `piece` reads a piece of a message from
 * the lane: it returns the whole message with its last piece, to be delivered in the frame's place, undefined
 * before, and false when the frame does not fit what came before or what the lane holds. `release` returns false
 * when the peer gave back what was not claimed.
 */
export interface LaneFrames {
  piece(offset: number, total: number, size: number): Uint8Array | undefined | false;
  release(offset: number, size: number): boolean;
  /** The lane message whose pieces are arriving, if one is. */
  readonly pending: { readonly total: number; readonly received: number } | undefined;
}

/**
 * Turns a stream of chunks into messages, whatever the chunking: whole frames (4-byte big-endian length, then that
 * many bytes) and large messages sent in fragments interleaved with them (frame.ts).
 *
 * A frame lying whole inside a chunk is handed on as a view of that chunk, with no copy. A frame that spans chunks
 * is assembled in one buffer of its exact size, each byte copied into it once: no re-concatenation, so a 64 MiB
 * frame arriving in 64 KiB pieces costs one copy. A large frame's buffer is allocated only once half of it has
 * come (the pieces until then are held as they arrived), so a peer that announces a large frame and sends nothing
 * makes this side hold no more than twice what it really sent. A fragmented message is put together the same way
 * (PartialMessage), and is delivered when its last fragment has come. A header split across chunks is collected in
 * a scratch buffer.
 */
export class FrameDecoder {
  private readonly header = Buffer.alloc(FRAGMENT_START_HEADER_SIZE);
  private headerFilled = 0;
  /** The size of the frame whose body is arriving, or -1 between frames. */
  private bodySize = -1;
  private bodyFilled = 0;
  /** The frame's buffer, once allocated. */
  private target: Buffer | undefined;
  /** The body's pieces as they came, until the buffer is allocated. */
  private pieces: Buffer[] = [];
  /** Large messages under way, by the sender's id. */
  private messages = new Map<number, PartialMessage>();
  /** Bytes of the current fragment still to come, or -1 outside a fragment. */
  private fragmentLeft = -1;
  private fragmentId = 0;
  private fragmentOf: PartialMessage | undefined;
  /** Bytes of fragmented messages under way whose buffers were allocated before their bytes came. */
  private reservedEarly = 0;
  private stopped = false;
  /** Direct reads: the buffer readBuffer() last handed out, and what it is. */
  private handedOut: Buffer | undefined;
  private handedOutKind = ReadInto.Scratch;
  private scratch: Buffer | undefined;
  /** For the read right after a fragment of a message still under way: most likely just the next fragment's header. */
  private headerScratch: Buffer | undefined;
  private fragmentJustEnded = false;
  /** Some frame or piece of the chunk being decoded was kept as a view of it: that memory is not ours to reuse. */
  private chunkKept = false;

  constructor(
    /** Messages announced larger than this stop decoding; the owner may lower it for a peer it does not trust yet. */
    public limit: number,
    private readonly onFrame: (frame: Uint8Array) => void,
    private readonly onOversize: (size: number) => void,
    /** A broken fragment sequence; decoding has stopped. By default it is thrown from push(). */
    private readonly onMalformed: (error: MalformedFrameError) => void = (error) => {
      throw error;
    },
    /** The pipe's lane; without one, a lane frame is malformed. */
    private readonly lane?: LaneFrames,
  ) {}

  /** Stops decoding: frames still in the current chunk are dropped. */
  stop(): void {
    this.stopped = true;
    this.target = undefined;
    this.pieces = [];
    this.messages = new Map();
    this.fragmentOf = undefined;
    this.fragmentLeft = -1;
    this.reservedEarly = 0;
    this.handedOut = undefined;
    // Nothing is held any more: partialFrame and pendingBytes say so.
    this.bodySize = -1;
    this.bodyFilled = 0;
    this.headerFilled = 0;
  }

  /** Bytes of partly received messages being held, headers included. */
  get pendingBytes(): number {
    let held = this.bodySize >= 0 ? FRAME_HEADER_SIZE + this.bodyFilled : this.headerFilled;
    for (const message of this.messages.values()) held += message.receivedBytes;
    return held;
  }

  /**
   * Where the stream stands inside a message it has not finished, if it does: the bytes the frame needs (header
   * included; just the header's while the header itself is incomplete; a fragmented message's total) and how many
   * of them came.
   */
  get partialFrame(): { inHeader: boolean; expected: number; received: number } | undefined {
    if (this.bodySize >= 0) {
      return { inHeader: false, expected: FRAME_HEADER_SIZE + this.bodySize, received: FRAME_HEADER_SIZE + this.bodyFilled };
    }
    for (const message of this.messages.values()) {
      return { inHeader: false, expected: message.total, received: message.receivedBytes };
    }
    const lanePending = this.lane?.pending;
    if (lanePending !== undefined) return { inHeader: false, expected: lanePending.total, received: lanePending.received };
    if (this.headerFilled > 0) {
      const expected = this.headerFilled >= FRAME_HEADER_SIZE ? headerSizeOf(this.header.readUInt32BE(0)) : FRAME_HEADER_SIZE;
      return { inHeader: true, expected, received: this.headerFilled };
    }
    return undefined;
  }

  /**
   * Where the next read from the stream should land, for a reader that reads into buffers it is given (Node's
   * `onread`): straight into the message being put together while one is under way, so its bytes are never copied
   * in user space; otherwise a scratch buffer, reused while nothing was kept as a view of it. Hand the result of
   * that read to pushRead().
   */
  readBuffer(): Buffer {
    if (this.bodySize >= 0 && this.target !== undefined) {
      this.handedOutKind = ReadInto.Body;
      return (this.handedOut = this.target.subarray(this.bodyFilled, this.bodySize));
    }
    if (this.fragmentLeft > 0) {
      const view = this.fragmentOf!.readView(this.fragmentLeft);
      if (view !== undefined) {
        this.handedOutKind = ReadInto.Fragment;
        return (this.handedOut = view);
      }
    }
    this.handedOutKind = ReadInto.Scratch;
    if (this.fragmentJustEnded) {
      // A read of just a header's size, so the fragment's bytes after it land in place too. Only the first read
      // after a fragment: small messages that come instead still get whole scratch reads.
      this.fragmentJustEnded = false;
      if (this.headerScratch === undefined) this.headerScratch = Buffer.allocUnsafe(FRAGMENT_NEXT_HEADER_SIZE);
      return (this.handedOut = this.headerScratch);
    }
    if (this.scratch === undefined) this.scratch = Buffer.allocUnsafe(SCRATCH_SIZE);
    return (this.handedOut = this.scratch);
  }

  /** `count` bytes were read into `buffer`, the last buffer readBuffer() gave. */
  pushRead(buffer: Buffer, count: number): void {
    if (buffer !== this.handedOut || this.handedOutKind === ReadInto.Scratch) {
      // A short read is decoded from a copy of its own size, as Node copies its reads: a listener that keeps a small
      // message keeps its bytes alive, not the whole scratch, and the scratch is read into again.
      const short = 2 * count < buffer.length;
      this.chunkKept = false;
      this.push(short ? copyOf(buffer, count) : buffer.subarray(0, count));
      // Frames delivered as views of the scratch belong to their listeners now: the next read gets fresh memory.
      if (this.chunkKept && !short) {
        if (buffer === this.scratch) this.scratch = undefined;
        else if (buffer === this.headerScratch) this.headerScratch = undefined;
      }
      return;
    }
    this.handedOut = undefined;
    if (this.stopped || count === 0) return;
    if (this.handedOutKind === ReadInto.Body) {
      this.bodyFilled += count;
      if (this.bodyFilled === this.bodySize) this.endBody();
      return;
    }
    this.fragmentOf!.addInPlace(count);
    this.fragmentLeft -= count;
    if (this.fragmentLeft === 0) this.endFragment();
  }

  push(chunk: Buffer): void {
    const end = chunk.length;
    let offset = 0;
    while (offset < end && !this.stopped) {
      if (this.bodySize >= 0) {
        offset = this.takeBody(chunk, offset);
      } else if (this.fragmentLeft >= 0) {
        offset = this.takeFragment(chunk, offset);
      } else if (this.headerFilled === 0 && end - offset >= FRAME_HEADER_SIZE) {
        const value = chunk.readUInt32BE(offset);
        const size = headerSizeOf(value);
        if (size === FRAME_HEADER_SIZE) {
          offset = this.startFrame(value, chunk, offset + FRAME_HEADER_SIZE);
        } else if (end - offset >= size) {
          this.startMarked(chunk, offset);
          offset += size;
        } else {
          offset = this.collectHeader(chunk, offset);
        }
      } else {
        offset = this.collectHeader(chunk, offset);
      }
    }
  }

  /** Copies header bytes that arrive split across chunks into the scratch buffer; acts on the header once whole. */
  private collectHeader(chunk: Buffer, offset: number): number {
    const need = this.headerFilled >= FRAME_HEADER_SIZE ? headerSizeOf(this.header.readUInt32BE(0)) : FRAME_HEADER_SIZE;
    const count = Math.min(chunk.length - offset, need - this.headerFilled);
    chunk.copy(this.header, this.headerFilled, offset, offset + count);
    this.headerFilled += count;
    offset += count;
    if (this.headerFilled < need) return offset;
    const value = this.header.readUInt32BE(0);
    if (need === FRAME_HEADER_SIZE && headerSizeOf(value) !== FRAME_HEADER_SIZE) return offset; // a fragment's: more to come
    this.headerFilled = 0;
    if (need === FRAME_HEADER_SIZE) return this.startFrame(value, chunk, offset);
    this.startMarked(this.header, 0);
    return offset;
  }

  /** A header with a marker in place of a length, whole at `at` in `source`: a fragment's or a lane frame's. */
  private startMarked(source: Buffer, at: number): void {
    const marker = source.readUInt32BE(at);
    if (marker === FRAGMENT_START || marker === FRAGMENT_NEXT) {
      this.startFragment(source, at);
      return;
    }
    const offset = source.readUInt32BE(at + 4);
    const total = source.readUInt32BE(at + 8);
    const lane = this.lane;
    if (lane === undefined) {
      return this.malformed('unexpected-lane-frame', 0, 'a bulk-lane frame over a pipe that has no lane');
    }
    if (marker === LANE_RELEASE) {
      if (!lane.release(offset, total)) {
        this.malformed('bad-lane-release', 0, `a release of ${total} bytes at ${offset} of the lane, which were not the oldest sent`);
      }
      return;
    }
    if (total > this.limit) {
      this.stop();
      this.onOversize(total);
      return;
    }
    const size = source.readUInt32BE(at + 12);
    const message = lane.piece(offset, total, size);
    if (message === false) {
      return this.malformed(
        'bad-lane-message',
        0,
        `a piece of ${size} bytes at ${offset} of the lane, of a message of ${total}, that does not follow the one before or lies past the lane's region`,
      );
    }
    if (message !== undefined) this.onFrame(message);
  }

  /** A whole frame of `size` bytes whose body starts at `offset`; returns where the chunk's next frame starts. */
  private startFrame(size: number, chunk: Buffer, offset: number): number {
    if (size > this.limit) {
      this.stop();
      this.onOversize(size);
      return offset;
    }
    if (chunk.length - offset >= size) {
      this.chunkKept = true;
      this.onFrame(chunk.subarray(offset, offset + size));
      return offset + size;
    }
    this.bodySize = size;
    this.bodyFilled = 0;
    if (size <= ALLOCATE_AT_ONCE_UP_TO) this.target = Buffer.allocUnsafe(size);
    return offset;
  }

  /** A fragment's header, whole at `at` in `source`: finds or starts its message and expects its bytes. */
  private startFragment(source: Buffer, at: number): void {
    const first = source.readUInt32BE(at) === FRAGMENT_START;
    const id = source.readUInt32BE(at + 4);
    const length = source.readUInt32BE(at + (first ? 12 : 8));
    let message = this.messages.get(id);
    if (first) {
      const total = source.readUInt32BE(at + 8);
      if (message !== undefined) {
        return this.malformed('restarted-message', id, `message ${id} started again before its last fragment came`);
      }
      if (total > this.limit) {
        this.stop();
        this.onOversize(total);
        return;
      }
      if (this.messages.size >= MAX_MESSAGES_IN_PROGRESS) {
        return this.malformed(
          'too-many-messages',
          id,
          `message ${id} would be the ${MAX_MESSAGES_IN_PROGRESS + 1}th under way at once; at most ` +
            `${MAX_MESSAGES_IN_PROGRESS} are accepted`,
        );
      }
      // A fragmented message gets its buffer at once while what all the messages under way reserve so stays
      // within RESERVE_FRAGMENTED_UP_TO, however many a peer starts; past it, at half, as a whole frame does.
      const early = this.reservedEarly + total <= RESERVE_FRAGMENTED_UP_TO;
      if (early) this.reservedEarly += total;
      message = new PartialMessage(total, early);
      this.messages.set(id, message);
    } else if (message === undefined) {
      return this.malformed('unknown-message', id, `a fragment of message ${id}, which was never started`);
    }
    if (length > message.total - message.receivedBytes) {
      return this.malformed(
        'oversized-fragment',
        id,
        `a fragment of ${length} bytes for message ${id}, which needs only ${message.total - message.receivedBytes} ` +
          `more of its ${message.total}`,
      );
    }
    this.fragmentId = id;
    this.fragmentOf = message;
    this.fragmentLeft = length;
    if (length === 0) this.endFragment();
  }

  /** Takes what `chunk` holds of the fragment under way, from `offset`. */
  private takeFragment(chunk: Buffer, offset: number): number {
    const count = Math.min(chunk.length - offset, this.fragmentLeft);
    // Held as a view: a stream's chunk is the reader's to keep, so nothing is copied twice.
    if (this.fragmentOf!.add(chunk.subarray(offset, offset + count))) this.chunkKept = true;
    this.fragmentLeft -= count;
    if (this.fragmentLeft === 0) this.endFragment();
    return offset + count;
  }

  private endFragment(): void {
    const message = this.fragmentOf!;
    this.fragmentOf = undefined;
    this.fragmentLeft = -1;
    if (!message.isComplete) {
      this.fragmentJustEnded = true;
      return;
    }
    this.messages.delete(this.fragmentId);
    if (message.early) this.reservedEarly -= message.total;
    this.onFrame(message.take());
  }

  private malformed(problem: MalformedFrameError['problem'], id: number, detail: string): void {
    this.stop();
    this.onMalformed(new MalformedFrameError(problem, id, detail));
  }

  /** Takes what `chunk` holds of the body under way, from `offset`; returns where the chunk's next frame starts. */
  private takeBody(chunk: Buffer, offset: number): number {
    const size = this.bodySize;
    const count = Math.min(chunk.length - offset, size - this.bodyFilled);
    if (this.target) {
      chunk.copy(this.target, this.bodyFilled, offset, offset + count);
    } else {
      // Held as a view: a stream's chunk is the reader's to keep, so nothing is copied twice.
      this.pieces.push(chunk.subarray(offset, offset + count));
      this.chunkKept = true;
      if (2 * (this.bodyFilled + count) >= size) this.allocateTarget();
    }
    this.bodyFilled += count;
    if (this.bodyFilled === size) this.endBody();
    return offset + count;
  }

  private endBody(): void {
    const frame = this.target!;
    this.target = undefined;
    this.bodySize = -1;
    this.bodyFilled = 0;
    this.onFrame(frame);
  }

  private allocateTarget(): void {
    const target = Buffer.allocUnsafe(this.bodySize);
    let at = 0;
    for (const piece of this.pieces) {
      piece.copy(target, at);
      at += piece.length;
    }
    this.pieces = [];
    this.target = target;
  }
}
