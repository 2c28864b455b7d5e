/** A promise with its resolve and reject at hand, and whether it has settled. */
export class Deferred<T = void> {
  state: 'resolved' | 'rejected' | 'unresolved' = 'unresolved';
  resolve!: (value: T | PromiseLike<T>) => void;
  reject!: (reason?: unknown) => void;

  readonly promise = new Promise<T>((resolve, reject) => {
    this.resolve = resolve;
    this.reject = reject;
  }).then(
    (value) => {
      if (this.state === 'unresolved') this.state = 'resolved';
      return value;
    },
    (reason: unknown) => {
      if (this.state === 'unresolved') this.state = 'rejected';
      throw reason;
    },
  );
}
