import type { Channel, ReadBufferProvider } from '../../channel/Channel';

/** The most requests answered later that one turn of the event loop starts, however small their replies. */
const MAX_BUDGET = 4096;

/**
 * Bounds what a peer that does not read can make this side queue for it. While the channel holds more than
 * `maxUnsent` unsent bytes, incoming messages wait here, in order, and the channel stops reading; once it has
 * drained to half, they are handled again, in order, and reading resumes.
 *
 * A request answered later (a service that returns a promise) says nothing of its reply's size until the reply
 * goes out, so one turn of the event loop starts only so many of them (its budget), and the messages after them
 * wait for the next turn. The budget starts at 1 and doubles each turn, but never beyond what the room left
 * under `maxUnsent` holds at the reply size the last turn showed: a burst of requests in one read cannot pile up
 * replies before the bound is checked again, and a well-behaved peer's pipelined calls soon run a turn's worth
 * at a time.
 *
 * Only the side that serves strangers (IPCServer) uses it: if both peers of a connection paused reading while
 * both sent heavily, neither would drain.
 */
export class IncomingGate {
  /** Messages held back, oldest first; undefined while messages pass straight through. */
  private held: ReadBufferProvider[] | undefined;
  private paused = false;
  private stopped = false;
  private budget = 1;
  /** Requests answered later started in this turn, and the unsent bytes before the first of them. */
  private turnCount = 0;
  private turnStartUnsent = 0;
  private turnScheduled = false;

  constructor(
    private readonly channel: Channel & { readonly unsentBytes: number },
    private readonly maxUnsent: number,
    /** Handles one message; true when it was a request. */
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
    if (this.turnCount >= this.budget) this.held ??= [];
  }

  /**
   * The protocol is closing: nothing more is handled, and the channel is left as it is. `handleHeld`, when the peer
   * went (not when this side closed): what was held is handled first, in order, as it would have been without the
   * bound; its calls then end with the protocol.
   */
  stop(handleHeld = false): void {
    const held = this.held;
    this.stopped = true;
    this.held = undefined;
    if (held && handleHeld) for (const provider of held) this.handle(provider);
  }

  private pass(provider: ReadBufferProvider): void {
    const before = this.channel.unsentBytes;
    if (!this.handle(provider) || this.channel.unsentBytes !== before) return;
    if (this.turnCount++ === 0) this.turnStartUnsent = before;
    if (!this.turnScheduled) {
      this.turnScheduled = true;
      setImmediate(() => this.endTurn());
    }
  }

  /** The replies of this turn's requests that were ready have gone out: the next budget follows from them. */
  private endTurn(): void {
    this.turnScheduled = false;
    if (this.stopped) return;
    const unsent = this.channel.unsentBytes;
    const perReply = (unsent - this.turnStartUnsent) / Math.max(this.turnCount, 1);
    let budget = Math.min(this.budget * 2, MAX_BUDGET);
    if (perReply > 0) budget = Math.min(budget, Math.floor((this.maxUnsent - unsent) / perReply));
    this.budget = Math.max(budget, 1);
    this.turnCount = 0;
    this.release();
  }

  private waitForDrain(): void {
    if (!this.paused) {
      this.paused = true;
      this.channel.pauseReading?.(true);
    }
    void this.channel.whenUnsentBelow?.(this.maxUnsent / 2).then(() => this.release());
  }

  /** Handles what was held, in order, until the bound is crossed again or the turn's budget is spent. */
  private release(): void {
    const held = this.held;
    if (this.stopped || !held) return;
    while (held.length > 0) {
      // The protocol's close, which comes first, handled what was held.
      if (this.channel.isClosed) return;
      if (this.turnCount >= this.budget) return; // endTurn() comes back
      if (this.channel.unsentBytes > this.maxUnsent) return this.waitForDrain();
      this.pass(held.shift()!);
      if (this.stopped) return;
    }
    this.held = undefined;
    if (this.paused) {
      this.paused = false;
      this.channel.pauseReading?.(false);
    }
  }
}
