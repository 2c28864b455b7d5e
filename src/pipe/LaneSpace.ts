/**
 * The space of one side's region of a bulk lane, as its writer hands it out: each message claims a run, and the
 * reader gives runs back in the order they were claimed (it reads lane messages in order). So the claimed runs form
 * a ring: oldest at `start`, newest ending at `end`, wrapping to the region's beginning when the end has no room.
 */
export class LaneSpace {
  /** Claimed runs, oldest first: offset, size, offset, size, … */
  private readonly claims: number[] = [];
  private end = 0;
  /** The newest runs lie before the oldest: the ring has wrapped. */
  private wrapped = false;

  constructor(readonly size: number) {}

  /** Bytes claimed and not yet given back. */
  get claimedBytes(): number {
    let total = 0;
    for (let i = 1; i < this.claims.length; i += 2) total += this.claims[i];
    return total;
  }

  /** Where a run of `size` bytes starts, or undefined when the region has no room for it now. */
  claim(size: number): number | undefined {
    const claims = this.claims;
    let at: number;
    if (claims.length === 0) {
      // Empty: back to the start, whose pages are the ones most recently used.
      at = 0;
      this.wrapped = false;
    } else if (!this.wrapped && this.end + size <= this.size) {
      at = this.end;
    } else if (!this.wrapped && size <= claims[0]) {
      at = 0;
      this.wrapped = true;
    } else if (this.wrapped && this.end + size <= claims[0]) {
      at = this.end;
    } else {
      return undefined;
    }
    if (at + size > this.size) return undefined;
    claims.push(at, size);
    this.end = at + size;
    return at;
  }

  /** Gives back the newest run, which was claimed but could not be written. */
  unclaim(): void {
    const claims = this.claims;
    claims.length -= 2;
    if (claims.length === 0) {
      this.end = 0;
      this.wrapped = false;
      return;
    }
    const newest = claims.length - 2;
    this.end = claims[newest] + claims[newest + 1];
    if (this.wrapped && claims[newest] >= claims[0]) this.wrapped = false;
  }

  /** The reader gave back the run at `offset` of `size` bytes; false when that is not the oldest run claimed. */
  release(offset: number, size: number): boolean {
    const claims = this.claims;
    if (claims.length === 0 || claims[0] !== offset || claims[1] !== size) return false;
    claims.splice(0, 2);
    if (claims.length === 0) {
      this.end = 0;
      this.wrapped = false;
    } else if (this.wrapped && claims[0] < offset) {
      // The oldest run now is one of those that wrapped: the ring is in one piece again.
      this.wrapped = false;
    }
    return true;
  }
}
