import { AsyncLocalStorage } from 'async_hooks';

const storage = new AsyncLocalStorage<AbortSignal | undefined>();

/**
 * Runs a served call with `signal` as its call signal. A call that can't be cancelled runs with none — also when
 * the message was delivered in the async context of some other call, which would otherwise leak its signal here.
 * Only when there is nothing to set or clear does it skip the storage, which is the common, cheap case.
 */
export function runWithCallSignal<T>(signal: AbortSignal | undefined, fn: () => T): T {
  if (signal === undefined && storage.getStore() === undefined) return fn();
  return storage.run(signal, fn);
}

/**
 * Inside a method serving a remote call — synchronously or after awaits — the signal that fires when the caller
 * cancels: its AbortSignal was aborted, its timeout passed, or the connection closed. Undefined when the caller
 * can't cancel (no signal, no timeout). A method that takes the signal as its last parameter gets it there only
 * when the caller passed one; this reaches it either way.
 */
export function currentCallSignal(): AbortSignal | undefined {
  return storage.getStore();
}
