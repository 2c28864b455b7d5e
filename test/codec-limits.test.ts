import { types } from 'util';
import * as fc from 'fast-check';
import { BufferReadError, Uint8ArrayReadBuffer } from '../src/buffer';
import { DEFAULT_MAX_DEPTH, DecodeError, EncodeError, MAX_DEPTH_LIMIT, ValueCodec } from '../src/rpc/codec';
import * as T from '../src/rpc/codec/tags';
import { decodeBytes, encodeToBytes, message, roundTrip, varint } from './helpers/codec';

const codec = new ValueCodec();

function encodeError(value: unknown, using = codec): EncodeError {
  try {
    encodeToBytes(using, value);
  } catch (error) {
    if (error instanceof EncodeError) return error;
    throw new Error(`expected an EncodeError, got ${String(error)}`);
  }
  throw new Error('expected an EncodeError, but the value encoded');
}

function decodeError(bytes: Uint8Array, using = codec): DecodeError {
  try {
    decodeBytes(using, bytes);
  } catch (error) {
    if (error instanceof DecodeError) return error;
    throw new Error(`expected a DecodeError, got ${error instanceof Error ? error.stack : String(error)}`);
  }
  throw new Error('expected a DecodeError, but the message decoded');
}

function nested(depth: number, make: (inner: unknown) => unknown = (inner) => [inner]): unknown {
  let value: unknown = 'leaf';
  for (let i = 0; i < depth; i++) value = make(value);
  return value;
}

describe('cycles', () => {
  test('an object that contains itself fails with both paths named', () => {
    const node: Record<string, unknown> = { name: 'root' };
    node.self = node;
    const error = encodeError({ tree: node });
    expect(error.message).toBe(
      'cannot encode a cyclic value (this is the same object as its ancestor value.tree) at value.tree.self',
    );
    expect(error.path).toBe('value.tree.self');
  });

  test('longer cycles through arrays, Maps, Sets and error causes are found too', () => {
    const a: unknown[] = [];
    const b = { list: [a] };
    a.push(b);
    expect(encodeError(a).message).toBe(
      'cannot encode a cyclic value (this is the same object as its ancestor value) at value[0].list[0]',
    );

    const map = new Map<string, unknown>();
    map.set('me', new Set([map]));
    expect(encodeError(map).message).toBe(
      'cannot encode a cyclic value (this is the same object as its ancestor value) at value.get("me").values()[0]',
    );

    const error = new Error('loop');
    (error as { cause?: unknown }).cause = { wrapped: error };
    expect(encodeError([error]).message).toBe(
      'cannot encode a cyclic value (this is the same object as its ancestor value[0]) at value[0].cause.wrapped',
    );

    const records: Array<Record<string, unknown>> = [{ a: 1 }, { a: 2 }];
    records[1].a = records;
    expect(encodeError(records).message).toBe(
      'cannot encode a cyclic value (this is the same object as its ancestor value) at value[1].a',
    );
  });

  test('a cycle fails even with the highest depth limit, as an EncodeError rather than a stack overflow', () => {
    const deep = new ValueCodec({ maxDepth: MAX_DEPTH_LIMIT });
    const node: Record<string, unknown> = {};
    node.next = node;
    const error = encodeError(node, deep);
    expect(error.message).toMatch(
      /^cannot encode a cyclic value \(this is the same object as its ancestor value\) at value\.next$/,
    );
  });

  test('shared (acyclic) references are fine', () => {
    const leaf = { v: 1 };
    expect(roundTrip([leaf, leaf, { leaf }])).toEqual([leaf, leaf, { leaf }]);
  });
});

