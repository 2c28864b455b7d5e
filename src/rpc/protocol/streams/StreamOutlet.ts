import { Readable } from 'stream';
import type { WriteBuffer } from '../../../buffer/WriteBuffer';
import { AbortError } from '../../errors';
import { StagingBuffer } from './StagingBuffer';
import type { StreamWatcher } from './StreamWatcher';
import { BATCH_BYTES, BATCH_ITEMS, DIRECT_BYTES } from './window';

/** What a stream's producing end needs from its connection. */
export interface OutletHost {
  /** Writes a StreamData message: the header, then `writeItems` the items. */
  /**
   * `seq` numbers a stream's messages from 0, so its reader can put them back in order (see Streams). Returns why
   * the message could not be sent (too large for the receiver, say), unless the connection is going anyway.
   */
  sendData(
    id: number,
    seq: number,
    count: number,
    bytes: number,
    writeItems: (buffer: WriteBuffer) => void,
  ): unknown;
  sendEnd(id: number, seq: number): void;
  /**
   * `inOrder`: the consumer may not have heard of the stream yet (the message carrying it may still be on its way
   * in fragments), so the error must not pass that message.
   */
  sendError(id: number, seq: number, error: unknown, inOrder?: boolean): void;
  /** Encodes one item, as the connection's codec does for a message (streams inside it included). */
  encodeItem(buffer: WriteBuffer, value: unknown): void;
  /** The stream has ended here: its id is let go. */
  forgetOutlet(id: number): void;
  /** A failure nobody else can be told of (a source whose return() threw). */
  reportError(error: unknown): void;
}

/**
 * Staging memory up to this is reused from batch to batch: a transport copies a run of bytes this short (larger
 * ones it may keep by reference until they are sent).
 */
const REUSABLE_STAGING = 64 * 1024 - 1;
const INITIAL_STAGING = 16 * 1024;

/**
 * The producing end of a stream: pulls from the source only while the consumer's credit lasts, and batches what it
 * pulls into StreamData messages. Items are encoded as they are pulled (what a source changes after yielding does
 * not travel), into a staging buffer, except large Uint8Arrays, which go into the message by reference.
 */
export class StreamOutlet {
  private creditItems = 0;
  private creditBytes = 0;
  private started = false;
  private done = false;
  private iterator: AsyncIterator<unknown> | undefined;
  private wake: (() => void) | undefined;
  private flushScheduled = false;
  // The batch being built: staged bytes, and between them large chunks by reference (each after the staged
  // bytes up to its offset).
  private staging: StagingBuffer | undefined;
  private readonly chunks: Uint8Array[] = [];
  private readonly chunkOffsets: number[] = [];
  private batchItems = 0;
  private batchBytes = 0;
  private releaseSignal: (() => void) | undefined;
  /** Told once the consumer starts reading (`watching`), then of the end (`watcher`). */
  private watching: StreamWatcher | undefined;
  private watcher: StreamWatcher | undefined;
  /** The next message's number. */
  private seq = 0;

  constructor(
    readonly id: number,
    private readonly source: AsyncIterable<unknown>,
    private readonly host: OutletHost,
  ) {}

  /** The consumer may take this much more; the first grant starts the source. */
  grant(items: number, bytes: number): void {
    if (this.done) return;
    this.creditItems += items;
    this.creditBytes += bytes;
    if (!this.started) {
      this.started = true;
      this.watcher = this.watching;
      this.watching = undefined;
      this.watcher?.opened();
      void this.pump();
    } else {
      const wake = this.wake;
      this.wake = undefined;
      wake?.();
    }
  }

  /**
   * The consumer stopped, or (with `failure`) the connection went: the source is returned and nothing more is
   * sent.
   */
  cancel(failure?: { error: unknown }): void {
    if (this.done) return;
    this.finish(failure);
    this.closeSource();
  }

  /** This side gave up on the stream (its call was aborted): the consumer is told why, and the source returned. */
  abort(reason: unknown): void {
    if (this.done) return;
    this.finish({ error: reason });
    // Not started: no credit came, so the message that carries the stream may not have arrived (a large one goes in
    // fragments): the error goes behind it, not dropped there as one for a stream nobody knows.
    this.host.sendError(this.id, this.seq++, reason, !this.started);
    this.closeSource();
  }

  /** `watcher` hears when the consumer starts reading this stream, and then once that it has ended. */
  watch(watcher: StreamWatcher): void {
    if (this.done || this.started || this.watching) return;
    this.watching = watcher;
  }

  /** Aborting `signal` (of the call that sent the stream) aborts the stream, with an AbortError naming `label`. */
  bindSignal(signal: AbortSignal, label: string): void {
    if (this.done || this.releaseSignal) return;
    const onAbort = () => this.abort(new AbortError(label, signal.reason));
    if (signal.aborted) {
      onAbort();
      return;
    }
    signal.addEventListener('abort', onAbort, { once: true });
    this.releaseSignal = () => signal.removeEventListener('abort', onAbort);
  }

