import { AsyncLocalStorage } from 'async_hooks';

// Only calls that can be cancelled (the caller gave a signal or a timeout) run inside this storage, so the others
// pay nothing for it.
const storage = new AsyncLocalStorage<AbortSignal>();

export function runWithCallSignal<T>(signal: AbortSignal, fn: () => T): T {
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
