import { AbortError, StreamError } from '../../errors';
import type { StreamWatcher } from './StreamWatcher';

/** What a stream's consuming end needs from its connection. */
export interface InletHost {
  sendCredit(id: number, items: number, bytes: number): void;
  sendCancel(id: number): void;
  /** The stream has ended here: its id is let go. */
  forgetInlet(id: number): void;
}

interface Waiter {
  resolve(result: IteratorResult<unknown>): void;
  reject(reason: unknown): void;
}

interface Early {
  items: unknown[] | undefined;
  bytes: number;
  failure: { error: unknown } | undefined;
}

const DONE: IteratorResult<unknown> = Object.freeze({ done: true, value: undefined });
const OPEN = 0;
/** The producer finished or failed: what is queued is still read, then the ending. */
const DRAINING = 1;
/** Nothing more: only the ending (an error, once) is left to deliver. */
const ENDED = 2;

/**
 * The consuming end of a stream the other side produces: its queue, the credit it has granted, and how it ended.
 * Credit is first granted when reading starts, so a stream nobody reads costs the producer nothing.
 */
export class StreamInlet {
  private readonly batches: unknown[][] = [];
  private readonly batchBytes: number[] = [];
  /** Where reading is in batches[0]. */
  private head = 0;
  private bufferedItemCount = 0;
  private bufferedByteCount = 0;
  /** What the producer may still send, as this side counts it. */
  private creditItems = 0;
  private creditBytes = 0;
  /** Read since credit was last granted. */
  private readItems = 0;
  private readBytes = 0;
  private started = false;
  private state = OPEN;
  /** An error still to deliver, once. */
  private failure: { error: unknown } | undefined;
  private readonly waiters: Waiter[] = [];
  private releaseSignal: (() => void) | undefined;
  private watcher: StreamWatcher | undefined;
  /** The seq of the producer's next message in order, and those that came before their turn. */
  private nextSeq = 0;
  private early: Map<number, Early> | undefined;

  constructor(
    readonly id: number,
    private readonly host: InletHost,
    private readonly window: Readonly<Required<{ items: number; bytes: number }>>,
  ) {}

  get bufferedItems(): number {
    return this.bufferedItemCount;
  }

  get bufferedBytes(): number {
    return this.bufferedByteCount;
  }

  get isOpen(): boolean {
    return this.state === OPEN;
  }

