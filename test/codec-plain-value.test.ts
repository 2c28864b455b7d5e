import * as fc from 'fast-check';
import { Uint8ArrayReadBuffer } from '../src/buffer';
import { DecodeError, ValueCodec } from '../src/rpc/codec';
import { skipPlainValue } from '../src/rpc/codec/plainValue';
import { encodeToBytes, message } from './helpers/codec';

// What a server decodes of a client before welcoming it. The check must read exactly the bytes the decoder
// reads, so that the decoder behind it never meets a tag the check did not see.

const codec = new ValueCodec();

function skippedBytes(bytes: Uint8Array): number {
  const reader = new Uint8ArrayReadBuffer(bytes);
  skipPlainValue(reader, 128);
  return reader.position;
}

const plainValue = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.string(),
    fc.double(),
    fc.integer(),
    fc.constantFrom(null, undefined, true, false, -0, 2 ** 53 - 1, -(2 ** 53)),
    fc.array(tie('value'), { maxLength: 5 }),
    fc.dictionary(fc.oneof(fc.string(), fc.constantFrom('__proto__', '0', '12')), tie('value'), { maxKeys: 5 }),
    // Arrays of records with the same keys travel as SAME_KEYS items.
    fc.array(fc.record({ a: tie('value'), b: fc.integer() }), { minLength: 2, maxLength: 4 }),
  ),
})).value;

describe('the plain-value check', () => {
  test('reads exactly the bytes the decoder reads, for any plain value', () => {
    fc.assert(
      fc.property(plainValue, (value) => {
        const bytes = encodeToBytes(codec, [value, 'after']);
        const reader = new Uint8ArrayReadBuffer(bytes);
        codec.decode(reader);
        expect(skippedBytes(bytes)).toBe(reader.position);
      }),
      { numRuns: 300 },
    );
  });

  test.each([
    [10n, 'a bigint'],
    [new Set([1]), 'a Set'],
    [new Map(), 'a Map'],
    [new Uint8Array(2), 'a Uint8Array'],
    [new Date(0), 'a Date'],
    [/x/, 'a RegExp'],
    [new Error('e'), 'an Error'],
    [Object(1), 'a boxed primitive'],
    [[1, { deep: [new Set()] }], 'a Set'],
  ])('refuses %p, naming it', (value, what) => {
    const error = (() => {
      try {
        skippedBytes(encodeToBytes(codec, value));
      } catch (thrown) {
        return thrown;
      }
    })();
    expect(error).toBeInstanceOf(DecodeError);
    expect((error as Error).message).toMatch(new RegExp(`^${what} where only strings, numbers, booleans, null`));
  });

  test('a SAME_KEYS item after an object that repeats a key is read as the decoder reads it', () => {
    // { k: [{ a: 1, a: 2 }, SAME_KEYS 1 5], '\x07xxxx': 0 }, with 'x' standing for any bytes: the decoded object
    // has one key, so the decoder takes one value for the SAME_KEYS item and reads what follows from there. A
    // check that counted two would pass a value the decoder reads differently: here a bigint, hidden in a key.
    const hidden = [0xca, 1, 0xff];
    const bytes = message(0x92, 'k', 0x82, 0x92, 'a', 1, 'a', 2, 0xd7, 1, 5, 7, ...Buffer.from('xxxx'), ...hidden, 0);
    expect(() => skippedBytes(bytes)).toThrow(/a bigint where only strings, numbers/);
    expect(codec.decode(new Uint8ArrayReadBuffer(bytes))).toMatchObject({ k: [{ a: 2 }, { a: 1 }] });
    // Keys are told apart as the decoder does, as strings: two byte runs that decode alike (invalid UTF-8, each
    // read as U+FFFD) are one key too.
    const alike = message(0x82, 0x92, 1, 0xff, 1, 1, 0xfe, 2, 0xd7, 3, 4);
    const reader = new Uint8ArrayReadBuffer(alike);
    codec.decode(reader);
    expect(reader.remaining).toBe(1);
    expect(skippedBytes(alike)).toBe(reader.position);
  });

  test('a count that lies ends with the bytes, and a value nested too deep is refused', () => {
    // An array claiming 2^40 items with three bytes behind it.
    expect(() => skippedBytes(Uint8Array.from([0xc8, 0x80, 0x80, 0x80, 0x80, 0x80, 0x20, 1, 2, 3]))).toThrow();
    const deep = Uint8Array.from({ length: 200 }, () => 0x81);
    expect(() => skippedBytes(deep)).toThrow(/nested deeper than maxDepth \(128\)/);
  });
});
