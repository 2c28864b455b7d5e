import { CancellationToken } from './cancellation';
import { Emitter } from './event';
import { toDisposable, type IDisposable } from './lifecycle';

// Where VS Code's CancellationToken meets fdpipe's AbortSignal. Not exported from the face: users hold tokens.

/** A signal that aborts when `token` is cancelled; dispose() when the call settles to drop the token's listener. */
export function signalFromToken(token: CancellationToken): { signal: AbortSignal } & IDisposable {
  const controller = new AbortController();
  if (token.isCancellationRequested) {
    controller.abort();
    return { signal: controller.signal, dispose() {} };
  }
  const listener = token.onCancellationRequested(() => controller.abort());
  return { signal: controller.signal, dispose: () => listener.dispose() };
}

/** A token that is cancelled when `signal` aborts; CancellationToken.None for a call that cannot be cancelled. */
export function tokenFromSignal(signal: AbortSignal | undefined): CancellationToken {
  if (!signal) return CancellationToken.None;
  if (signal.aborted) return CancellationToken.Cancelled;
  let emitter: Emitter<void> | undefined;
  const onAbort = () => {
    emitter?.fire(undefined);
    emitter?.dispose();
  };
  return {
    get isCancellationRequested() {
      return signal.aborted;
    },
    onCancellationRequested(listener, thisArgs, disposables) {
      if (signal.aborted) return CancellationToken.Cancelled.onCancellationRequested(listener, thisArgs, disposables);
      if (!emitter) {
        emitter = new Emitter<void>();
        signal.addEventListener('abort', onAbort, { once: true });
      }
      const subscription = emitter.event(listener, thisArgs, disposables);
      return toDisposable(() => subscription.dispose());
    },
  };
}