  next(): Promise<IteratorResult<unknown>> {
    if (!this.started) this.start();
    if (this.bufferedItemCount > 0) return Promise.resolve({ value: this.take(), done: false });
    if (this.state !== OPEN) return this.ending();
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  /**
   * The producer's message number `seq`: items (`bytes` as the producer counted them), or its end (no items; with
   * `failure` if it failed). Messages that came before their turn wait for the ones before them. Returns a
   * violation when the producer broke the rules.
   */
  receive(seq: number, items: unknown[] | undefined, bytes: number, failure?: { error: unknown }): StreamError | undefined {
    if (this.state !== OPEN) return undefined;
    if (seq !== this.nextSeq) {
      const early = (this.early ??= new Map());
      // Every early message is within the credit granted (each holds an item or ends the stream), so a producer
      // cannot make this side hold more than the window by sending out of order.
      if (seq < this.nextSeq || early.has(seq) || early.size >= this.window.items) {
        return new StreamError(`The other side sent message ${seq} of stream ${this.id} out of turn: the stream was ended`);
      }
      early.set(seq, { items, bytes, failure });
      return undefined;
    }
    let violation = this.inTurn(items, bytes, failure);
    while (!violation && this.early?.size && this.state === OPEN) {
      const next = this.early.get(this.nextSeq);
      if (!next) break;
      this.early.delete(this.nextSeq);
      violation = this.inTurn(next.items, next.bytes, next.failure);
    }
    return violation;
  }

  private inTurn(items: unknown[] | undefined, bytes: number, failure: { error: unknown } | undefined): StreamError | undefined {
    this.nextSeq++;
    if (items === undefined) {
      this.end(failure);
      return undefined;
    }
    return this.push(items, bytes);
  }

  /** Items that arrived in order. */
  private push(items: unknown[], bytes: number): StreamError | undefined {
    if (this.state !== OPEN) return undefined;
    if (items.length > this.creditItems || (this.creditBytes <= 0 && items.length > 0)) {
      return new StreamError(
        `The other side sent stream ${this.id} ${items.length} items (${bytes} bytes) past the ${this.creditItems} ` +
          `items and ${Math.max(this.creditBytes, 0)} bytes this side granted: the stream was ended`,
      );
    }
    this.creditItems -= items.length;
    this.creditBytes -= bytes;
    if (items.length === 0) return undefined;
    this.batches.push(items);
    this.batchBytes.push(bytes);
    this.bufferedItemCount += items.length;
    this.bufferedByteCount += bytes;
    while (this.waiters.length > 0 && this.bufferedItemCount > 0) {
      this.waiters.shift()!.resolve({ value: this.take(), done: false });
    }
    return undefined;
  }

  /** The producer has no more items: what is queued is read first. */
  private end(error?: { error: unknown }): void {
    if (this.state !== OPEN) return;
    this.state = DRAINING;
    this.failure = error;
    this.finish();
    if (this.bufferedItemCount === 0) this.wakeWithEnding();
  }

  /**
   * Ends the stream from this side, at once: the queue is dropped and the producer told to stop. With a reason,
   * the next read rejects with it; without, reading ends quietly.
   */
  cancel(reason?: unknown): void {
    if (this.state === ENDED) return;
    if (this.state === OPEN) this.host.sendCancel(this.id);
    this.stop(reason === undefined ? undefined : { error: reason });
  }

  /** Ends the stream here without telling the producer (the connection is gone, or it broke the rules). */
  stop(failure: { error: unknown } | undefined): void {
    if (this.state === ENDED) return;
    this.state = ENDED;
    this.failure = failure;
    this.batches.length = 0;
    this.batchBytes.length = 0;
    this.early = undefined;
    this.head = 0;
    this.bufferedItemCount = this.bufferedByteCount = 0;
    this.finish();
    this.wakeWithEnding();
  }

  /** Aborting `signal` cancels the stream with an AbortError naming `label`. */
  bindSignal(signal: AbortSignal, label: string): void {
    if (this.state !== OPEN || this.releaseSignal) return;
    const onAbort = () => this.cancel(new AbortError(label, signal.reason));
    if (signal.aborted) {
      onAbort();
      return;
    }
    signal.addEventListener('abort', onAbort, { once: true });
    this.releaseSignal = () => signal.removeEventListener('abort', onAbort);
  }

  /** `watcher` hears that this stream is open now, and once that it has ended. */
  watch(watcher: StreamWatcher): void {
    if (this.state !== OPEN || this.watcher) return;
    this.watcher = watcher;
    watcher.opened();
  }

  private start(): void {
    this.started = true;
    if (this.state !== OPEN) return;
    this.creditItems = this.window.items;
    this.creditBytes = this.window.bytes;
    this.host.sendCredit(this.id, this.window.items, this.window.bytes);
  }

  private take(): unknown {
    const batch = this.batches[0];
    const value = batch[this.head];
    batch[this.head++] = undefined; // the queue must not keep what the reader has let go of
    this.bufferedItemCount--;
    if (this.head === batch.length) {
      this.batches.shift();
      const bytes = this.batchBytes.shift()!;
      this.head = 0;
      this.bufferedByteCount -= bytes;
      this.readItems += batch.length;
      this.readBytes += bytes;
      this.grantIfDue();
      if (this.bufferedItemCount === 0 && this.state === DRAINING) this.state = ENDED;
    }
    return value;
  }

  /** Grants what was read once it is half a window, in either measure: fewer, larger credit messages. */
  private grantIfDue(): void {
    if (this.state !== OPEN) return;
    if (this.readItems * 2 < this.window.items && this.readBytes * 2 < this.window.bytes) return;
    this.creditItems += this.readItems;
    this.creditBytes += this.readBytes;
    this.host.sendCredit(this.id, this.readItems, this.readBytes);
    this.readItems = this.readBytes = 0;
  }

  /** Resolves with the end, or rejects with the failure the first time it is asked for. */
  private ending(): Promise<IteratorResult<unknown>> {
    this.state = ENDED;
    const failure = this.failure;
    if (!failure) return Promise.resolve(DONE);
    this.failure = undefined;
    return Promise.reject(failure.error);
  }

  private wakeWithEnding(): void {
    const waiters = this.waiters.splice(0);
    for (const waiter of waiters) this.ending().then(waiter.resolve, waiter.reject);
  }

  /** The producer is done with the stream (what is queued here may still be read): once, or again on a cancel. */
  private finish(): void {
    this.releaseSignal?.();
    this.releaseSignal = undefined;
    this.host.forgetInlet(this.id);
    const watcher = this.watcher;
    this.watcher = undefined;
    watcher?.ended(this.failure);
  }
}
