/**
 * Something that holds a resource (a listener, a timer, a socket) and releases it when disposed. fdpipe's own
 * classes also take `using` (see `supportUsing` below); this shape asks only for dispose(), so any object with one
 * can be handed to fdpipe.
 */
export interface Disposable {
  dispose(): void;
}

export function toDisposable(release: () => void): Disposable {
  let released = false;
  return {
    dispose() {
      if (released) return;
      released = true;
      release();
    },
  };
}

/**
 * Owns a set of disposables and releases them together. Adding to a store that is already disposed disposes the
 * newcomer at once, so a late registration cannot leak.
 */
export class DisposableStore implements Disposable {
  /** dispose(), for `using`. */
  declare readonly [Symbol.dispose]: () => void;
  private readonly items = new Set<Disposable>();
  private disposed = false;

  get isDisposed(): boolean {
    return this.disposed;
  }

  add<T extends Disposable>(item: T): T {
    if (this.disposed) item.dispose();
    else this.items.add(item);
    return item;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    const items = [...this.items];
    this.items.clear();
    for (const item of items) item.dispose();
  }
}

/**
 * The runtime's Symbol.dispose (or asyncDispose). Node 18.18 to 22 define it in their main realm as the registered
 * `Symbol.for('nodejs.dispose')` and leave it out of vm contexts such as Jest's sandbox, where the registered
 * symbol is still the same one; Node 24's is V8's own, in every realm. On a Node older than 18.18 the registered
 * symbol is a key nothing reads, which is harmless: never the key "undefined".
 */
function wellKnown(name: 'dispose' | 'asyncDispose'): symbol {
  return (Symbol as { dispose?: symbol; asyncDispose?: symbol })[name] ?? Symbol.for(`nodejs.${name}`);
}

/**
 * The one way fdpipe's classes take `using`: gives a class's prototype `[Symbol.dispose]`, which calls the
 * instance's dispose() (so a subclass's override is what runs). A class that does this also declares the member,
 * `declare readonly [Symbol.dispose]: () => void;`, which shows it in the types without emitting anything.
 *
 * The member is installed here rather than written in the class body because a computed `[Symbol.dispose]()`
 * method would, where the realm has no such symbol, land under the key "undefined".
 */
export function supportUsing(prototype: { dispose(): void }): void {
  define(prototype, wellKnown('dispose'), function (this: { dispose(): void }) {
    this.dispose();
  });
}

/**
 * `await using` for a resource whose closing means waiting (a child's exit, a server's close): gives the
 * prototype `[Symbol.asyncDispose]`, which calls the instance's close() and waits for it. Declared in the class as
 * `declare readonly [Symbol.asyncDispose]: () => Promise<void>;`.
 */
export function supportAwaitUsing(prototype: { close(): Promise<unknown> }): void {
  define(prototype, wellKnown('asyncDispose'), async function (this: { close(): Promise<unknown> }) {
    await this.close();
  });
}

function define(prototype: object, key: symbol, value: () => unknown): void {
  Object.defineProperty(prototype, key, { value, writable: true, configurable: true });
}

supportUsing(DisposableStore.prototype);
