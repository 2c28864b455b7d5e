import { DecodeError, ValueCodec } from '../src/rpc/codec';
import { unseededHash } from '../src/rpc/codec/HashCollisionGuard';
import { decodeBytes, encodeToBytes, roundTrip, varint } from './helpers/codec';
import { collidingBigInts, collidingFractions, collidingIntegers } from './helpers/collidingKeys';
import { outcome, protocolPair } from './helpers/rpc';

// Numbers and bigints are hashed by the engine without a seed, so a peer can send a Map or Set whose keys all
// land in one bucket: before the guard, 40k such integers (229 KB) took 2.7 s to decode. The tests assert the
// bound by where decoding stops, never by time.

const codec = new ValueCodec();

// The attack as it comes off the wire. Building the colliding Set here would itself take quadratic time, so the
// bytes are put together from an array of the keys: a Set is its tag, a varint count, then the encoded items.
function itemsOf(values: unknown[]): Uint8Array {
  return encodeToBytes(codec, values).subarray(1 + varint(values.length).length);
}
const SET = 0xd2;
const MAP = 0xd1;
const setBytes = (keys: unknown[]) => Buffer.concat([Buffer.from([SET, ...varint(keys.length)]), itemsOf(keys)]);
const mapBytes = (keys: unknown[]) =>
  Buffer.concat([Buffer.from([MAP, ...varint(keys.length)]), itemsOf(keys.flatMap((key, i) => [key, i]))]);

function refusal(bytes: Uint8Array): { error: DecodeError; stoppedAt: number; size: number } {
  try {
    decodeBytes(codec, bytes);
  } catch (error) {
    if (!(error instanceof DecodeError)) throw error;
    return { error, stoppedAt: error.offset ?? Infinity, size: bytes.length };
  }
  throw new Error('the value decoded');
}

describe('hash-keyed collections from a peer', () => {
  test('the attack keys really share their low hash bits (as the engine computes them)', () => {
    for (const keys of [collidingIntegers(100), collidingBigInts(100), collidingFractions(100)] as unknown[][]) {
      expect(new Set(keys).size).toBe(100);
      expect(new Set(keys.map((key) => unseededHash(key) & 0xffff)).size).toBe(1);
    }
  });

  const N = 10000;
  test.each([
    ['a Set of colliding integers', () => setBytes(collidingIntegers(N))],
    ['a Set of colliding fractions', () => setBytes(collidingFractions(N))],
    ['a Set of colliding bigints', () => setBytes(collidingBigInts(N))],
    ['a Map keyed by colliding integers', () => mapBytes(collidingIntegers(N))],
    ['a Map keyed by colliding bigints', () => mapBytes(collidingBigInts(N))],
    [
      'a colliding Set deep in a value',
      // [1, { k: <the Set> }]: a two-item array, the integer 1, a one-entry object, its key 'k', the Set.
      () => Buffer.concat([Buffer.from([0x82, 0x01, 0x91, 0x01, 0x6b]), setBytes(collidingIntegers(N))]),
    ],
  ])('%s is refused after a bounded share of it, with an error that names the attack', (_name, make) => {
    const { error, stoppedAt, size } = refusal(make());
    expect(error.message).toMatch(/of 10000 entries whose number or bigint keys collide .*hash flooding/);
    expect(error.message).toMatch(/over the limit of 84096 \(8 per entry\)/);
    // The engine's chain steps grow with the square of the entries read: the limit is met within the first
    // few percent of the collection.
    expect(stoppedAt).toBeLessThan(size / 10);
  });

  test('a small collection is not watched: its worst case is a few thousand steps', () => {
    const keys = collidingIntegers(64);
    expect([...(decodeBytes(codec, setBytes(keys)) as Set<number>)]).toEqual(keys);
  });

  test('keys of real workloads pass, whatever their pattern', () => {
    const patterns: unknown[][] = [
      Array.from({ length: 10000 }, (_, i) => i),
      Array.from({ length: 10000 }, (_, i) => i * 65536),
      Array.from({ length: 10000 }, (_, i) => 1.7e12 + i * 1000),
      Array.from({ length: 10000 }, (_, i) => i + 0.5),
      Array.from({ length: 10000 }, (_, i) => i * 2 ** 32),
      Array.from({ length: 10000 }, (_, i) => BigInt(i) << 32n),
      Array.from({ length: 10000 }, (_, i) => (i % 3 === 0 ? `s${i}` : i % 3 === 1 ? i : BigInt(i))),
    ];
    for (const keys of patterns) {
      const set = roundTrip(new Set(keys));
      expect(set.size === keys.length && keys.every((key) => set.has(key))).toBe(true);
      const map = roundTrip(new Map(keys.map((key, i) => [key, i])));
      expect(map.size === keys.length && keys.every((key, i) => map.get(key) === i)).toBe(true);
    }
  });

  test('repeated keys cost their lookups, and a flood of repeats is refused too', () => {
    // The wire may repeat a key: each repeat walks the chain to it, as a new key would. 3000 colliding keys, sent
    // three times over in one Set: tag, varint count, then the items.
    const items = itemsOf(collidingIntegers(3000));
    const flooded = Buffer.concat([Buffer.from([SET, ...varint(9000)]), items, items, items]);
    expect(() => decodeBytes(codec, flooded)).toThrow(/of 9000 entries .*hash flooding/);
  });

  test('an RPC argument that floods is answered with a DecodeError, and the connection goes on', async () => {
    const [caller, callee] = protocolPair();
    callee.setRequestHandler((_method, args) => (args[0] as Set<number>).size);
    // The caller's own encoder builds the Set it sends: a Set of 3000 still takes it only a moment.
    const flooded = await outcome(caller.sendRequest('size', [new Set(collidingIntegers(3000))]));
    expect(flooded.ok).toBe(false);
    expect((flooded as { error: Error }).error.message).toMatch(/hash flooding/);
    expect(await caller.sendRequest('size', [new Set([1, 2, 3])])).toBe(3);
    caller.dispose();
    callee.dispose();
  });
});
