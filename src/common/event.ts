import { Disposable, DisposableStore, supportUsing } from './lifecycle';

/** Subscribes a listener; the returned Disposable unsubscribes it. */
export type Event<T> = (listener: (e: T) => void, disposables?: DisposableStore) => Disposable;

export interface EmitterOptions {
  /** Called when the first listener is added. */
  onFirstListener?: () => void;
  /** Called when the last listener is removed. */
  onLastListenerRemoved?: () => void;
  /**
   * Where a listener's exception goes. Without it the exception propagates out of fire(), after which the remaining
   * listeners of that event are skipped; owners that fire from stream callbacks always pass one.
   */
  onListenerError?: (error: unknown) => void;
}

/**
 * The producer side of an Event. Listeners are kept in an array copied on write, so a listener that subscribes or
 * unsubscribes during fire() neither sees nor skips anyone unexpectedly.
 */
export class Emitter<T> implements Disposable {
  /** dispose(), for `using`. */
  declare readonly [Symbol.dispose]: () => void;
  private listeners: ReadonlyArray<(e: T) => void> = [];
  private disposed = false;
  private eventFn: Event<T> | undefined;

  constructor(private readonly options: EmitterOptions = {}) {}

  get event(): Event<T> {
    if (this.eventFn) return this.eventFn;
    this.eventFn = (listener, disposables) => {
      if (this.disposed) return noopDisposable;
      // Each subscription gets its own box so the same function can be subscribed twice and removed once.
      const box = (e: T) => listener(e);
      this.listeners = [...this.listeners, box];
      if (this.listeners.length === 1) this.options.onFirstListener?.();
      let active = true;
      const subscription: Disposable = {
        dispose: () => {
          if (!active) return;
          active = false;
          const index = this.listeners.indexOf(box);
          if (index < 0) return;
          const next = this.listeners.slice();
          next.splice(index, 1);
          this.listeners = next;
          if (next.length === 0 && !this.disposed) this.options.onLastListenerRemoved?.();
        },
      };
      disposables?.add(subscription);
      return subscription;
    };
    return this.eventFn;
  }

  get hasListeners(): boolean {
    return this.listeners.length > 0;
  }

  get listenerCount(): number {
    return this.listeners.length;
  }

  fire(e: T): void {
    const listeners = this.listeners;
    const onError = this.options.onListenerError;
    if (!onError) {
      for (let i = 0; i < listeners.length; i++) listeners[i](e);
      return;
    }
    for (let i = 0; i < listeners.length; i++) {
      try {
        listeners[i](e);
      } catch (error) {
        onError(error);
      }
    }
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.listeners = [];
  }
}

const noopDisposable: Disposable = { dispose() {} };

export namespace Event {
  /** An event that never fires: for a member that must be an event but has nothing to tell. */
  export const None: Event<never> = () => noopDisposable;

  /**
   * Resolves when `resolveOn` fires, or rejects with `reason(e)` when `rejectOn` fires first; either way both
   * listeners are released.
   */
  export function race<T>(resolveOn: Event<unknown>, rejectOn: Event<T>, reason: (e: T) => Error): Promise<void> {
    return new Promise((resolve, reject) => {
      const settle = () => {
        resolved.dispose();
        rejected.dispose();
      };
      const resolved = resolveOn(() => {
        settle();
        resolve();
      });
      const rejected = rejectOn((e) => {
        settle();
        reject(reason(e));
      });
    });
  }
}

supportUsing(Emitter.prototype);
