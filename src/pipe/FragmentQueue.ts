import type { ChunkSink } from './WriteLog';
import { FRAGMENT_NEXT, FRAGMENT_NEXT_HEADER_SIZE, FRAGMENT_START, FRAGMENT_START_HEADER_SIZE } from './frame';

/** How many large messages share the pipe at once, round-robin; the others wait their turn in order. */
const MAX_ACTIVE = 4;

/** A large message on its way out: its bytes as the chunks it was given, and how far it has gone. */
class LargeMessage {
  /** The chunk the next fragment starts in, and where in it. */
  index = 0;
  offset = 0;
  sent = 0;

  constructor(
    readonly id: number,
    /** The order it was queued in, among large messages and held ones. */
    readonly seq: number,
    readonly total: number,
    private readonly chunks: readonly Uint8Array[],
  ) {}

  get done(): boolean {
    return this.sent === this.total;
  }

  /** Writes the next fragment of at most `size` bytes: a header, then views of the message's own chunks. */
  writeFragment(stream: ChunkSink, size: number, callback: () => void): number {
    const count = Math.min(size, this.total - this.sent);
    const first = this.sent === 0;
    const header = Buffer.allocUnsafe(first ? FRAGMENT_START_HEADER_SIZE : FRAGMENT_NEXT_HEADER_SIZE);
    header.writeUInt32BE(first ? FRAGMENT_START : FRAGMENT_NEXT, 0);
    header.writeUInt32BE(this.id, 4);
    if (first) header.writeUInt32BE(this.total, 8);
    header.writeUInt32BE(count, first ? 12 : 8);
    stream.cork();
    stream.write(header);
    let left = count;
    while (left > 0) {
      const chunk = this.chunks[this.index];
      const take = Math.min(left, chunk.byteLength - this.offset);
      const last = take === left;
      const view = take === chunk.byteLength ? chunk : chunk.subarray(this.offset, this.offset + take);
      if (last) stream.write(view, callback);
      else stream.write(view);
      left -= take;
      this.offset += take;
      if (this.offset === chunk.byteLength) {
        this.index++;
        this.offset = 0;
      }
    }
    stream.uncork();
    this.sent += count;
    return count + header.length;
  }
}

/** A message sent in order while large ones were under way: it waits for the ones queued before it. */
interface HeldMessage {
  /** The last large message queued before it. */
  readonly afterSeq: number;
  /** A large one's own seq, taken when it was held, so messages held after it wait for it too. */
  readonly seq: number;
  /** Its bytes: a whole frame, header included, or a large message's bytes. */
  readonly chunks: readonly Uint8Array[];
  readonly size: number;
  readonly large: boolean;
}

/**
 * The large messages waiting to go out in fragments. Up to MAX_ACTIVE of them take turns, a fragment each, so a
 * 1 MiB message behind a 1 GiB one is not held up by all of it; beyond that they wait in the order they came.
 */
export class FragmentQueue {
  private active: LargeMessage[] = [];
  private waiting: LargeMessage[] = [];
  private held: HeldMessage[] = [];
  private turn = 0;
  private nextId = 0;
  private lastSeq = 0;
  private unsent = 0;
  /** Large messages held (queued in order behind others), not yet in `active` or `waiting`. */
  private heldLarge = 0;

  /** Message bytes accepted and not yet handed to the stream. */
  get pending(): number {
    return this.unsent;
  }

  /** Large messages not yet complete: under way, waiting their turn, or held. */
  get largeCount(): number {
    return this.active.length + this.waiting.length + this.heldLarge;
  }

  get isEmpty(): boolean {
    return this.active.length === 0 && this.held.length === 0;
  }

  /**
   * Queues a message to go out only once every large message queued before it is complete: a whole frame (its
   * header included) to be written as it is, or a large message's bytes to be sent in fragments from then on.
   */
  hold(chunks: readonly Uint8Array[], size: number, large: boolean): void {
    const afterSeq = this.lastSeq;
    this.held.push({ afterSeq, seq: large ? ++this.lastSeq : afterSeq, chunks, size, large });
    this.unsent += size;
    if (large) this.heldLarge++;
  }

  /** Queues a message of `total` bytes (more than 0), given as chunks to be sent in order without a copy. */
  add(total: number, chunks: readonly Uint8Array[], seq = ++this.lastSeq): void {
    const id = this.nextId;
    this.nextId = (this.nextId + 1) >>> 0;
    const message = new LargeMessage(id, seq, total, chunks);
    if (this.active.length < MAX_ACTIVE) this.active.push(message);
    else this.waiting.push(message);
    this.unsent += total;
  }

  /** Writes one fragment of the message whose turn it is; returns the bytes written, headers included. */
  writeNext(stream: ChunkSink, size: number, callback: () => void): number {
    if (this.active.length === 0) return this.release(stream, callback);
    if (this.turn >= this.active.length) this.turn = 0;
    const message = this.active[this.turn];
    const before = message.sent;
    const written = message.writeFragment(stream, size, callback);
    this.unsent -= message.sent - before;
    if (message.done) {
      const next = this.waiting.shift();
      // A newcomer takes the finished one's place in the round and waits for it to come round again.
      if (next) this.active[this.turn++] = next;
      else this.active.splice(this.turn, 1);
      if (this.held.length > 0) return written + this.release(stream, callback);
    } else {
      this.turn++;
    }
    return written;
  }

  /** Sends the held messages whose turn has come: whole frames are written now, large ones join the queue. */
  private release(stream: ChunkSink, callback: () => void): number {
    let written = 0;
    while (this.held.length > 0 && this.held[0].afterSeq < this.oldestSeq()) {
      const message = this.held.shift()!;
      this.unsent -= message.size;
      if (message.large) {
        this.heldLarge--;
        this.add(message.size, message.chunks, message.seq);
        continue;
      }
      stream.cork();
      const last = message.chunks.length - 1;
      message.chunks.forEach((chunk, i) => (i === last ? stream.write(chunk, callback) : stream.write(chunk)));
      stream.uncork();
      written += message.size;
    }
    return written;
  }

  /** The seq of the oldest large message not yet complete; past every seq when there is none. */
  private oldestSeq(): number {
    // Held large messages released into a full queue wait behind newer ones: look at them all.
    let oldest = Infinity;
    for (const message of this.active) oldest = Math.min(oldest, message.seq);
    for (const message of this.waiting) oldest = Math.min(oldest, message.seq);
    return oldest;
  }

  clear(): void {
    this.active = [];
    this.waiting = [];
    this.held = [];
    this.unsent = 0;
    this.heldLarge = 0;
  }
}
