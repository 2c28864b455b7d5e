/**
 * The last `capacity` ids added, in a ring. add() is one store, on the path of every large cancellable call; has() scans
 * the ring, and is asked only when a cancel finds nothing under its id, which is rare. The ring is allocated on the
 * first add(), so a connection that never serves a cancellable call pays nothing.
 */
export class RecentIds {
  private ring: Uint32Array | undefined;
  private count = 0;

  constructor(private readonly capacity: number) {}

  /** `id` must be above 0: an unused slot holds 0. */
  add(id: number): void {
    const ring = (this.ring ??= new Uint32Array(this.capacity));
    ring[this.count++ % this.capacity] = id;
  }

  has(id: number): boolean {
    const ring = this.ring;
    if (ring === undefined) return false;
    const filled = Math.min(this.count, this.capacity);
    for (let i = 0; i < filled; i++) if (ring[i] === id) return true;
    return false;
  }

  clear(): void {
    this.ring = undefined;
    this.count = 0;
  }
}