describe('depth limit', () => {
  test(`defaults to ${DEFAULT_MAX_DEPTH} nested containers`, () => {
    expect(DEFAULT_MAX_DEPTH).toBe(128);
    expect(roundTrip(nested(128))).toEqual(nested(128));
    const error = encodeError(nested(129));
    expect(error.message).toMatch(/^cannot encode a value nested deeper than maxDepth \(128\) at value\[0\]\[0\]/);
    expect(error.path).toBe('value' + '[0]'.repeat(128));
  });

  test('every kind of container counts', () => {
    const small = new ValueCodec({ maxDepth: 3 });
    const kinds: Array<(inner: unknown) => unknown> = [
      (inner) => [inner],
      (inner) => ({ k: inner }),
      (inner) => new Map([[1, inner]]),
      (inner) => new Set([inner]),
      (inner) => new Error('e', { cause: inner }),
    ];
    for (const make of kinds) {
      expect(() => roundTrip(nested(3, make), small)).not.toThrow();
      expect(encodeError(nested(4, make), small).reason).toBe('cannot encode a value nested deeper than maxDepth (3)');
    }
    // An object sent as SAME_KEYS counts like any other: here each level is an array and an object.
    const records = (inner: unknown) => [{ a: 0 }, { a: inner }];
    expect(() => roundTrip(nested(2, records), new ValueCodec({ maxDepth: 4 }))).not.toThrow();
    expect(encodeError(nested(2, records), small).path).toBe('value[1].a[0]');
    // Leaves that are objects but not containers do not count.
    expect(() => roundTrip([[[new Date(0), new Uint8Array(1), /x/]]], small)).not.toThrow();
  });

  test('the decoder enforces its own limit, whatever the sender allowed', () => {
    const lenient = new ValueCodec({ maxDepth: 1000 });
    const strict = new ValueCodec({ maxDepth: 10 });
    const error = decodeError(encodeToBytes(lenient, nested(11)), strict);
    expect(error.message).toMatch(/nested deeper than maxDepth \(10\)/);
    expect(decodeBytes(strict, encodeToBytes(lenient, nested(10)))).toEqual(nested(10));
  });

  test('a depth bomb of a million nested arrays fails cleanly and quickly', () => {
    const bomb = new Uint8Array(1_000_000).fill(T.FIXARRAY + 1);
    expect(decodeError(bomb).message).toMatch(/nested deeper than maxDepth \(128\)/);
    const objects = new Uint8Array(2_000_000);
    for (let i = 0; i < objects.length; i += 2) objects.set([T.FIXOBJECT + 1, 0], i);
    expect(decodeError(objects).message).toMatch(/maxDepth/);
  });

  test(`the highest limit (${MAX_DEPTH_LIMIT}) fits the call stack for every kind of container`, () => {
    const deep = new ValueCodec({ maxDepth: MAX_DEPTH_LIMIT });
    const kinds: Array<(inner: unknown) => unknown> = [
      (inner) => [inner],
      (inner) => ({ k: inner }),
      (inner) => new Map([[1, inner]]),
      (inner) => new Set([inner]),
      (inner) => new Error('e', { cause: inner }),
    ];
    for (const make of kinds) {
      const value = nested(MAX_DEPTH_LIMIT, make);
      const bytes = encodeToBytes(deep, value);
      // Compared as bytes: Jest's own deep equality recurses too far for a thousand levels.
      expect(sameBytes(encodeToBytes(deep, decodeBytes(deep, bytes)), bytes)).toBe(true);
      expect(encodeError(nested(MAX_DEPTH_LIMIT + 1, make), deep).reason).toBe(
        `cannot encode a value nested deeper than maxDepth (${MAX_DEPTH_LIMIT})`,
      );
    }
  });

  test('a stack that runs out before maxDepth is reached is reported by name, never as another error', () => {
    // Node 24 could not even compile the regular expression that used to recognise the overflow, and reported a
    // SyntaxError thrown by the encoder's own error handling instead.
    const deep = new ValueCodec({ maxDepth: MAX_DEPTH_LIMIT });
    const value = nested(MAX_DEPTH_LIMIT);
    const bytes = encodeToBytes(deep, value);
    const encodeOutcomes: unknown[] = [];
    const decodeOutcomes: unknown[] = [];
    // From almost no stack left to enough for the whole value: close to the end not even an EncodeError can be
    // built, and the RangeError goes up as it came, for a caller with more stack to report.
    for (let frames = 100; frames <= 12_800; frames *= 2) {
      encodeOutcomes.push(nearStackEnd(frames, () => encodeToBytes(deep, value)));
      decodeOutcomes.push(nearStackEnd(frames, () => decodeBytes(deep, bytes)));
    }
    const encodeReason =
      `cannot encode a value nested this deeply: the call stack ran out before maxDepth (${MAX_DEPTH_LIMIT}) was ` +
      'reached (lower maxDepth, or encode from a shallower stack)';
    const decodePrefix = `value nested too deeply: the call stack ran out before maxDepth (${MAX_DEPTH_LIMIT}) was reached`;
    for (const outcome of encodeOutcomes) {
      if (outcome instanceof Uint8Array || isOverflow(outcome)) continue;
      expect(outcome).toBeInstanceOf(EncodeError);
      expect((outcome as EncodeError).reason).toBe(encodeReason);
      expect(isOverflow((outcome as EncodeError).cause)).toBe(true);
    }
    for (const outcome of decodeOutcomes) {
      if (isOverflow(outcome) || !(outcome instanceof Error)) continue;
      expect(outcome).toBeInstanceOf(DecodeError);
      expect(outcome.message.startsWith(decodePrefix)).toBe(true);
    }
    // Each way happened somewhere in the range: the test reached the case it is about.
    expect(encodeOutcomes.some((outcome) => outcome instanceof EncodeError)).toBe(true);
    expect(decodeOutcomes.some((outcome) => outcome instanceof DecodeError)).toBe(true);
    expect(encodeOutcomes[encodeOutcomes.length - 1]).toBeInstanceOf(Uint8Array);
    // With the stack back, the same codec and value are fine.
    expect(sameBytes(encodeToBytes(deep, decodeBytes(deep, bytes)), bytes)).toBe(true);
  });

  test('an impossible limit is refused, naming the range', () => {
    for (const maxDepth of [0, -1, 1.5, NaN, MAX_DEPTH_LIMIT + 1, 1_000_000]) {
      expect(() => new ValueCodec({ maxDepth })).toThrow(
        new RegExp(`^maxDepth must be a whole number from 1 to ${MAX_DEPTH_LIMIT}, got ${maxDepth}: `),
      );
    }
  });
});

