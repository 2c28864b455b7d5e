import { DecodeError } from './errors';

// V8 files a Map's keys and a Set's values in a hash table of chained buckets, and hashes numbers and bigints
// with fixed functions that take no seed (strings and objects get seeded or random hashes). A peer can therefore
// choose numbers that all land in one bucket, and each insertion walks the whole chain: 40k such numbers took
// seconds to decode. This guard replays the engine's bucket arithmetic next to the real insertions — the same
// hash functions, the same table sizes — and counts the chain steps the engine takes. Well-spread keys cost one or
// two steps each; a decode whose steps exceed PROBES_PER_ENTRY per entry (plus an allowance) is refused, so the
// work per entry is bounded whatever the keys. Should a future engine hash differently, the guard merely counts
// the wrong chains: it can then miss a flood, but it never refuses keys the engine spreads well.

/** Collections up to this size are not watched: their worst case is a few thousand steps. */
export const GUARDED_FROM = 64;
/** Average chain steps per entry allowed; random keys average under 2. */
const PROBES_PER_ENTRY = 8;
/** Chain steps allowed on top, so that a short run of bad luck early on is no refusal. */
const PROBE_ALLOWANCE = 4096;
/** V8's smallest table; each growth doubles it. Buckets are half the capacity. */
const INITIAL_CAPACITY = 4;
/** Entries whose bookkeeping is allocated at once, before they are read; a larger collection's grows as read. */
const PRESIZED_ENTRIES = 4096;
const HASH_MASK = 0x3fffffff;
const NO_HASH = -1;


const float = new Float64Array(1);
const floatWords = new Uint32Array(float.buffer);
const LOW = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 0 : 1;
const HIGH = 1 - LOW;

/** V8's hash of a 32-bit integer key (a small integer, or a number holding one). */
function int32Hash(key: number): number {
  let h = key >>> 0;
  h = (~h + (h << 15)) >>> 0;
  h = (h ^ (h >>> 12)) >>> 0;
  h = (h + (h << 2)) >>> 0;
  h = (h ^ (h >>> 4)) >>> 0;
  h = Math.imul(h, 2057) >>> 0;
  h = (h ^ (h >>> 16)) >>> 0;
  return h & HASH_MASK;
}

/** V8's hash of a 64-bit key given as two 32-bit halves: other numbers (their bits) and bigints (lowest digit). */
function int64Hash(low: number, high: number): number {
  // h = ~h + (h << 18)
  let l = ~low >>> 0;
  let hi = ~high >>> 0;
  const sum = l + ((low << 18) >>> 0);
  l = sum >>> 0;
  hi = (hi + (((high << 18) | (low >>> 14)) >>> 0) + (sum > 0xffffffff ? 1 : 0)) >>> 0;
  // h ^= h >>> 31
  l = (l ^ ((hi << 1) | (l >>> 31))) >>> 0;
  hi = (hi ^ (hi >>> 31)) >>> 0;
  // h *= 21
  let product = l * 21;
  l = product >>> 0;
  hi = (Math.imul(hi, 21) + Math.floor(product / 0x100000000)) >>> 0;
  // h ^= h >>> 11
  l = (l ^ ((hi << 21) | (l >>> 11))) >>> 0;
  hi = (hi ^ (hi >>> 11)) >>> 0;
  // h += h << 6, that is h *= 65
  product = l * 65;
  l = product >>> 0;
  hi = (Math.imul(hi, 65) + Math.floor(product / 0x100000000)) >>> 0;
  // h ^= h >>> 22; only the low word is used from here on
  l = (l ^ ((hi << 10) | (l >>> 22))) >>> 0;
  return l & HASH_MASK;
}

/** The engine's hash of `key` when it is one a peer can aim (a number or a bigint); NO_HASH otherwise. */
export function unseededHash(key: unknown): number {
  if (typeof key === 'number') {
    if ((key | 0) === key) return int32Hash(key); // -0 too, which the collections store as 0
    if (key !== key) return NO_HASH; // every NaN is the same key
    float[0] = key;
    return int64Hash(floatWords[LOW], floatWords[HIGH]);
  }
  if (typeof key === 'bigint') {
    const magnitude = BigInt.asUintN(64, key < 0n ? -key : key);
    return int64Hash(Number(magnitude & 0xffffffffn), Number(magnitude >> 32n));
  }
  return NO_HASH;
}

/**
 * Counts the chain steps the engine takes while one Map or Set of `count` entries is filled. Call add() after
 * each insertion with the collection's size; it throws a DecodeError once the steps pass the bound.
 */
export class HashCollisionGuard {
  private capacity = INITIAL_CAPACITY;
  private mask = INITIAL_CAPACITY / 2 - 1;
  /**
   * The chain length of each bucket, with room for the table as it is now (a prefix) or larger. Sized, like
   * `hashes`, for the claimed count only up to PRESIZED_ENTRIES, and past that by the entries read: nested
   * collections may each claim the same bytes, and one that is cut short would otherwise cost several times the
   * message's size at every level.
   */
  private buckets: Uint32Array;
  /**
   * The hashes filed so far, in insertion order, to refile them when the table grows. Only keys with an unseeded
   * hash are counted: the others land wherever their random hash puts them.
   */
  private hashes: Uint32Array;
  private filed = 0;
  private probes = 0;
  private readonly limit: number;

  constructor(
    private readonly kind: 'Map' | 'Set',
    private readonly count: number,
  ) {
    this.limit = PROBES_PER_ENTRY * count + PROBE_ALLOWANCE;
    const presized = Math.min(count, PRESIZED_ENTRIES);
    let capacity = INITIAL_CAPACITY;
    while (capacity < presized) capacity *= 2;
    this.buckets = new Uint32Array(capacity / 2);
    this.hashes = new Uint32Array(presized);
  }

  /**
   * @param key the key just added (or found already there)
   * @param size the collection's size after that
   * @param added whether the key was new
   * @param offset where in the message the entry ended, for the error
   */
  add(key: unknown, size: number, added: boolean, offset: number): void {
    if (size > this.capacity) this.grow(size);
    const hash = unseededHash(key);
    if (hash === NO_HASH) return;
    const bucket = hash & this.mask;
    this.probes += this.buckets[bucket];
    if (added) {
      this.buckets[bucket]++;
      if (this.filed === this.hashes.length) {
        const hashes = new Uint32Array(this.filed * 2);
        hashes.set(this.hashes);
        this.hashes = hashes;
      }
      this.hashes[this.filed++] = hash;
    }
    if (this.probes > this.limit) this.refuse(size, offset);
  }

  private refuse(size: number, offset: number): never {
    throw new DecodeError(
      `refused a ${this.kind} of ${this.count} entries whose number or bigint keys collide in the engine's hash ` +
        `table (they would take quadratic time to insert: hash flooding): after ${size} entries the insertions had ` +
        `taken ${this.probes} steps, over the limit of ${this.limit} (${PROBES_PER_ENTRY} per entry)`,
      offset,
    );
  }

  /**
   * The engine doubles its table when an insertion finds it full and refiles every key. A key is looked up before
   * the growth; counting it after is one entry's difference, far inside the allowance.
   */
  private grow(size: number): void {
    while (size > this.capacity) this.capacity *= 2;
    const buckets = this.capacity / 2;
    const mask = (this.mask = buckets - 1);
    if (buckets > this.buckets.length) this.buckets = new Uint32Array(buckets);
    else this.buckets.fill(0, 0, buckets);
    const table = this.buckets;
    const hashes = this.hashes;
    for (let i = 0; i < this.filed; i++) table[hashes[i] & mask]++;
  }
}
