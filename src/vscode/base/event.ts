import { EventEmitter } from 'events';
import { Emitter as CoreEmitter } from '../../common/event';
import { onUnexpectedError } from './errors';
import { Disposable, DisposableStore, toDisposable, type IDisposable } from './lifecycle';
import { supportUsing } from '../../common/lifecycle';

/**
 * VS Code's event: subscribe a listener, optionally called with `thisArgs` as `this`, optionally handing the
 * subscription to `disposables`. fdpipe's own Event takes only a store; this one is a superset of it, so an
 * Event of this face can be given wherever fdpipe expects one.
 */
export interface Event<T> {
  (listener: (e: T) => unknown, thisArgs?: unknown, disposables?: IDisposable[] | DisposableStore): IDisposable;
}

export interface EmitterOptions {
  onWillAddFirstListener?: () => void;
  onDidAddFirstListener?: () => void;
  onDidAddListener?: () => void;
  onWillRemoveListener?: () => void;
  onDidRemoveLastListener?: () => void;
  /** Where a listener's exception goes; default onUnexpectedError (a process warning). */
  onListenerError?: (error: unknown) => void;
}

function addTo(subscription: IDisposable, disposables: IDisposable[] | DisposableStore | undefined): void {
  if (Array.isArray(disposables)) disposables.push(subscription);
  else disposables?.add(subscription);
}

/** VS Code's Emitter, over fdpipe's: the listener bookkeeping is fdpipe's, the hooks and `thisArgs` VS Code's. */
export class Emitter<T> implements IDisposable {
  /** dispose(), for `using`. */
  declare readonly [Symbol.dispose]: () => void;
  private readonly inner: CoreEmitter<T>;
  private disposed = false;
  private eventFn: Event<T> | undefined;

  constructor(private readonly options: EmitterOptions = {}) {
    this.inner = new CoreEmitter<T>({ onListenerError: options.onListenerError ?? onUnexpectedError });
  }

  get event(): Event<T> {
    if (this.eventFn) return this.eventFn;
    this.eventFn = (listener, thisArgs, disposables) => {
      if (this.disposed) return Disposable.None;
      const first = !this.inner.hasListeners;
      if (first) this.options.onWillAddFirstListener?.();
      const bound = thisArgs === undefined ? listener : (e: T) => listener.call(thisArgs, e);
      const subscription = this.inner.event(bound);
      if (first) this.options.onDidAddFirstListener?.();
      this.options.onDidAddListener?.();
      const result = toDisposable(() => {
        if (this.disposed) return;
        this.options.onWillRemoveListener?.();
        subscription.dispose();
        if (!this.inner.hasListeners) this.options.onDidRemoveLastListener?.();
      });
      addTo(result, disposables);
      return result;
    };
    return this.eventFn;
  }

  fire(event: T): void {
    if (!this.disposed) this.inner.fire(event);
  }

  hasListeners(): boolean {
    return this.inner.hasListeners;
  }

  dispose(): void {
    if (this.disposed) return;
    const hadListeners = this.inner.hasListeners;
    this.disposed = true;
    this.inner.dispose();
    if (hadListeners) this.options.onDidRemoveLastListener?.();
  }
}

/** An event whose source can be swapped: listeners stay, the input changes (for channels known later). */
export class Relay<T> implements IDisposable {
  /** dispose(), for `using`. */
  declare readonly [Symbol.dispose]: () => void;
  private listening = false;
  private inputEvent: Event<T> = Event.None;
  private inputSubscription: IDisposable = Disposable.None;
  private readonly emitter = new Emitter<T>({
    onWillAddFirstListener: () => {
      this.listening = true;
      this.inputSubscription = this.inputEvent((e) => this.emitter.fire(e));
    },
    onDidRemoveLastListener: () => {
      this.listening = false;
      this.inputSubscription.dispose();
    },
  });

  readonly event: Event<T> = this.emitter.event;

  set input(event: Event<T>) {
    this.inputEvent = event;
    if (this.listening) {
      this.inputSubscription.dispose();
      this.inputSubscription = event((e) => this.emitter.fire(e));
    }
  }

  dispose(): void {
    this.inputSubscription.dispose();
    this.emitter.dispose();
  }
}

/** Merges a changing set of events into one. */
export class EventMultiplexer<T> implements IDisposable {
  /** dispose(), for `using`. */
  declare readonly [Symbol.dispose]: () => void;
  private readonly emitter: Emitter<T>;
  private hasListeners = false;
  private readonly events: Array<{ event: Event<T>; listener: IDisposable | null }> = [];

