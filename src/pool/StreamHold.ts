import type { RequestOptions, StreamWatcher } from '../rpc/RpcProtocol';
import type { PoolWorker } from './PoolWorker';

/** What a hold tells its pool: the task that took `worker` at `startedAt` gave the slot back. */
export interface HoldHost {
  /** `ok`: the reply was a success; `streamFailed`: a stream of the task ended with a failure after it. */
  released(worker: PoolWorker, startedAt: number, ok: boolean, streamFailed: boolean): void;
}

/**
 * A task's hold on its worker's slot. The reply does not end a task whose result (or an argument) is a stream: the
 * worker is still producing (or reading) it, so its slot stays taken, and the worker is neither recycled nor let go,
 * until every such stream has ended. The host hears of it once, with whether the reply was a success and whether
 * a stream failed after it.
 *
 * It is the task's request options too (its streamWatcher is itself) and needs no closure: tiny tasks are what a
 * pool is measured by, and this is one object per task.
 */
export class StreamHold implements StreamWatcher, RequestOptions {
  readonly streamWatcher: StreamWatcher = this;
  private open = 0;
  private reply: boolean | undefined;
  private streamFailed = false;
  private released = false;

  constructor(
    private readonly host: HoldHost,
    private readonly worker: PoolWorker,
    private readonly startedAt: number,
  ) {}

  opened(): void {
    if (!this.released) this.open++;
  }

  ended(failure?: { readonly error: unknown }): void {
    if (this.released) return;
    // Only after a good reply: a stream that failed before it was the task's to handle, and the reply says how.
    if (failure && this.reply !== undefined) this.streamFailed = true;
    if (--this.open > 0 || this.reply === undefined) return;
    // Later, not inside the stream's own bookkeeping: releasing may shut the worker's connection down.
    queueMicrotask(() => this.finish());
  }

  /** The reply came: the slot goes back now, or once the streams still open have ended. */
  replied(ok: boolean): void {
    this.reply = ok;
    this.finish();
  }

  /** The pool gave the slot back itself (the task was cancelled): what its streams do no longer matters. */
  drop(): void {
    this.released = true;
  }

  private finish(): void {
    if (this.released || this.open > 0) return;
    this.released = true;
    this.host.released(this.worker, this.startedAt, this.reply!, this.streamFailed);
  }
}
