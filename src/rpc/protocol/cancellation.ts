import { AsyncLocalStorage } from 'async_hooks';
import type { Disposable } from '../../common/lifecycle';
import type { ObservedCall } from './observers';
import { AbortError, TimeoutError } from '../errors';
import { labelOf } from './wire';

// Everything about cancelling a call, both ends of it, lives here:
// - the caller marks a request it can cancel (FLAG_CANCELLABLE) and, when it passed an AbortSignal, that the
//   signal was an argument (FLAG_SIGNAL_ARGUMENT), so the callee puts a live signal in its place;
// - the caller watches its signal and timeout, and on either rejects the call and sends a Cancel;
// - the callee keeps an AbortController for each cancellable request it runs, aborts it on Cancel or when the
//   connection goes, and exposes its signal to the method through currentCallSignal().

/** Request flag: the caller can cancel (a signal or a timeout): the callee keeps an AbortController for a cancel. */
export const FLAG_CANCELLABLE = 1;
/** Request flag: the caller passed an AbortSignal as its last argument: the callee's live signal takes its place. */
export const FLAG_SIGNAL_ARGUMENT = 2;

/**
 * Cancel flag: the request may still be on its way, in fragments, and this cancel may pass it: a callee that does
 * not know the id yet remembers the cancel for the request to come. Without it, a cancel for an unknown id came
 * late. Set for requests larger than PASSABLE_FROM, as the transport's write buffer tells their size (a
 * transport that does not tell never sends in fragments).
 */
export const CANCEL_MAY_PASS = 1;
/**
 * Requests up to this size never travel in fragments: it is the smallest fragment size a pipe accepts
 * (MIN_FRAGMENT_SIZE), so their cancels never pass them.
 */
export const PASSABLE_FROM = 4 * 1024;
/** How long an early cancel waits for its request: one that comes later is taken for another use of the id. */
export const EARLY_CANCEL_TTL_MS = 60_000;

/** The flags byte of a request that has `signal` and `timeout`. */
export function requestFlags(signal: AbortSignal | undefined, timeout: number | undefined): number {
  if (signal !== undefined) return FLAG_CANCELLABLE | FLAG_SIGNAL_ARGUMENT;
  return timeout !== undefined ? FLAG_CANCELLABLE : 0;
}

/**
 * Caller side: calls `cancel` with a TimeoutError after `timeout` ms or with the signal's reason when `signal`
 * aborts (what fetch() rejects with), whichever comes first, once. Disposing it (the call settled) releases the timer and the signal's listener.
 */
export function watchCancellation(
  target: string,
  method: string,
  signal: AbortSignal | undefined,
  timeout: number | undefined,
  cancel: (reason: unknown) => void,
): Disposable {
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const release = () => {
    if (timer !== undefined) clearTimeout(timer);
    if (onAbort) signal!.removeEventListener('abort', onAbort);
    timer = onAbort = undefined;
  };
  if (timeout !== undefined) {
    timer = setTimeout(() => {
      release();
      cancel(new TimeoutError(labelOf(target, method), timeout)); // the label only when it is needed
    }, timeout);
  }
  if (signal) {
    onAbort = () => {
      release();
      cancel(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  }
  return { dispose: release };
}

/**
 * Callee side: the live signal of one cancellable request. Disposing it aborts the work — with a reason saying the
 * caller cancelled, unless one is given (the connection closed).
 */
export class ServedRequest implements Disposable {
  private readonly controller = new AbortController();
  /** Set only while observers watch: a call cancelled here ends for them now, whenever its method settles. */
  observed: ObservedCall | undefined;

  /** @param large the request was over PASSABLE_FROM: its caller's cancel says it may have passed it */
  constructor(
    private readonly id: number,
    readonly large = false,
  ) {}

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** The caller gave up: a reply would reach nobody. */
  get isCancelled(): boolean {
    return this.controller.signal.aborted;
  }

  dispose(reason?: Error): void {
    if (!this.controller.signal.aborted) {
      this.controller.abort(reason ?? new AbortError(`request ${this.id}`, 'cancelled by the caller'));
      this.observed?.end(0, true, this.controller.signal.reason);
    }
  }
}

const callSignal = new AsyncLocalStorage<AbortSignal | undefined>();

/**
 * Runs a served call with `signal` as its call signal. A call that can't be cancelled runs with none — also when
 * the message was delivered in the async context of some other call, which would otherwise leak its signal here.
 * Only when there is nothing to set or clear does it skip the storage, which is the common, cheap case.
 */
export function runWithCallSignal<T>(signal: AbortSignal | undefined, fn: () => T): T {
  if (signal === undefined && callSignal.getStore() === undefined) return fn();
  return callSignal.run(signal, fn);
}

/**
 * Inside a method serving a remote call — synchronously or after awaits — the signal that fires when the caller
 * cancels: its AbortSignal was aborted, its timeout passed, or the connection closed. Undefined when the caller
 * can't cancel (no signal, no timeout). A method that takes the signal as its last parameter gets it there only
 * when the caller passed one; this reaches it either way.
 */
export function currentCallSignal(): AbortSignal | undefined {
  return callSignal.getStore();
}
