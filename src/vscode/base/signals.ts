import { CancellationToken } from './cancellation';
import { Emitter } from './event';
import { toDisposable } from './lifecycle';

// Where VS Code's CancellationToken meets fdpipe's AbortSignal. Not exported from the face: users hold tokens.

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