// isNativeError, not instanceof: where the stack runs out inside one of Node's own getters (a Buffer's length), the
// RangeError is of Node's realm, not of the one Jest runs the test in.
const isOverflow = (outcome: unknown) =>
  types.isNativeError(outcome) && outcome.name === 'RangeError' && outcome.message === 'Maximum call stack size exceeded';

/**
 * What `fn` returns or throws when run with little stack left: recurses until the stack runs out, then calls `fn`
 * that many frames above the point where it did (or from here, if the stack holds fewer).
 */
function nearStackEnd(frames: number, fn: () => unknown): unknown {
  let ran = false;
  let outcome: unknown;
  const run = () => {
    ran = true;
    try {
      outcome = fn();
    } catch (thrown) {
      outcome = thrown;
    }
  };
  const dive = (): number => {
    let above: number;
    try {
      above = dive();
    } catch (thrown) {
      if (!isOverflow(thrown)) throw thrown;
      above = frames;
    }
    if (above === 0) run();
    return above - 1;
  };
  dive();
  if (!ran) run();
  return outcome;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

describe('hostile and corrupt messages', () => {
  test('an object key __proto__ becomes an own property and pollutes nothing', () => {
    const payload = message(T.FIXOBJECT + 2, '__proto__', T.FIXOBJECT + 1, 'polluted', T.TRUE, 'ok', 1);
    const decoded = decodeBytes(codec, payload) as Record<string, unknown>;
    expect(Object.getPrototypeOf(decoded)).toBe(Object.prototype);
    expect(Object.prototype.hasOwnProperty.call(decoded, '__proto__')).toBe(true);
    expect(Object.getOwnPropertyDescriptor(decoded, '__proto__')?.value).toEqual({ polluted: true });
    expect(decoded.ok).toBe(1);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect((decoded as { polluted?: unknown }).polluted).toBeUndefined();
  });

  test('__proto__ as a shared key in an array of records is also an own property', () => {
    const payload = message(
      T.FIXARRAY + 2,
      T.FIXOBJECT + 1,
      '__proto__',
      T.FIXOBJECT + 1,
      'polluted',
      T.TRUE,
      T.SAME_KEYS,
      T.FIXOBJECT + 1,
      'polluted',
      T.TRUE,
    );
    const decoded = decodeBytes(codec, payload) as Array<Record<string, unknown>>;
    for (const item of decoded) {
      expect(Object.getPrototypeOf(item)).toBe(Object.prototype);
      expect(Object.keys(item)).toEqual(['__proto__']);
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  test('a value with a __proto__ own key round-trips as such', () => {
    const value = JSON.parse('{"__proto__": {"x": 1}, "constructor": {"prototype": {"y": 2}}, "prototype": 3}');
    const decoded = roundTrip(value);
    expect(Object.getPrototypeOf(decoded)).toBe(Object.prototype);
    expect(Object.keys(decoded)).toEqual(['__proto__', 'constructor', 'prototype']);
    expect(decoded.constructor).toEqual({ prototype: { y: 2 } });
    expect(({} as Record<string, unknown>).x).toBeUndefined();
    expect(({} as Record<string, unknown>).y).toBeUndefined();
    expect(roundTrip([value, value])).toEqual([value, value]);
  });

  test('__proto__ and constructor as Map keys and error properties are harmless', () => {
    const map = roundTrip(
      new Map<string, unknown>([
        ['__proto__', { a: 1 }],
        ['constructor', 2],
      ]),
    );
    expect(map.get('__proto__')).toEqual({ a: 1 });
    const payload = message(T.ERROR, 'Error', 'msg', T.UNDEFINED, 2, '__proto__', 1, T.TRUE, 'constructor', 1, 7);
    const error = decodeBytes(codec, payload) as Error;
    expect(Object.getPrototypeOf(error)).toBe(Error.prototype);
    expect(Object.getOwnPropertyDescriptor(error, '__proto__')?.value).toBe(true);
    expect(Object.getOwnPropertyDescriptor(error, 'constructor')?.value).toBe(7);
  });

  test('lengths larger than the message fail before anything is allocated', () => {
    const huge = varint(2 ** 52);
    const cases: Array<[string, Uint8Array]> = [
      ['string', message(T.STRING, huge)],
      ['Uint8Array', message(T.UINT8ARRAY, huge)],
      ['Buffer', message(T.BUFFER, huge)],
      ['ArrayBuffer', message(T.ARRAYBUFFER, varint(1e9), 1, 2, 3)],
      ['typed array', message(T.TYPEDARRAY, 7, huge)],
      ['DataView', message(T.DATAVIEW, huge)],
      ['bigint', message(T.BIGINT, huge)],
      ['array', message(T.ARRAY, huge)],
      ['array of 1e9', message(T.ARRAY, varint(1e9), 1, 2)],
      ['object', message(T.OBJECT, huge)],
      ['Map', message(T.MAP, varint(1e9), 1, 1)],
      ['Set', message(T.SET, varint(1e9), 1)],
      ['error properties', message(T.ERROR, 'Error', 'm', T.UNDEFINED, varint(1e9))],
      ['string key', message(T.FIXOBJECT + 1, huge)],
    ];
    for (const [what, bytes] of cases) {
      const before = process.memoryUsage().arrayBuffers;
      const error = decodeError(bytes);
      expect([what, error.name]).toEqual([what, 'DecodeError']);
      expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(64 * 1024 * 1024);
    }
  });

  test('arrays nested inside one another, each claiming the whole message, allocate no more than it holds', () => {
    // Every count fits in the bytes left, but they are the same bytes: were each array allocated whole before its
    // items came, a message cut short would cost its size in slots at every level (128 KiB here, 130 MB).
    const size = 128 * 1024;
    const count = varint(size - 8 * DEFAULT_MAX_DEPTH);
    const bytes = new Uint8Array(size);
    bytes.set(Array.from({ length: DEFAULT_MAX_DEPTH - 1 }, () => [T.ARRAY, ...count]).flat());
    const before = process.memoryUsage().heapUsed;
    expect(decodeError(bytes).message).toMatch(/^truncated/);
    expect(process.memoryUsage().heapUsed - before).toBeLessThan(32 * 1024 * 1024);
  });

  test('Maps and Sets nested inside one another, each claiming the whole message, allocate by what they read', () => {
    // A large collection is filled under the hash-flooding guard, whose bookkeeping grows with the entries read:
    // sized by each claimed count, a message cut short would cost several times its size at every level.
    const size = 256 * 1024;
    for (const [tag, perEntry] of [
      [T.MAP, 2],
      [T.SET, 1],
    ]) {
      const count = varint(Math.floor((size - 8 * DEFAULT_MAX_DEPTH) / perEntry));
      const bytes = new Uint8Array(size);
      bytes.set(Array.from({ length: DEFAULT_MAX_DEPTH - 1 }, () => [tag, ...count]).flat());
      const before = process.memoryUsage().arrayBuffers;
      expect(decodeError(bytes).message).toMatch(/^truncated/);
      expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(16 * 1024 * 1024);
    }
  });

  test('a count that cannot fit in what is left is reported as such', () => {
    expect(decodeError(message(T.ARRAY, varint(100), 1, 2, 3)).message).toBe(
      'a count of 100 cannot fit in the 3 bytes left in the message (at byte 2)',
    );
  });

  test('unknown tags fail with the tag and offset', () => {
    for (let tag = T.STREAM + 1; tag <= 0xff; tag++) {
      expect(decodeError(message(T.FIXARRAY + 2, 1, tag)).message).toBe(
        `unknown tag 0x${tag.toString(16)} (at byte 2)`,
      );
    }
    // SAME_KEYS is an array item only, and only after a plain object.
    expect(decodeError(message(T.SAME_KEYS)).message).toMatch(/unknown tag 0xd7/);
    expect(decodeError(message(T.FIXARRAY + 2, 1, T.SAME_KEYS)).message).toMatch(
      /SAME_KEYS item does not follow a plain object/,
    );
    expect(decodeError(message(T.FIXARRAY + 1, T.SAME_KEYS)).message).toMatch(/does not follow a plain object/);
    expect(decodeError(message(T.FIXARRAY + 2, T.MAP, 0, T.SAME_KEYS)).message).toMatch(
      /does not follow a plain object/,
    );
  });

  test('other invalid content fails as a DecodeError with the cause kept', () => {
    expect(decodeError(message(T.TYPEDARRAY, 10, 0)).message).toMatch(/unknown typed array kind 10/);
    expect(decodeError(message(T.TYPEDARRAY, 7, 3, 1, 2, 3)).message).toMatch(/Float64Array of 3 bytes/);
    const regexp = decodeError(message(T.REGEXP, '(', ''));
    expect(regexp.message).toMatch(/invalid RegExp/);
    expect(regexp.cause).toBeInstanceOf(SyntaxError);
    expect(decodeError(message(T.REGEXP, 'a', 'gg')).message).toMatch(/invalid RegExp/);
    expect(decodeError(message(T.ERROR, 'Error', 'm', 5, 0)).message).toMatch(/stack must be a string/);
    expect(decodeError(message(T.BOXED, T.FIXARRAY)).message).toMatch(
      /a boxed value must be a number, string, boolean or bigint, not tag 0x80/,
    );
    expect(decodeError(new Uint8Array(100_000).fill(T.BOXED)).message).toMatch(/not tag 0xd8/);
    expect(decodeError(message(T.BOXED, T.NULL)).message).toMatch(/not tag 0xc1/);
    expect(decodeError(message(T.EXTENSION, 9, 1)).message).toMatch(/no extension is registered for extension tag 9/);
    expect(decodeError(message(T.UINT, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01)).cause).toBeInstanceOf(
      BufferReadError,
    );
  });

  test('every truncation of a valid message fails with a DecodeError', () => {
    const value = {
      id: 123456,
      method: 'työ',
      args: [-1.5, 2n ** 70n, new Uint8Array([1, 2, 3]), new Float32Array([1]), new Map([[1, new Set(['x'])]])],
      when: new Date(1),
      re: /x/g,
      error: Object.assign(new TypeError('t'), { code: 'E' }),
      records: [{ a: 1 }, { a: 2 }],
      view: new DataView(new ArrayBuffer(2)),
      buffer: new ArrayBuffer(3),
    };
    const bytes = encodeToBytes(codec, value);
    for (let length = 0; length < bytes.length; length++) {
      const error = decodeError(bytes.subarray(0, length));
      expect(error.message).toMatch(/truncated|fit|RegExp|stack/);
      // Where the read that ran out started, as every other DecodeError says where it was noticed.
      expect(error.offset).toBeGreaterThanOrEqual(0);
      expect(error.offset).toBeLessThanOrEqual(length);
    }
  });

  test('random bytes decode to a value or fail with a DecodeError, never anything else', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        try {
          codec.decode(new Uint8ArrayReadBuffer(bytes));
        } catch (error) {
          if (!(error instanceof DecodeError)) throw error;
        }
      }),
      { numRuns: 3000 },
    );
  });

  test('corrupting bytes of a valid message never escapes as another error', () => {
    const bytes = encodeToBytes(codec, {
      list: [
        { a: 1, b: 'x' },
        { a: 2, b: 'y' },
      ],
      m: new Map([[1n, [new Date(0)]]]),
    });
    fc.assert(
      fc.property(fc.nat(bytes.length - 1), fc.integer({ min: 0, max: 255 }), (at, byte) => {
        const corrupt = Uint8Array.from(bytes);
        corrupt[at] = byte;
        try {
          codec.decode(new Uint8ArrayReadBuffer(corrupt));
        } catch (error) {
          if (!(error instanceof DecodeError)) throw error;
        }
      }),
      { numRuns: 2000 },
    );
  });

  test('after a bad message the codec decodes the next one normally', () => {
    decodeError(message(T.FIXARRAY + 3, T.FIXARRAY + 1, 0xff));
    decodeError(new Uint8Array(10_000).fill(T.FIXARRAY + 1));
    expect(roundTrip({ next: ['message', 1] }, codec)).toEqual({ next: ['message', 1] });
  });
});
