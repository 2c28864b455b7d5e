import * as fc from 'fast-check';
import { ValueCodec } from '../src/rpc/codec';
import { difference, encodeToBytes, roundTrip } from './helpers/codec';

// Values of every kind fast-check knows, including the awkward ones (-0, NaN, sparse arrays, null-prototype
// objects, boxed primitives, typed arrays, bigints, dates, and keys such as __proto__), compared with the
// documented mapping (see helpers/codec.ts `difference`).
const key = fc.oneof(
  { weight: 5, arbitrary: fc.string() },
  {
    weight: 1,
    arbitrary: fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', '0', '1', '', 'length'),
  },
);

const extraValues = [
  fc.constantFrom(
    -0,
    NaN,
    Infinity,
    -Infinity,
    Number.MAX_SAFE_INTEGER,
    -Number.MAX_SAFE_INTEGER,
    2 ** 53,
    127,
    128,
    -32,
    -33,
  ),
  fc.double(),
  fc.bigInt(),
  fc.string({ unit: 'grapheme' }),
  fc.uint8Array({ maxLength: 40 }).map((bytes) => Buffer.from(bytes)),
  fc.uint8Array({ maxLength: 40 }).map((bytes) => new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)),
  fc.uint8Array({ maxLength: 40 }).map((bytes) => bytes.slice().buffer),
  fc.string().map((source) => new RegExp(source.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&'), 'gu')),
  fc
    .tuple(fc.string(), fc.string(), fc.oneof(fc.constant(undefined), fc.string(), fc.integer()))
    .map(([message, code, cause]) => {
      const error = new RangeError(message, { cause });
      return Object.assign(error, { code });
    }),
  fc.array(fc.record({ id: fc.integer(), name: fc.string(), ok: fc.boolean() }), { maxLength: 5 }),
];

const settings = {
  key,
  maxDepth: 4,
  maxKeys: 6,
  withBigInt: true,
  withBoxedValues: true,
  withDate: true,
  withMap: true,
  withSet: true,
  withNullPrototype: true,
  withObjectString: true,
  withTypedArray: true,
  withSparseArray: true,
  withUnicodeString: true,
  values: [
    fc.boolean(),
    fc.integer(),
    fc.double(),
    fc.string(),
    fc.constant(null),
    fc.constant(undefined),
    ...extraValues,
  ],
};
const anything = fc.anything(settings);

describe('round trips of arbitrary values', () => {
  const codec = new ValueCodec();

  test('decode(encode(v)) matches v', () => {
    fc.assert(
      fc.property(anything, (value) => {
        const d = difference(roundTrip(value, codec), value);
        if (d !== undefined) throw new Error(d);
      }),
      { numRuns: 1500 },
    );
  });

  test('encoding is deterministic and decoding what was decoded gives the same bytes', () => {
    fc.assert(
      fc.property(anything, (value) => {
        const first = encodeToBytes(codec, value);
        const again = encodeToBytes(codec, roundTrip(value, codec));
        expect(Buffer.compare(Buffer.from(again), Buffer.from(first))).toBe(0);
      }),
      { numRuns: 500 },
    );
  });

  test('the deep-equal used above does see differences', () => {
    expect(difference(0, -0)).toBeDefined();
    expect(difference(NaN, NaN)).toBeUndefined();
    expect(difference([undefined], [,])).toBeUndefined();
    expect(difference({ a: 1 }, { a: 1, b: undefined })).toBeDefined();
    expect(difference(new Uint8Array([1]), Buffer.from([1]))).toBeDefined();
    expect(difference(new Map([[1, 2]]), new Map([[1, 3]]))).toBeDefined();
    expect(difference(new Set([1, 2]), new Set([2, 1]))).toBeDefined();
    expect(difference(new Date(NaN), new Date(NaN))).toBeUndefined();
    expect(difference(new Error('a'), new TypeError('a'))).toBeDefined();
  });
});