  private async pump(): Promise<void> {
    let iterator: AsyncIterator<unknown>;
    try {
      iterator = this.iterator = this.source[Symbol.asyncIterator]();
    } catch (error) {
      this.fail(error, false);
      return;
    }
    let pulling = false;
    try {
      while (!this.done) {
        if (this.creditItems <= 0 || this.creditBytes <= 0) {
          this.flush();
          await new Promise<void>((resolve) => (this.wake = resolve));
          continue;
        }
        pulling = true;
        const result = await iterator.next();
        pulling = false;
        if (this.done) return;
        if (result.done) {
          this.flush();
          this.finish();
          this.host.sendEnd(this.id, this.seq++);
          return;
        }
        this.stage(result.value);
      }
    } catch (error) {
      // A source that threw is finished, and what it gave before goes first; one whose item could not be encoded
      // is still open and is returned.
      if (this.done) return;
      if (pulling) this.flush();
      this.fail(error, !pulling);
    }
  }

  private stage(value: unknown): void {
    let bytes: number;
    if (value instanceof Uint8Array && value.byteLength >= DIRECT_BYTES) {
      this.chunkOffsets.push(this.staging ? this.staging.length : 0);
      this.chunks.push(value);
      // Tag, length varint, bytes: an upper bound on what the codec writes.
      bytes = value.byteLength + 6;
    } else {
      const staging = (this.staging ??= new StagingBuffer(Buffer.allocUnsafe(INITIAL_STAGING)));
      const before = staging.length;
      try {
        this.host.encodeItem(staging, value);
      } catch (error) {
        // Part of the item may be staged: the batch is cut back to the items before it.
        this.flush(before);
        throw error;
      }
      bytes = staging.length - before;
    }
    this.batchItems++;
    this.batchBytes += bytes;
    this.creditItems--;
    this.creditBytes -= bytes;
    if (this.batchItems >= BATCH_ITEMS || this.batchBytes >= BATCH_BYTES) this.flush();
    else if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(this.scheduledFlush);
    }
  }

  private readonly report = (error: unknown): void => this.host.reportError(error);

  private readonly scheduledFlush = (): void => {
    this.flushScheduled = false;
    if (!this.done) this.flush();
  };

  /** Sends the batch; `stagedEnd` cuts the staged bytes there (an item that failed to encode). */
  private flush(stagedEnd?: number): void {
    if (this.batchItems === 0) return;
    const staged = this.staging?.contents();
    const end = stagedEnd ?? staged?.byteLength ?? 0;
    const chunks = this.chunks;
    const offsets = this.chunkOffsets;
    const host = this.host;
    let failure: unknown;
    try {
      failure = host.sendData(this.id, this.seq++, this.batchItems, this.batchBytes, (buffer) => {
        let at = 0;
        for (let i = 0; i < chunks.length; i++) {
          if (offsets[i] > at) buffer.writeRaw(staged!.subarray(at, offsets[i]));
          at = offsets[i];
          host.encodeItem(buffer, chunks[i]);
        }
        if (end > at) buffer.writeRaw(staged!.subarray(at, end));
      });
    } finally {
      chunks.length = offsets.length = 0;
      this.batchItems = this.batchBytes = 0;
      this.staging?.reset(REUSABLE_STAGING);
    }
    // Items that could not go (a batch over the receiver's message limit): the stream cannot go on without them.
    // The message never went, so its number is the error's.
    if (failure !== undefined && !this.done) {
      this.seq--;
      this.fail(failure, true);
    }
  }

  /** The source failed (or an item could not be encoded): the consumer gets the error after what was sent. */
  private fail(error: unknown, closeSource: boolean): void {
    this.finish({ error });
    this.host.sendError(this.id, this.seq++, error);
    if (closeSource) this.closeSource();
  }

  private finish(failure?: { error: unknown }): void {
    this.done = true;
    this.releaseSignal?.();
    this.releaseSignal = undefined;
    this.chunks.length = this.chunkOffsets.length = 0;
    this.staging = undefined;
    this.host.forgetOutlet(this.id);
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
    const watcher = this.watcher;
    this.watcher = this.watching = undefined;
    watcher?.ended(failure);
  }

  /**
   * Lets the source go at once, even while it is producing: a Readable is destroyed, an iterator returned (an async
   * generator runs its finally blocks when its pending step settles). A source never started is closed too.
   */
  private closeSource(): void {
    const source = this.source as unknown as { destroy?: () => void; cancel?: () => unknown };
    try {
      if (source instanceof Readable) {
        source.destroy();
      } else if (this.iterator) {
        const returned = this.iterator.return?.();
        if (returned && typeof returned.then === 'function') returned.then(undefined, this.report);
      } else if (typeof source.cancel === 'function') {
        // A web ReadableStream nobody read: cancel() is how it is let go.
        const cancelled = source.cancel();
        if (cancelled instanceof Promise) cancelled.then(undefined, this.report);
      } else {
        const iterator = this.source as unknown as Partial<AsyncIterator<unknown>>;
        if (typeof iterator.return === 'function' && typeof iterator.next === 'function') {
          // An async generator object not yet started: return() closes it.
          const returned = iterator.return();
          if (returned && typeof returned.then === 'function') returned.then(undefined, this.report);
        }
      }
    } catch (error) {
      this.host.reportError(error);
    }
  }
}
