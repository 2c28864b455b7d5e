import { debug, debugEnabled } from '../../common/debug';
import { ServiceNotFoundError } from '../errors';
import { describeTarget, HANDLER_TARGET } from './wire';

interface Waiter {
  run(): void;
  timer: NodeJS.Timeout;
}

/**
 * Requests and subscriptions for a service that is not exposed yet: the two sides start independently, so a call
 * may arrive before the service it names. Each waits up to `timeoutMs`, then fails with ServiceNotFoundError
 * naming the services that are exposed, so a misspelled name shows at once in the message. With `timeoutMs` 0
 * nothing waits: a name not exposed fails there and then.
 */
export class ServiceWaiters {
  private readonly byName = new Map<string, Set<Waiter>>();

  /** @param exposed the names served now, for the message */
  constructor(
    private readonly timeoutMs: number,
    private readonly exposed: () => Iterable<string>,
  ) {}

  wait(name: string, run: () => void, fail: (error: Error) => void): void {
    if (this.timeoutMs <= 0) {
      fail(this.notFound(name));
      return;
    }
    if (debugEnabled) debug('rpc: waiting up to %d ms for %s to be exposed', this.timeoutMs, describeTarget(name));
    let waiters = this.byName.get(name);
    if (!waiters) this.byName.set(name, (waiters = new Set()));
    const group = waiters;
    const waiter: Waiter = {
      run,
      timer: setTimeout(() => {
        group.delete(waiter);
        if (group.size === 0 && this.byName.get(name) === group) this.byName.delete(name);
        fail(this.notFound(name));
      }, this.timeoutMs),
    };
    group.add(waiter);
  }

  /** `name` is served now: whatever waited for it runs, in arrival order. */
  arrived(name: string): void {
    const waiters = this.byName.get(name);
    if (!waiters) return;
    this.byName.delete(name);
    for (const waiter of waiters) {
      clearTimeout(waiter.timer);
      waiter.run();
    }
  }

  /** Drops every waiter without running or failing it: the connection is gone. */
  clear(): void {
    for (const waiters of this.byName.values()) {
      for (const waiter of waiters) clearTimeout(waiter.timer);
    }
    this.byName.clear();
  }

  private notFound(name: string): ServiceNotFoundError {
    // Services only: the request handler and the faces' control targets ('$…') are no names a caller types.
    const names = [...this.exposed()].filter((n) => n !== HANDLER_TARGET && !n.startsWith('$'));
    const shown = names.slice(0, 20).map((n) => `'${n}'`).join(', ') + (names.length > 20 ? ', …' : '');
    const known = names.length === 0 ? 'it exposes no service yet' : `it exposes ${shown}`;
    const waited = this.timeoutMs > 0 ? ` (waited ${this.timeoutMs} ms)` : '';
    const error = new ServiceNotFoundError(
      `No ${describeTarget(name)} is exposed on the other side${waited}: ${known}. Check the name; a service exposed ` +
        'there later than this needs a longer serviceWaitTimeout on that side',
    );
    error.exposed = names;
    return error;
  }
}
