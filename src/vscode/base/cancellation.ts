import { Emitter, Event } from './event';
import { Disposable, type IDisposable } from './lifecycle';
import { supportUsing } from '../../common/lifecycle';

/** VS Code's cancellation token: a flag and an event. fdpipe's core takes an AbortSignal; see signals.ts. */
export interface CancellationToken {
  readonly isCancellationRequested: boolean;
  /** Fires once, when cancellation is requested; subscribing after that calls the listener on the next turn. */
  readonly onCancellationRequested: (
    listener: (e: void) => unknown,
    thisArgs?: unknown,
    disposables?: IDisposable[],
  ) => IDisposable;
}

/** The event of a token that is cancelled already: every listener is called soon, once. */
const shortcutEvent: Event<void> = Object.freeze(function (
  callback: (e: void) => unknown,
  context?: unknown,
): IDisposable {
  const handle = setTimeout(callback.bind(context), 0);
  return { dispose: () => clearTimeout(handle) };
});

export namespace CancellationToken {
  export function isCancellationToken(thing: unknown): thing is CancellationToken {
    if (thing === CancellationToken.None || thing === CancellationToken.Cancelled) return true;
    if (thing instanceof MutableToken) return true;
    if (typeof thing !== 'object' || thing === null) return false;
    const candidate = thing as Partial<CancellationToken>;
    return (
      typeof candidate.isCancellationRequested === 'boolean' && typeof candidate.onCancellationRequested === 'function'
    );
  }

  export const None: CancellationToken = Object.freeze({
    isCancellationRequested: false,
    onCancellationRequested: Event.None,
  });

  export const Cancelled: CancellationToken = Object.freeze({
    isCancellationRequested: true,
    onCancellationRequested: shortcutEvent,
  });
}

class MutableToken implements CancellationToken {
  private cancelled = false;
  private emitter: Emitter<void> | null = null;

  cancel(): void {
    if (this.cancelled) return;
    this.cancelled = true;
    if (this.emitter) {
      this.emitter.fire(undefined);
      this.dispose();
    }
  }

  get isCancellationRequested(): boolean {
    return this.cancelled;
  }

  get onCancellationRequested(): Event<void> {
    if (this.cancelled) return shortcutEvent;
    this.emitter ??= new Emitter<void>();
    return this.emitter.event;
  }

  dispose(): void {
    this.emitter?.dispose();
    this.emitter = null;
  }
}

/** Makes a token and cancels it; a parent token's cancellation cancels it too. */
export class CancellationTokenSource {
  /** dispose(), for `using`. */
  declare readonly [Symbol.dispose]: () => void;
  private tokenValue: CancellationToken | undefined;
  private readonly parentListener: IDisposable;

  constructor(parent?: CancellationToken) {
    this.parentListener = parent ? parent.onCancellationRequested(() => this.cancel()) : Disposable.None;
  }

  get token(): CancellationToken {
    // Made on demand, as in VS Code: a source that is cancelled before anyone asked hands out the shared token.
    this.tokenValue ??= new MutableToken();
    return this.tokenValue;
  }

  cancel(): void {
    if (!this.tokenValue) this.tokenValue = CancellationToken.Cancelled;
    else if (this.tokenValue instanceof MutableToken) this.tokenValue.cancel();
  }

  dispose(cancel = false): void {
    if (cancel) this.cancel();
    this.parentListener.dispose();
    if (!this.tokenValue) this.tokenValue = CancellationToken.None;
    else if (this.tokenValue instanceof MutableToken) this.tokenValue.dispose();
  }
}

supportUsing(CancellationTokenSource.prototype);
