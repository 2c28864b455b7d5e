import { Emitter, type Event } from '../common/event';
import { warnUnhandled } from '../common/warn';
import { supportUsing } from '../common/lifecycle';

/** Something that holds a resource and releases it when disposed. The same shape as fdpipe's Disposable. */
export interface Disposable {
  dispose(): void;
}

export namespace Disposable {
  export function is(value: unknown): value is Disposable {
    return typeof value === 'object' && value !== null && typeof (value as Partial<Disposable>).dispose === 'function';
  }

  export function create(release: () => void): Disposable {
    return { dispose: release };
  }

  /** A Disposable that does nothing; a new one each time, so two owners never share it. */
  export declare const NULL: Disposable;
}
Object.defineProperty(Disposable, 'NULL', { enumerable: true, get: (): Disposable => ({ dispose() {} }) });

/**
 * Theia's DisposableCollection: disposes what was pushed, the last first, once. Something pushed after the
 * collection was disposed is disposed at once, so a late registration cannot leak; `disposed` is true from the
 * first dispose() on.
 */
export class DisposableCollection implements Disposable {
  /** dispose(), for `using`. */
  declare readonly [Symbol.dispose]: () => void;
  private readonly items: Disposable[] = [];
  private isDisposed = false;
  private readonly disposeEmitter = new Emitter<void>({ onListenerError: warnUnhandled });

  constructor(...toDispose: Disposable[]) {
    this.pushAll(toDispose);
  }

  get disposed(): boolean {
    return this.isDisposed;
  }

  /** Fires once, when the collection has been disposed. */
  get onDispose(): Event<void> {
    return this.disposeEmitter.event;
  }

  /** Adds `disposable`; the result takes it out again without disposing it. */
  push(disposable: Disposable): Disposable {
    if (this.isDisposed) {
      disposable.dispose();
      return Disposable.NULL;
    }
    this.items.push(disposable);
    const toRemove = Disposable.create(() => {
      const index = this.items.indexOf(disposable);
      if (index >= 0) this.items.splice(index, 1);
    });
    // As in Theia, an item its holder disposes leaves the collection, so it is neither kept nor disposed twice.
    // An item that cannot take a new dispose (frozen, sealed, read-only) stays until the collection is disposed.
    const release = disposable.dispose;
    try {
      disposable.dispose = () => {
        toRemove.dispose();
        disposable.dispose = release;
        release.call(disposable);
      };
    } catch {
      // not watched
    }
    return toRemove;
  }

  pushAll(disposables: Disposable[]): Disposable[] {
    return disposables.map((disposable) => this.push(disposable));
  }

  dispose(): void {
    if (this.isDisposed) return;
    // Disposed from here on: what the items' own disposal pushes is released at once, and sees `disposed`.
    this.isDisposed = true;
    // One failing item must not keep the others: each is released, a failure becomes a process warning.
    for (let item = this.items.pop(); item; item = this.items.pop()) {
      try {
        item.dispose();
      } catch (error) {
        warnUnhandled(error);
      }
    }
    this.disposeEmitter.fire();
    this.disposeEmitter.dispose();
  }
}

supportUsing(DisposableCollection.prototype);
