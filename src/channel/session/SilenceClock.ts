/**
 * How long the peer has been silent, counting only the time this process was free to hear it.
 *
 * A timer that fires late means this side's event loop was busy: whatever the peer sent meanwhile is waiting,
 * unread, in the socket. So each tick adds at most two tick lengths, however long it really took — a loop blocked
 * for a minute costs the peer two ticks of silence, not a minute, and a peer is never called unresponsive (or
 * its socket timed out) for this side's own stall. What counts is the peer not talking while we could listen.
 */
export class SilenceClock {
  private lastTick: number;
  private silent = 0;

  constructor(
    private readonly tickMs: number,
    private readonly now: () => number = Date.now,
  ) {
    this.lastTick = now();
  }

  /** Silence so far, in ms of time this side could have heard the peer. */
  get silentMs(): number {
    return this.silent;
  }

  /** Called by the owner's timer every tickMs; returns the silence so far. */
  tick(): number {
    const now = this.now();
    const elapsed = Math.max(0, now - this.lastTick);
    this.lastTick = now;
    this.silent += Math.min(elapsed, 2 * this.tickMs);
    return this.silent;
  }

  /** The peer was heard. */
  heard(): void {
    this.silent = 0;
  }

  /** Starts over, as when a new socket is attached. */
  reset(): void {
    this.silent = 0;
    this.lastTick = this.now();
  }
}
