import { EARLY_CANCEL_TTL_MS } from './cancellation';
import { RecentIds } from './RecentIds';

/** Cancels that came before their requests, remembered at most. */
const MAX_EARLY_ENDS = 1024;
/**
 * Large cancellable requests that ended here, remembered by id: a cancel that may have passed its request but
 * finds nothing under an id among them is an early one. Enough for the large requests a busy connection ends while
 * a cancel is on its way, in 32 KiB.
 */
const RECENTLY_ENDED = 8192;

/**
 * A callee's record of cancels that passed their request on the way (a large request travels in fragments, its
 * cancel whole): each is kept, by id, until its request comes and is dropped, for EARLY_CANCEL_TTL_MS at most. Ids
 * say nothing by their order (a small request sent after a large one arrives first, and ids wrap), so a cancel
 * that may have passed its request is told from a late one by the large requests that ended here.
 */
export class EarlyCancels {
  /** By id, with when they came; the oldest is forgotten first. */
  private readonly early = new Map<number, number>();
  private readonly ended = new RecentIds(RECENTLY_ENDED);

  /** A large cancellable request under `id` ended here (answered, failed, or dropped). */
  requestEnded(id: number): void {
    this.ended.add(id);
  }

  /** A cancel that may have passed its request found nothing under `id`: kept, unless the request ended here. */
  cancelArrived(id: number): void {
    if (this.ended.has(id)) return;
    if (this.early.size >= MAX_EARLY_ENDS) this.early.delete(this.early.keys().next().value!);
    this.early.set(id, Date.now());
  }

  /** Whether a cancel came for `id` before it, recently enough to be for this request; it is used up either way. */
  take(id: number): boolean {
    if (this.early.size === 0) return false;
    const at = this.early.get(id);
    if (at === undefined) return false;
    this.early.delete(id);
    return Date.now() - at < EARLY_CANCEL_TTL_MS;
  }

  /** The other side's protocol is gone: a new one there starts its ids again. */
  clear(): void {
    this.early.clear();
    this.ended.clear();
  }
}
