import type { Channel, ReadBufferProvider } from '../../channel/Channel';

/**
 * Bounds what a peer that does not read can make this side queue for it. While the channel holds more than
 * `maxUnsent` unsent bytes, incoming messages wait here, in order, and the channel stops reading; once it has
 * drained to half, they are handled again, in order, and reading resumes. A request answered later (a service
 * that returns a promise) says nothing of its reply's size until the reply goes out, so after one, what follows
 * waits a turn of the event loop: a burst of requests in one read cannot pile up replies before the bound is
 * checked again.
 *
 * Only the side that serves strangers (IPCServer) uses it: if both peers of a connection paused reading while
 * both sent heavily, neither would drain.
 */
export class IncomingGate {
  /** Messages held back, oldest first; undefined while messages pass straight through. */
  private held: ReadBufferProvider[] | undefined;
  private paused = false;
  private stopped = false;

  constructor(
    private readonly channel: Channel & { readonly unsentBytes: number },
    private readonly maxUnsent: number,
    /** Handles one message; true when it was a request that this side has not answered yet. */
    private readonly handle: (provider: ReadBufferProvider) => boolean,
  ) {}

  admit(provider: ReadBufferProvider): void {
    if (this.held) {
      this.held.push(provider);
      return;
    }
    if (this.channel.unsentBytes > this.maxUnsent) {
      this.held = [provider];
      this.waitForDrain();
      return;
    }
    this.pass(provider);
  }

  /** The protocol has closed: nothing held is handled, and the channel is left as it is. */
  stop(): void {
    this.stopped = true;
    this.held = undefined;
  }

  private pass(provider: ReadBufferProvider): void {
    if (!this.handle(provider) || this.stopped) return;
    this.held ??= [];
    setImmediate(() => this.release());
  }

  private waitForDrain(): void {
    if (!this.paused) {
      this.paused = true;
      this.channel.pauseReading?.(true);
    }
    void this.channel.whenUnsentBelow?.(this.maxUnsent / 2).then(() => this.release());
  }

  /** Handles what was held, in order, until the bound is crossed again or a request is answered later. */
  private release(): void {
    const held = this.held;
    if (this.stopped || !held) return;
    while (held.length > 0) {
      if (this.channel.isClosed) return this.stop();
      if (this.channel.unsentBytes > this.maxUnsent) return this.waitForDrain();
      const provider = held.shift()!;
      if (this.handle(provider) && !this.stopped) {
        setImmediate(() => this.release());
        return;
      }
      if (this.stopped) return;
    }
    this.held = undefined;
    if (this.paused) {
      this.paused = false;
      this.channel.pauseReading?.(false);
    }
  }
}
