import { supportUsing, type Disposable as CoreDisposable } from '../../common/lifecycle';

/** VS Code's name for something that releases a resource when disposed; the same shape as fdpipe's Disposable. */
export interface IDisposable extends CoreDisposable {
  dispose(): void;
}

export function isDisposable(thing: unknown): thing is IDisposable {
  return (
    typeof thing === 'object' && thing !== null && typeof (thing as { dispose?: unknown }).dispose === 'function'
  );
}

/** Runs `fn` on the first dispose() only. */
export function toDisposable(fn: () => void): IDisposable {
  let done = false;
  return {
    dispose() {
      if (done) return;
      done = true;
      fn();
    },
  };
}

/** Disposes one disposable, or each of an iterable of them (all of them, even if one throws; then rethrows). */
export function dispose<T extends IDisposable>(disposable: T): T;
export function dispose<T extends IDisposable>(disposable: T | undefined): T | undefined;
export function dispose<T extends IDisposable>(disposables: Iterable<T>): Iterable<T>;
export function dispose<T extends IDisposable>(disposables: T[]): T[];
export function dispose<T extends IDisposable>(
  arg: T | Iterable<T> | undefined,
): T | Iterable<T> | undefined {
  if (arg === undefined) return arg;
  if (isIterable<T>(arg)) {
    const errors: unknown[] = [];
    for (const item of arg) {
      try {
        item.dispose();
      } catch (error) {
        errors.push(error);
      }
    }
    if (errors.length === 1) throw errors[0];
    if (errors.length > 1) throw new AggregateError(errors, 'Several disposables threw while being disposed');
    return Array.isArray(arg) ? [] : arg;
  }
  arg.dispose();
  return arg;
}

function isIterable<T>(thing: unknown): thing is Iterable<T> {
  return typeof thing === 'object' && thing !== null && typeof (thing as Iterable<T>)[Symbol.iterator] === 'function';
}

/**
 * Owns disposables and releases them together. Unlike VS Code, which warns and leaks, adding to a store that is
 * disposed already disposes the newcomer at once: a late registration cannot outlive its owner.
 */
export class DisposableStore implements IDisposable {
  /** dispose(), for `using`. */
  declare readonly [Symbol.dispose]: () => void;
  private readonly toDispose = new Set<IDisposable>();
  private disposed = false;

  get isDisposed(): boolean {
    return this.disposed;
  }

  /** Disposes everything held and stays usable. */
  clear(): void {
    if (this.toDispose.size === 0) return;
    const items = [...this.toDispose];
    this.toDispose.clear();
    dispose(items);
  }

  add<T extends IDisposable>(o: T): T {
    if (this.disposed) o.dispose();
    else this.toDispose.add(o);
    return o;
  }

  /** Disposes `o` and forgets it. */
  delete<T extends IDisposable>(o: T): void {
    this.toDispose.delete(o);
    o.dispose();
  }

  /** Forgets `o` without disposing it: its owner is someone else now. */
  deleteAndLeak<T extends IDisposable>(o: T): void {
    this.toDispose.delete(o);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.clear();
  }
}

/** A base class for objects that own disposables: `_register` hands them over, `dispose` releases them all. */
export abstract class Disposable implements IDisposable {
  /** dispose(), for `using`. */
  declare readonly [Symbol.dispose]: () => void;
  static readonly None: IDisposable = Object.freeze({ dispose() {} });

  protected readonly _store = new DisposableStore();

  protected _register<T extends IDisposable>(o: T): T {
    return this._store.add(o);
  }

  dispose(): void {
    this._store.dispose();
  }
}

supportUsing(DisposableStore.prototype);
supportUsing(Disposable.prototype);
