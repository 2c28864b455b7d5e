import type { Writable } from 'stream';
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
    readonly total: number,
    private readonly chunks: readonly Uint8Array[],
  ) {}

  get done(): boolean {
    return this.sent === this.total;
  }

  /** Writes the next fragment of at most `size` bytes: a header, then views of the message's own chunks. */
  writeFragment(stream: Writable, size: number, callback: () => void): number {
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

/**
 * The large messages waiting to go out in fragments. Up to MAX_ACTIVE of them take turns, a fragment each, so a
 * 1 MiB message behind a 1 GiB one is not held up by all of it; beyond that they wait in the order they came.
 */
export class FragmentQueue {
  private active: LargeMessage[] = [];
  private waiting: LargeMessage[] = [];
  private turn = 0;
  private nextId = 0;
  private unsent = 0;

  /** Message bytes accepted and not yet handed to the stream. */
  get pending(): number {
    return this.unsent;
  }

  get isEmpty(): boolean {
    return this.active.length === 0;
  }

  /** Queues a message of `total` bytes (more than 0), given as chunks to be sent in order without a copy. */
  add(total: number, chunks: readonly Uint8Array[]): void {
    const id = this.nextId;
    this.nextId = (this.nextId + 1) >>> 0;
    const message = new LargeMessage(id, total, chunks);
    if (this.active.length < MAX_ACTIVE) this.active.push(message);
    else this.waiting.push(message);
    this.unsent += total;
  }

  /** Writes one fragment of the message whose turn it is; returns the bytes written, headers included. */
  writeNext(stream: Writable, size: number, callback: () => void): number {
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
    } else {
      this.turn++;
    }
    return written;
  }

  clear(): void {
    this.active = [];
    this.waiting = [];
    this.unsent = 0;
  }
}
