import { Emitter, Event } from '../common/event';
import { supportUsing, type Disposable } from '../common/lifecycle';
import { warnUnhandled } from '../common/warn';

/** Theia's cancellation token, as RpcProtocol recognises it at the end of a request's arguments. */
export interface CancellationToken {
  readonly isCancellationRequested: boolean;
  readonly onCancellationRequested: Event<void>;
}


/** Runs a token's listener; what it throws becomes a process warning, as nobody up the stack could take it. */
function tell(listener: () => void): void {
  try {
    listener();
  } catch (error) {
    warnUnhandled(error);
  }
}

/** An event that a listener subscribing after cancellation still hears, on a later turn, as Theia's tokens do. */
const alreadyCancelled: Event<void> = (listener) => {
  let live = true;
  queueMicrotask(() => {
    if (live) tell(listener);
  });
  return { dispose: () => void (live = false) };
};

export namespace CancellationToken {
  export const None: CancellationToken = Object.freeze({
    isCancellationRequested: false,
    onCancellationRequested: Event.None,
  });

  export const Cancelled: CancellationToken = Object.freeze({
    isCancellationRequested: true,
    onCancellationRequested: alreadyCancelled,
  });

  /** Any object of a token's shape: Theia's own, vscode-jsonrpc's and this face's tokens all pass. */
  export function is(value: unknown): value is CancellationToken {
    if (typeof value !== 'object' || value === null) return false;
    const token = value as Partial<CancellationToken>;
    return typeof token.isCancellationRequested === 'boolean' && typeof token.onCancellationRequested === 'function';
  }
}

/** The token of an AbortSignal: what a served request's handler gets when its caller passed a token. */
export function tokenOf(signal: AbortSignal): CancellationToken {
  return {
    get isCancellationRequested() {
      return signal.aborted;
    },
    onCancellationRequested: (listener, disposables) => {
      if (signal.aborted) return alreadyCancelled(listener, disposables);
      const onAbort = () => tell(listener);
      signal.addEventListener('abort', onAbort, { once: true });
      const subscription = { dispose: () => signal.removeEventListener('abort', onAbort) };
      disposables?.add(subscription);
      return subscription;
    },
  };
}

/** Makes tokens and cancels them; a token made from a parent is cancelled with it. */
export class CancellationTokenSource implements Disposable {
  /** dispose(), for `using`. */
  declare readonly [Symbol.dispose]: () => void;
  private readonly cancelled = new Emitter<void>({ onListenerError: warnUnhandled });
  private requested = false;
  private readonly parentListener: Disposable | undefined;
  private tokenObject: CancellationToken | undefined;

  constructor(parent?: CancellationToken) {
    this.parentListener = parent?.onCancellationRequested(() => this.cancel());
    if (parent?.isCancellationRequested) this.cancel();
  }

  get token(): CancellationToken {
    if (this.tokenObject) return this.tokenObject;
    const source = this;
    return (this.tokenObject = {
      get isCancellationRequested() {
        return source.requested;
      },
      onCancellationRequested: (listener, disposables) =>
        source.requested ? alreadyCancelled(listener, disposables) : source.cancelled.event(listener, disposables),
    });
  }

  cancel(): void {
    if (this.requested) return;
    this.requested = true;
    this.cancelled.fire();
    this.cancelled.dispose();
  }

  /** Cancels, as Theia's does, and lets go of the parent. */
  dispose(): void {
    this.cancel();
    this.parentListener?.dispose();
  }
}

supportUsing(CancellationTokenSource.prototype);
