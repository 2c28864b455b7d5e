import { Duplex } from 'stream';

/** A small seeded generator, so a failing run can be repeated from its seed. */
export function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** One end of an in-memory socket: what it writes reaches the other end `latencyMs` later (by the timers). */
class LinkEnd extends Duplex {
  peer!: LinkEnd;
  constructor(private readonly link: FlakyLink) {
    super();
  }
  override _read(): void {}
  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.link.carry(this, chunk);
    callback();
  }
  override _final(callback: () => void): void {
    this.link.carryEnd(this);
    callback();
  }
}

/**
 * A pair of connected Duplex streams with latency, that can be cut: cut() destroys both ends at once, and a cut
 * scheduled with cutAfter(n) lets exactly n more bytes through (in either direction), so it lands inside a frame
 * as easily as between two. stall() stops carrying bytes without closing anything, as a dead route does.
 */
export class FlakyLink {
  readonly a: LinkEnd;
  readonly b: LinkEnd;
  private budget = Infinity;
  private stalled = false;
  private cutDone = false;
  /** The budget ran out: nothing more is carried, and the cut follows the last bytes. */
  private cutting = false;
  bytes = 0;

  constructor(private readonly latencyMs: number) {
    this.a = new LinkEnd(this);
    this.b = new LinkEnd(this);
    this.a.peer = this.b;
    this.b.peer = this.a;
  }

  get isCut(): boolean {
    return this.cutDone || this.cutting;
  }

  /** Lets `bytes` more bytes through, then cuts. */
  cutAfter(bytes: number): void {
    this.budget = bytes;
  }

  stall(): void {
    this.stalled = true;
  }

  cut(): void {
    if (this.cutDone) return;
    this.cutDone = true;
    this.a.destroy();
    this.b.destroy();
  }

  carry(from: LinkEnd, chunk: Buffer): void {
    if (this.isCut || this.stalled) return;
    let piece = chunk;
    let cutNow = false;
    if (piece.byteLength >= this.budget) {
      piece = piece.subarray(0, this.budget);
      cutNow = true;
    }
    this.budget -= piece.byteLength;
    this.bytes += piece.byteLength;
    const copy = Buffer.from(piece);
    const deliver = () => {
      if (!from.peer.destroyed) from.peer.push(copy);
      if (cutNow) this.cut();
    };
    if (cutNow) this.cutting = true;
    setTimeout(deliver, this.latencyMs);
  }

  carryEnd(from: LinkEnd): void {
    if (this.isCut || this.stalled) return;
    setTimeout(() => {
      if (!from.peer.destroyed) from.peer.push(null);
    }, this.latencyMs);
  }
}