  constructor() {
    this.emitter = new Emitter<T>({
      onWillAddFirstListener: () => {
        this.hasListeners = true;
        for (const entry of this.events) entry.listener = entry.event((e) => this.emitter.fire(e));
      },
      onDidRemoveLastListener: () => {
        this.hasListeners = false;
        for (const entry of this.events) {
          entry.listener?.dispose();
          entry.listener = null;
        }
      },
    });
  }

  get event(): Event<T> {
    return this.emitter.event;
  }

  add(event: Event<T>): IDisposable {
    const entry: { event: Event<T>; listener: IDisposable | null } = { event, listener: null };
    this.events.push(entry);
    if (this.hasListeners) entry.listener = event((e) => this.emitter.fire(e));
    return toDisposable(() => {
      entry.listener?.dispose();
      entry.listener = null;
      const index = this.events.indexOf(entry);
      if (index >= 0) this.events.splice(index, 1);
    });
  }

  dispose(): void {
    for (const entry of this.events) entry.listener?.dispose();
    this.events.length = 0;
    this.emitter.dispose();
  }
}

export namespace Event {
  export const None: Event<never> = () => Disposable.None;

  /** The next firing only. */
  export function once<T>(event: Event<T>): Event<T> {
    return (listener, thisArgs, disposables) => {
      let fired = false;
      let subscription: IDisposable | undefined;
      subscription = event((e) => {
        if (fired) return;
        fired = true;
        subscription?.dispose();
        listener.call(thisArgs, e);
      });
      // The source may fire while subscribing (a replaying source): it is over before it began.
      if (fired) subscription.dispose();
      addTo(subscription, disposables);
      return subscription;
    };
  }

  /** Resolves with the next firing. */
  export function toPromise<T>(event: Event<T>, disposables?: IDisposable[] | DisposableStore): Promise<T> {
    return new Promise((resolve) => once(event)(resolve, undefined, disposables));
  }

  export function filter<T, U extends T>(event: Event<T>, filter: (e: T) => e is U): Event<U>;
  export function filter<T>(event: Event<T>, filter: (e: T) => boolean): Event<T>;
  export function filter<T>(event: Event<T>, filter: (e: T) => boolean): Event<T> {
    return (listener, thisArgs, disposables) =>
      event((e) => filter(e) && listener.call(thisArgs, e), undefined, disposables);
  }

  export function map<I, O>(event: Event<I>, map: (i: I) => O): Event<O> {
    return (listener, thisArgs, disposables) => event((i) => listener.call(thisArgs, map(i)), undefined, disposables);
  }

  export function any<T>(...events: Event<T>[]): Event<T> {
    return (listener, thisArgs, disposables) => {
      const store = new DisposableStore();
      for (const event of events) store.add(event((e) => listener.call(thisArgs, e)));
      addTo(store, disposables);
      return store;
    };
  }

  /** A Node EventEmitter's event, its arguments mapped to one value (the first argument by default). */
  export function fromNodeEventEmitter<T, A extends unknown[] = unknown[]>(
    emitter: EventEmitter | NodeJS.EventEmitter,
    eventName: string,
    map: (...args: A) => T = (...args: A) => args[0] as T,
  ): Event<T> {
    const result: Emitter<T> = new Emitter<T>({
      onWillAddFirstListener: () => emitter.on(eventName, fire),
      onDidRemoveLastListener: () => emitter.removeListener(eventName, fire),
    });
    const fire = (...args: A) => result.fire(map(...args));
    return result.event;
  }

  /**
   * Keeps what `event` fires until the first listener comes, then hands it over (on the next turn when
   * `flushAfterTimeout`) and relays from then on.
   */
  export function buffer<T>(
    event: Event<T>,
    _debugName?: string,
    flushAfterTimeout = false,
    initial: T[] = [],
    disposable?: DisposableStore,
  ): Event<T> {
    let buffered: T[] | null = initial.slice();
    let listener: IDisposable | null = event((e) => {
      if (buffered) buffered.push(e);
      else emitter.fire(e);
    });
    if (disposable) disposable.add(toDisposable(() => listener?.dispose()));
    const flush = () => {
      const pending = buffered ?? [];
      buffered = null;
      for (const e of pending) emitter.fire(e);
    };
    const emitter: Emitter<T> = new Emitter<T>({
      onWillAddFirstListener: () => {
        if (!listener) listener = event((e) => emitter.fire(e));
      },
      onDidAddFirstListener: () => {
        if (!buffered) return;
        if (flushAfterTimeout) setTimeout(flush);
        else flush();
      },
      onDidRemoveLastListener: () => {
        listener?.dispose();
        listener = null;
      },
    });
    if (disposable) disposable.add(emitter);
    return emitter.event;
  }
}

supportUsing(Emitter.prototype);
supportUsing(Relay.prototype);
supportUsing(EventMultiplexer.prototype);
