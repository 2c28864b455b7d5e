import { ServiceNotFoundError } from '../errors';
import { describeTarget } from './wire';

interface Waiter {
  run(): void;
  timer: NodeJS.Timeout;
}

/**
 * Requests and subscriptions for a service that is not exposed yet: the two sides start independently, so a call
 * may arrive before the service it names. Each waits up to `timeoutMs`, then fails with ServiceNotFoundError.
 */
export class ServiceWaiters {
  private readonly byName = new Map<string, Set<Waiter>>();

  constructor(private readonly timeoutMs: number) {}

  wait(name: string, run: () => void, fail: (error: Error) => void): void {
    let waiters = this.byName.get(name);
    if (!waiters) this.byName.set(name, (waiters = new Set()));
    const group = waiters;
    const waiter: Waiter = {
      run,
      timer: setTimeout(() => {
        group.delete(waiter);
        if (group.size === 0 && this.byName.get(name) === group) this.byName.delete(name);
        fail(
          new ServiceNotFoundError(
            `No ${describeTarget(name)} is exposed on the other side (waited ${this.timeoutMs} ms)`,
          ),
        );
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
}
