import type { Writable } from 'stream';

/** What the writer needs of a stream: writes, corking, and how much it holds. */
export interface ChunkSink {
  write(chunk: Uint8Array, callback?: (error?: Error | null) => void): boolean;
  cork(): void;
  uncork(): void;
  readonly writableLength: number;
}

/**
 * Writes to a stream and keeps each chunk until the stream confirms it written. A process that exits does not
 * run the event loop again, so what the stream still holds then would be lost; with this log, the bytes it has
 * not written yet are still known (they are the log's last ones) and can be written out synchronously at exit.
 */
export class WriteLog implements ChunkSink {
  private chunks: Uint8Array[] = [];
  private head = 0;
  private held = 0;
  /** Bytes ever written, and ever confirmed: a flush() waits for the second to reach what the first was. */
  private written = 0;
  private confirmed = 0;
  /** The first write that failed: every flush from then on fails with it. */
  private failure: Error | undefined;
  private waiters: Array<{ upTo: number; resolve: () => void; reject: (error: Error) => void }> = [];
  private readonly confirm = (error?: Error | null) => {
    const size = this.chunks[this.head].byteLength;
    this.held -= size;
    this.confirmed += size;
    // A socket destroyed under its writes confirms them without an error: they were dropped all the same.
    const failure = error ?? (this.stream.destroyed ? DESTROYED : undefined);
    if (failure) this.failure ??= failure;
    if (this.waiters.length !== 0) this.settleWaiters(failure);
    this.chunks[this.head++] = EMPTY;
    if (this.head === this.chunks.length) {
      this.chunks = [];
      this.head = 0;
      this.onEmpty();
    } else if (this.head >= 1024 && this.head * 2 >= this.chunks.length) {
      this.chunks = this.chunks.slice(this.head);
      this.head = 0;
    }
  };

  /** @param onEmpty runs when the last chunk written has been confirmed */
  constructor(
    readonly stream: Writable,
    private readonly onEmpty: () => void,
  ) {}

  get isEmpty(): boolean {
    return this.head === this.chunks.length;
  }

  /** Bytes written to the stream and not confirmed yet. */
  get bytes(): number {
    return this.held;
  }

  get writableLength(): number {
    return this.stream.writableLength;
  }

  write(chunk: Uint8Array, callback?: (error?: Error | null) => void): boolean {
    this.chunks.push(chunk);
    this.held += chunk.byteLength;
    this.written += chunk.byteLength;
    // Confirmations come in the order of the writes, so each takes the oldest chunk.
    if (callback === undefined) return this.stream.write(chunk, this.confirm);
    return this.stream.write(chunk, (error) => {
      this.confirm(error);
      callback(error);
    });
  }

  /** Resolves once the stream has written everything written to it so far; rejects if a write fails first. */
  whenWritten(): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.isEmpty) return Promise.resolve();
    return new Promise((resolve, reject) => this.waiters.push({ upTo: this.written, resolve, reject }));
  }

  private settleWaiters(error: Error | undefined): void {
    if (error) {
      const waiters = this.waiters;
      this.waiters = [];
      for (const waiter of waiters) waiter.reject(error);
      return;
    }
    let settled = 0;
    while (settled < this.waiters.length && this.waiters[settled].upTo <= this.confirmed) {
      this.waiters[settled++].resolve();
    }
    if (settled !== 0) this.waiters.splice(0, settled);
  }

  cork(): void {
    this.stream.cork();
  }

  uncork(): void {
    this.stream.uncork();
  }

  /** The last `count` bytes written (at most bytes), as views, in order. */
  tail(count: number): Uint8Array[] {
    const out: Uint8Array[] = [];
    let left = count;
    for (let i = this.chunks.length - 1; i >= this.head && left > 0; i--) {
      const chunk = this.chunks[i];
      out.push(chunk.byteLength <= left ? chunk : chunk.subarray(chunk.byteLength - left));
      left -= Math.min(left, chunk.byteLength);
    }
    return out.reverse();
  }
}

const EMPTY = new Uint8Array(0);
const DESTROYED = new Error('the stream was destroyed before it had written them');
