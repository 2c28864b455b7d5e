import { StreamError } from '../../errors';
import type { StreamInlet } from './StreamInlet';

/**
 * A stream the other side of a connection produces: read it once with `for await`. Items arrive in order, as fast
 * as the reader takes them and no faster than the stream window allows. Leaving the loop (break, return, a throw)
 * or cancel() stops the producer; an error there, a closed connection or an aborted call signal ends the loop with
 * that error, once.
 */
export class RemoteStream<T = unknown> implements AsyncIterableIterator<T> {
  private iterated = false;

  /** @internal made by the connection for each stream value it receives */
  constructor(private readonly inlet: StreamInlet) {}

  /** The stream itself, once: a second loop over it throws StreamError, as it could only see what the first left. */
  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    if (this.iterated) {
      throw new StreamError('This remote stream is already being read, or was read: a stream can be read once');
    }
    this.iterated = true;
    return this;
  }

  next(): Promise<IteratorResult<T>> {
    return this.inlet.next() as Promise<IteratorResult<T>>;
  }

  /** Leaving a `for await` early: the producer stops and its source is returned. */
  return(): Promise<IteratorResult<T>> {
    this.inlet.cancel();
    return Promise.resolve({ done: true, value: undefined });
  }

  throw(error?: unknown): Promise<IteratorResult<T>> {
    this.inlet.cancel();
    return Promise.reject(error);
  }

  /**
   * Stops reading: the queue is dropped and the producer told to stop. With a reason, the reader's next step
   * rejects with it; without, its loop ends.
   */
  cancel(reason?: unknown): void {
    this.inlet.cancel(reason);
  }

  /** Items (and their bytes, as encoded) that arrived and are not read yet: never more than the stream window. */
  get buffered(): { items: number; bytes: number } {
    return { items: this.inlet.bufferedItems, bytes: this.inlet.bufferedBytes };
  }

  /** Whether items may still arrive. */
  get isOpen(): boolean {
    return this.inlet.isOpen;
  }

  /** cancel(), for `using`. */
  dispose(): void {
    this.cancel();
  }
}

for (const [name, fn] of [
  ['dispose', function (this: RemoteStream<unknown>) {
    this.dispose();
  }],
  ['asyncDispose', function (this: RemoteStream<unknown>) {
    this.dispose();
    return Promise.resolve();
  }],
] as const) {
  const symbol = (Symbol as unknown as Record<string, symbol | undefined>)[name];
  if (typeof symbol === 'symbol') {
    Object.defineProperty(RemoteStream.prototype, symbol, { value: fn, writable: true, configurable: true });
  }
}
