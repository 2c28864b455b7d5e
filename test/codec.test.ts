import * as fs from 'fs';
import * as vm from 'vm';
import { types } from 'util';
import { Uint8ArrayReadBuffer, Uint8ArrayWriteBuffer } from '../src/buffer';
import * as fdpipe from '../src';
import { DecodeError, EncodeError, ValueCodec } from '../src/rpc/codec';
import * as T from '../src/rpc/codec/tags';
import { decodeBytes, encodeToBytes, expectRoundTrip, message, roundTrip } from './helpers/codec';

const codec = new ValueCodec();
const sizeOf = (value: unknown) => encodeToBytes(codec, value).byteLength;

describe('exports', () => {
  test('the codec is reachable from the package root', () => {
    expect(fdpipe.ValueCodec).toBe(ValueCodec);
    expect(fdpipe.EncodeError).toBe(EncodeError);
    expect(fdpipe.DecodeError).toBe(DecodeError);
  });
});

describe('primitives', () => {
  test.each([undefined, null, true, false])('%p', (value) => {
    expect(roundTrip(value)).toBe(value);
    expect(sizeOf(value)).toBe(1);
  });

  test('integers round-trip exactly, small ones in a single byte', () => {
    const cases = [
      0,
      1,
      42,
      127,
      128,
      255,
      256,
      65535,
      2 ** 31 - 1,
      2 ** 31,
      2 ** 32,
      2 ** 53 - 1,
      -1,
      -32,
      -33,
      -128,
      -(2 ** 31),
      -(2 ** 53 - 1),
    ];
    for (const value of cases) expect(roundTrip(value)).toBe(value);
    for (let value = -32; value <= 127; value++) expect(sizeOf(value)).toBe(1);
    expect(sizeOf(128)).toBe(3);
    expect(sizeOf(-33)).toBe(2);
    expect(sizeOf(2 ** 32)).toBe(6);
  });

  test('floats are exact, including -0, NaN, ±Infinity and integers past 2^53', () => {
    const cases = [
      0.5,
      -1.25,
      Math.PI,
      1e-300,
      Number.MIN_VALUE,
      Number.MAX_VALUE,
      Number.EPSILON,
      2 ** 53,
      -(2 ** 53),
      2 ** 64,
      1e21,
      -0,
      NaN,
      Infinity,
      -Infinity,
    ];
    for (const value of cases) expect(Object.is(roundTrip(value), value)).toBe(true);
    expect(sizeOf(-0)).toBe(9);
  });

  test('the bytes of a float survive, NaN payload aside', () => {
    const bits = new Float64Array([0.1 + 0.2]);
    expect(new Float64Array([roundTrip(bits[0])])).toEqual(bits);
  });

  test('bigints of any size and sign', () => {
    const cases = [0n, 1n, -1n, 255n, 256n, -256n, 2n ** 63n, -(2n ** 64n) - 1n, 2n ** 1000n + 12345n, -(3n ** 700n)];
    for (const value of cases) expect(roundTrip(value)).toBe(value);
    expect(sizeOf(0n)).toBe(2);
    expect(sizeOf(2n ** 1000n)).toBeLessThan(1000 / 8 + 6);
  });

  test('strings: empty, ASCII, multi-byte, astral, long', () => {
    const cases = [
      '',
      'add',
      'héllo wörld',
      '日本語のテキスト',
      '😀 emoji 👩‍👩‍👧',
      'x'.repeat(42),
      'é'.repeat(43),
      'long '.repeat(10000),
    ];
    for (const value of cases) expect(roundTrip(value)).toBe(value);
  });

  test('a lone surrogate arrives as U+FFFD (strings travel as UTF-8)', () => {
    expect(roundTrip('a\ud800b')).toBe('a\ufffdb');
    expect(roundTrip('\udc00')).toBe('\ufffd');
    expect(roundTrip('x'.repeat(100) + '\ud83d')).toBe('x'.repeat(100) + '\ufffd');
    // A well-formed pair is not touched.
    expect(roundTrip('\ud83d\ude00')).toBe('😀');
  });
});

describe('binary data', () => {
  test('a Uint8Array arrives as a Uint8Array view into the message, not a copy', () => {
    const bytes = encodeToBytes(codec, new Uint8Array([1, 2, 3, 250]));
    const decoded = decodeBytes(codec, bytes) as Uint8Array;
    expect(Object.getPrototypeOf(decoded)).toBe(Uint8Array.prototype);
    expect([...decoded]).toEqual([1, 2, 3, 250]);
    expect(decoded.buffer).toBe(bytes.buffer);
  });

  test('the bytes travel raw: no base64, no index-keyed object', () => {
    const payload = Uint8Array.from({ length: 300 }, (_, i) => (i * 13) & 0xff);
    const bytes = Buffer.from(encodeToBytes(codec, payload));
    expect(bytes.length).toBeLessThanOrEqual(payload.length + 3);
    expect(bytes.indexOf(Buffer.from(payload))).toBeGreaterThan(0);
  });

  test('a Buffer arrives as a Buffer over the message', () => {
    const bytes = encodeToBytes(codec, Buffer.from('hello'));
    const decoded = decodeBytes(codec, bytes) as Buffer;
    expect(Buffer.isBuffer(decoded)).toBe(true);
    expect(decoded.toString()).toBe('hello');
    expect(decoded.buffer).toBe(bytes.buffer);
  });

  test('only the viewed range of a subarray is sent', () => {
    const whole = Uint8Array.from([0, 1, 2, 3, 4, 5, 6, 7]);
    const part = whole.subarray(2, 5);
    expect([...roundTrip(part)]).toEqual([2, 3, 4]);
    expect([...roundTrip(new Int16Array(whole.buffer, 2, 2))]).toEqual([...new Int16Array(whole.buffer, 2, 2)]);
  });

  test('an ArrayBuffer arrives as a copy of exactly its bytes', () => {
    const source = Uint8Array.from([9, 8, 7]).buffer;
    const bytes = encodeToBytes(codec, source);
    const decoded = decodeBytes(codec, bytes) as ArrayBuffer;
    expect(decoded).toBeInstanceOf(ArrayBuffer);
    expect(decoded).not.toBe(bytes.buffer);
    expect([...new Uint8Array(decoded)]).toEqual([9, 8, 7]);
  });

  test('a SharedArrayBuffer arrives as an ArrayBuffer copy', () => {
    const shared = new SharedArrayBuffer(4);
    new Uint8Array(shared).set([1, 2, 3, 4]);
    const decoded = roundTrip(shared) as unknown as ArrayBuffer;
    expect(decoded).toBeInstanceOf(ArrayBuffer);
    expect([...new Uint8Array(decoded)]).toEqual([1, 2, 3, 4]);
  });

  const typedArrays = [
    Int8Array.from([-128, 0, 127]),
    Uint8ClampedArray.from([0, 128, 255]),
    Int16Array.from([-32768, 1, 32767]),
    Uint16Array.from([0, 1, 65535]),
    Int32Array.from([-(2 ** 31), 7, 2 ** 31 - 1]),
    Uint32Array.from([0, 2 ** 32 - 1]),
    Float32Array.from([1.5, -0, NaN, Infinity]),
    Float64Array.from([Math.PI, -0, NaN, -Infinity, Number.MIN_VALUE]),
    BigInt64Array.from([-(2n ** 63n), 0n, 2n ** 63n - 1n]),
    BigUint64Array.from([0n, 2n ** 64n - 1n]),
  ];

  test.each(typedArrays.map((a) => [a.constructor.name, a]))('%s keeps its class and bytes', (_, array) => {
    const decoded = expectRoundTrip(array) as ArrayLike<unknown>;
    expect(decoded.constructor).toBe(array.constructor);
    expect(decoded.length).toBe((array as ArrayLike<unknown>).length);
  });

  test('a typed array is a view when its bytes land aligned, a copy otherwise', () => {
    const source = Float64Array.from([1, 2, 3]);
    // Tag, kind, one length byte: the elements start 3 bytes into the message. Placing the message at offsets
    // 5 and 6 in a larger buffer puts them at 8 (aligned) and 9 (not).
    const encoded = encodeToBytes(codec, source);
    for (const [offset, expectView] of [
      [5, true],
      [6, false],
    ] as const) {
      const holder = new Uint8Array(64);
      holder.set(encoded, offset);
      const decoded = new ValueCodec().decode(
        new Uint8ArrayReadBuffer(holder.subarray(offset, offset + encoded.length)),
      ) as Float64Array;
      expect([...decoded]).toEqual([1, 2, 3]);
      expect(decoded.buffer === holder.buffer).toBe(expectView);
    }
  });

  test('a DataView arrives as a DataView over the message', () => {
    const view = new DataView(new ArrayBuffer(8), 2, 4);
    view.setUint32(0, 0xdeadbeef);
    const bytes = encodeToBytes(codec, view);
    const decoded = decodeBytes(codec, bytes) as DataView;
    expect(decoded).toBeInstanceOf(DataView);
    expect(decoded.byteLength).toBe(4);
    expect(decoded.getUint32(0)).toBe(0xdeadbeef);
    expect(decoded.buffer).toBe(bytes.buffer);
  });

  test('typed arrays from another realm are recognized by kind, not by instanceof', () => {
    const foreign = vm.runInNewContext('[new Uint8Array([1, 2]), new Float32Array([0.5])]') as [
      Uint8Array,
      Float32Array,
    ];
    const [bytes, floats] = roundTrip(foreign);
    expect(Object.getPrototypeOf(bytes)).toBe(Uint8Array.prototype);
    expect([...bytes]).toEqual([1, 2]);
    expect(floats).toBeInstanceOf(Float32Array);
    expect([...floats]).toEqual([0.5]);
  });

  test('1 MiB of bytes round-trips intact', () => {
    const big = Uint8Array.from({ length: 1 << 20 }, (_, i) => (i * 31) & 0xff);
    const decoded = roundTrip(big);
    expect(Buffer.compare(Buffer.from(decoded), Buffer.from(big))).toBe(0);
  });
});

describe('containers', () => {
  test('arrays, short and long, nested', () => {
    expectRoundTrip([]);
    expectRoundTrip([1, 'two', [3, [4, [5]]], null, undefined, true]);
    expectRoundTrip(Array.from({ length: 1000 }, (_, i) => (i % 2 ? i : `s${i}`)));
    expect(sizeOf([1, 2])).toBe(3);
  });

  test('holes arrive as undefined, and non-index array properties are not sent', () => {
    // eslint-disable-next-line no-sparse-arrays
    const sparse = [1, , 3];
    const decoded = roundTrip(sparse);
    expect(decoded).toHaveLength(3);
    expect(1 in decoded).toBe(true);
    expect(decoded[1]).toBeUndefined();
    const tagged = Object.assign([1], { extra: 'x' });
    expect(Object.keys(roundTrip(tagged))).toEqual(['0']);
  });

  test('plain objects keep their keys in order, undefined values included', () => {
    const value = { b: 1, a: 'x', 10: 'ten', 2: 'two', nested: { deep: { deeper: [{}] } }, gone: undefined };
    const decoded = roundTrip(value);
    expect(Object.keys(decoded)).toEqual(Object.keys(value));
    expect('gone' in decoded).toBe(true);
    expectRoundTrip(value);
    expectRoundTrip(Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`key${i}`, i])));
    expectRoundTrip({ '': 'empty key', 'with space': 1, ünïcode: 2, '😀': 3 });
  });

  test('symbol keys and non-enumerable properties are skipped', () => {
    const value: Record<string | symbol, unknown> = { kept: 1, [Symbol('skipped')]: 2 };
    Object.defineProperty(value, 'hidden', { value: 3, enumerable: false });
    expect(roundTrip(value)).toEqual({ kept: 1 });
    expect(Object.getOwnPropertySymbols(roundTrip(value))).toEqual([]);
  });

  test('enumerable properties added to Object.prototype are not sent', () => {
    const proto = Object.prototype as Record<string, unknown>;
    proto.inherited = 'polluted';
    try {
      const decoded = roundTrip({ own: 1, list: [{ a: 1 }, { a: 2 }] });
      expect(Object.keys(decoded)).toEqual(['own', 'list']);
      expect(Object.keys(decoded.list[1])).toEqual(['a']);
    } finally {
      delete proto.inherited;
    }
  });

  test('an object whose getter deletes a key not yet written fails instead of sending a wrong count', () => {
    const value = {
      get first() {
        delete (value as { second?: number }).second;
        return 1;
      },
      second: 2,
    };
    expect(() => encodeToBytes(codec, { value })).toThrow(
      'cannot encode an object whose keys change while it is encoded at value.value',
    );
    const record = (n: number) => ({ a: n, b: n });
    const changing = {
      get a() {
        delete (changing as { b?: number }).b;
        return 0;
      },
      b: 1,
    };
    expect(() => encodeToBytes(codec, [record(1), changing])).toThrow(
      'cannot encode an object whose keys change while it is encoded at value[1]',
    );
    expect(roundTrip([record(1), record(2)])).toEqual([record(1), record(2)]);
  });

  test('a Map or Set whose entries change while it is encoded fails instead of sending a wrong count', () => {
    // A getter inside adds or deletes an entry: the count is written first, so the entries written would not match
    // it, and the decoder would read what follows the collection as its entries (or its entries as what follows).
    const grows = new Map<string, unknown>();
    grows.set('a', {
      get x() {
        grows.set('b', 2);
        return 1;
      },
    });
    expect(() => encodeToBytes(codec, [grows, 'after'])).toThrow(
      /^cannot encode a Map whose entries change while it is encoded at value\[0\]$/,
    );
    const shrinks = new Map<string, unknown>();
    shrinks.set('a', {
      get x() {
        shrinks.delete('b');
        return 1;
      },
    });
    shrinks.set('b', 2);
    expect(() => encodeToBytes(codec, { shrinks })).toThrow(
      /^cannot encode a Map whose entries change while it is encoded at value\.shrinks$/,
    );
    const set = new Set<unknown>();
    set.add({
      get x() {
        set.add(2);
        return 1;
      },
    });
    expect(() => encodeToBytes(codec, [set, 'after'])).toThrow(
      /^cannot encode a Set whose entries change while it is encoded at value\[0\]$/,
    );
    expect(roundTrip([new Map([['a', 1]]), new Set([1]), 'after'])).toEqual([new Map([['a', 1]]), new Set([1]), 'after']);
  });

  test('a null-prototype object arrives as a plain object', () => {
    const value = Object.assign(Object.create(null) as object, { a: 1 });
    const decoded = roundTrip(value);
    expect(Object.getPrototypeOf(decoded)).toBe(Object.prototype);
    expect(decoded).toEqual({ a: 1 });
  });

  test('arrays of records send each key list once and decode to equal objects', () => {
    const records = Array.from({ length: 50 }, (_, i) => ({ id: i, name: `n${i}`, active: i % 2 === 0, tags: ['a'] }));
    const bytes = Buffer.from(encodeToBytes(codec, records));
    let count = 0;
    for (let at = bytes.indexOf('active'); at >= 0; at = bytes.indexOf('active', at + 1)) count++;
    expect(count).toBe(1);
    expect(roundTrip(records)).toEqual(records);
  });

  test('shared key lists restart after anything that is not a same-keyed plain object', () => {
    const items = [
      { a: 1 },
      { a: 2 },
      { b: 1 },
      { a: 3 },
      7,
      { a: 4 },
      { a: 5 },
      [{ a: 6 }],
      new Map(),
      { a: 7 },
      {},
      {},
    ];
    expect(roundTrip(items)).toEqual(items);
    const byInsertion = [
      { x: 1, y: 2 },
      { y: 2, x: 1 },
      { x: 3, y: 4 },
    ];
    const decoded = roundTrip(byInsertion);
    expect(decoded.map((o) => Object.keys(o))).toEqual([
      ['x', 'y'],
      ['y', 'x'],
      ['x', 'y'],
    ]);
    const numericKeys = [
      { b: 1, 2: 'two', 1: 'one' },
      { b: 2, 1: 'uno', 2: 'dos' },
    ];
    expect(roundTrip(numericKeys)).toEqual(numericKeys);
  });

  test('Map keeps insertion order and keys of any type', () => {
    const objectKey = { id: 1 };
    const map = new Map<unknown, unknown>([
      ['a', 1],
      [2, 'two'],
      [objectKey, [1, 2]],
      [null, undefined],
      [NaN, 'nan'],
    ]);
    const decoded = expectRoundTrip(map) as Map<unknown, unknown>;
    expect(decoded).toBeInstanceOf(Map);
    expect(decoded.get(NaN)).toBe('nan');
    expect([...decoded.keys()][2]).toEqual({ id: 1 });
    expectRoundTrip(new Map());
  });

  test('Set keeps insertion order', () => {
    const decoded = expectRoundTrip(new Set([3, 'x', { a: 1 }, [1], -0])) as Set<unknown>;
    expect(decoded).toBeInstanceOf(Set);
    expect(decoded.size).toBe(5);
  });

  test('the same object twice (no cycle) arrives as two equal copies', () => {
    const shared = { n: 1 };
    const decoded = roundTrip({ a: shared, b: shared });
    expect(decoded.a).toEqual(shared);
    expect(decoded.b).toEqual(shared);
    expect(decoded.a).not.toBe(decoded.b);
  });
});

describe('dates and regular expressions', () => {
  test('dates, invalid ones too', () => {
    for (const date of [new Date(0), new Date('2024-02-29T12:34:56.789Z'), new Date(-8.64e15), new Date(8.64e15)]) {
      const decoded = roundTrip(date);
      expect(decoded).toBeInstanceOf(Date);
      expect(decoded.getTime()).toBe(date.getTime());
    }
    const invalid = roundTrip(new Date(NaN));
    expect(invalid).toBeInstanceOf(Date);
    expect(Number.isNaN(invalid.getTime())).toBe(true);
  });

  test('RegExp keeps source and flags (lastIndex is not sent)', () => {
    for (const re of [/a+b/, /^x.*?$/gimsuy, /\d{3}-\/[\]\\]/g, new RegExp('😀+', 'u'), /(?<year>\d{4})/d]) {
      const decoded = roundTrip(re);
      expect(decoded).toBeInstanceOf(RegExp);
      expect(decoded.source).toBe(re.source);
      expect(decoded.flags).toBe(re.flags);
    }
    const sticky = /a/g;
    sticky.lastIndex = 3;
    expect(roundTrip(sticky).lastIndex).toBe(0);
  });
});

describe('errors', () => {
  test('name, message and stack arrive; the result is a native Error', () => {
    const error = new Error('boom');
    const decoded = roundTrip(error);
    expect(types.isNativeError(decoded)).toBe(true);
    expect(decoded).toBeInstanceOf(Error);
    expect(decoded.name).toBe('Error');
    expect(decoded.message).toBe('boom');
    expect(decoded.stack).toBe(error.stack);
    expect(Object.getOwnPropertyDescriptor(decoded, 'stack')?.enumerable).toBe(false);
  });

  test.each([TypeError, RangeError, SyntaxError, ReferenceError, EvalError, URIError])(
    '%p is rebuilt as its class',
    (Ctor) => {
      const decoded = roundTrip(new Ctor('bad input'));
      expect(decoded).toBeInstanceOf(Ctor);
      expect(decoded.name).toBe(Ctor.name);
      expect(decoded.message).toBe('bad input');
      expect(Object.prototype.hasOwnProperty.call(decoded, 'name')).toBe(false);
    },
  );

  test('code, custom properties and the cause chain arrive with their enumerability', () => {
    const root = Object.assign(new RangeError('root cause'), { code: 'E_ROOT' });
    const middle = new Error('middle', { cause: root });
    const top = Object.assign(new TypeError('top', { cause: middle }), {
      code: 'E_TOP',
      status: 503,
      details: { retry: true, at: new Date(5) },
    });
    const decoded = expectRoundTrip(top) as typeof top;
    expect(decoded).toBeInstanceOf(TypeError);
    expect(decoded.code).toBe('E_TOP');
    expect(decoded.status).toBe(503);
    expect(decoded.details).toEqual({ retry: true, at: new Date(5) });
    expect(Object.keys(decoded).sort()).toEqual(['code', 'details', 'status']);
    const cause = decoded.cause as Error;
    expect(cause).toBeInstanceOf(Error);
    expect(cause.message).toBe('middle');
    expect(Object.getOwnPropertyDescriptor(decoded, 'cause')?.enumerable).toBe(false);
    const rootCause = cause.cause as RangeError & { code: string };
    expect(rootCause).toBeInstanceOf(RangeError);
    expect(rootCause.code).toBe('E_ROOT');
    expect(rootCause.stack).toBe(root.stack);
  });

  test('a non-Error cause arrives as itself', () => {
    expect(roundTrip(new Error('x', { cause: 'just a string' })).cause).toBe('just a string');
    expect(roundTrip(new Error('x', { cause: { status: 404 } })).cause).toEqual({ status: 404 });
    const undefinedCause = roundTrip(new Error('x', { cause: undefined }));
    expect('cause' in undefinedCause).toBe(true);
    expect(undefinedCause.cause).toBeUndefined();
    expect('cause' in roundTrip(new Error('x'))).toBe(false);
  });

  test('a subclass that sets its name arrives as an Error carrying that name', () => {
    class ValidationError extends Error {
      override name = 'ValidationError';
      constructor(readonly field: string) {
        super(`${field} is invalid`);
      }
    }
    const decoded = roundTrip(new ValidationError('email')) as unknown as ValidationError;
    expect(decoded).toBeInstanceOf(Error);
    expect(decoded.name).toBe('ValidationError');
    expect(decoded.field).toBe('email');
    expect(decoded.message).toBe('email is invalid');
  });

  test('a subclass that never set a name arrives under its class name', () => {
    class HttpError extends Error {}
    class Prototyped extends TypeError {}
    Object.defineProperty(Prototyped.prototype, 'name', { value: 'CustomName' });
    expect(roundTrip(new HttpError('404')).name).toBe('HttpError');
    expect(roundTrip(new Prototyped('x')).name).toBe('CustomName');
  });

  test('an unknown or hostile name makes an Error with that name', () => {
    for (const name of ['AbortError', 'constructor', '__proto__', 'toString', 'hasOwnProperty']) {
      const error = new Error('m');
      error.name = name;
      const decoded = roundTrip(error);
      expect(Object.getPrototypeOf(decoded)).toBe(Error.prototype);
      expect(decoded.name).toBe(name);
    }
  });

  test('AggregateError keeps its errors', () => {
    const aggregate = new AggregateError([new Error('one'), new TypeError('two')], 'both failed');
    const decoded = expectRoundTrip(aggregate) as AggregateError;
    expect(decoded).toBeInstanceOf(AggregateError);
    expect(decoded.errors).toHaveLength(2);
    expect(decoded.errors[1]).toBeInstanceOf(TypeError);
  });

  test("Node's own errors keep errno, code, syscall and path", () => {
    let thrown: NodeJS.ErrnoException | undefined;
    try {
      fs.readFileSync('/definitely/not/here');
    } catch (error) {
      thrown = error as NodeJS.ErrnoException;
    }
    const decoded = expectRoundTrip(thrown) as NodeJS.ErrnoException;
    expect(decoded.code).toBe('ENOENT');
    expect(decoded.syscall).toBe('open');
    expect(decoded.path).toBe('/definitely/not/here');
    expect(decoded.errno).toBe(thrown!.errno);
  });

  test('a code provided by the prototype arrives too (DOMException)', () => {
    const decoded = roundTrip(new DOMException('gone', 'AbortError')) as Error & { code?: number };
    expect(decoded).toBeInstanceOf(Error);
    expect(decoded.name).toBe('AbortError');
    expect(decoded.message).toBe('gone');
    expect(decoded.code).toBe(20);
  });

  test('errors from another realm are recognized and rebuilt in this one', () => {
    const foreign = vm.runInNewContext('Object.assign(new TypeError("elsewhere"), { code: "E_VM" })') as TypeError;
    expect(foreign instanceof Error).toBe(false);
    const decoded = roundTrip(foreign) as TypeError & { code: string };
    expect(decoded).toBeInstanceOf(TypeError);
    expect(decoded.message).toBe('elsewhere');
    expect(decoded.code).toBe('E_VM');
    const subclass = vm.runInNewContext('class HttpError extends Error {}; new HttpError("404")') as Error;
    expect(roundTrip(subclass).name).toBe('HttpError');
  });

  test('an error without a stack arrives without one', () => {
    const error = new Error('no stack');
    Object.defineProperty(error, 'stack', { value: undefined });
    expect(roundTrip(error).stack).toBeUndefined();
  });

  test('errors nest inside other values', () => {
    const decoded = roundTrip({ results: [1, new RangeError('r')], byId: new Map([[1, new Error('m')]]) });
    expect(decoded.results[1]).toBeInstanceOf(RangeError);
    expect(decoded.byId.get(1)).toBeInstanceOf(Error);
  });
});

describe('other objects', () => {
  test('a class instance without an extension arrives as its own enumerable properties', () => {
    class Account {
      balance = 10;
      owner = 'ann';
      get doubled() {
        return this.balance * 2;
      }
      deposit() {}
    }
    const decoded = roundTrip(new Account());
    expect(Object.getPrototypeOf(decoded)).toBe(Object.prototype);
    expect(decoded).toEqual({ balance: 10, owner: 'ann' });
  });

  test('built-in objects from another realm arrive as themselves, not as their own properties', () => {
    // A vm context's, and under Jest whatever Node's own modules make (a file's mtime is such a Date).
    const foreign = vm.runInNewContext(
      "[new Map([[1, 'one']]), new Set(['a']), new Date(5), /x/g, new Uint8Array([7, 8]).buffer, Object(3n), Object('s')]",
    ) as [Map<number, string>, Set<string>, Date, RegExp, ArrayBuffer, bigint, string];
    const decoded = roundTrip(foreign);
    expect(decoded[0]).toEqual(new Map([[1, 'one']]));
    expect(decoded[1]).toEqual(new Set(['a']));
    expect(decoded[2]).toEqual(new Date(5));
    expect(decoded[3]).toEqual(/x/g);
    expect(decoded[4]).toBeInstanceOf(ArrayBuffer);
    expect([...new Uint8Array(decoded[4])]).toEqual([7, 8]);
    expect(decoded[5]).toEqual(Object(3n));
    expect(decoded[6]).toEqual(Object('s'));
    const { mtime } = fs.statSync(__filename);
    expect(roundTrip(mtime)).toEqual(new Date(mtime.getTime()));
    const promise = vm.runInNewContext('new Promise(() => {})') as Promise<never>;
    expect(() => encodeToBytes(codec, promise)).toThrow('cannot encode a Promise');
  });

  test('boxed primitives stay boxed', () => {
    for (const primitive of [5, -0, NaN, 1e300, 's', '', false, 5n, -(2n ** 80n)]) {
      const decoded = roundTrip(Object(primitive));
      expect(typeof decoded).toBe('object');
      expect(Object.getPrototypeOf(decoded)).toBe(Object.getPrototypeOf(Object(primitive)));
      expect(Object.is(decoded.valueOf(), primitive)).toBe(true);
    }
    // Two boxes of the same primitive are still two Map keys.
    expect(
      roundTrip(
        new Map([
          [Object(true), 1],
          [Object(true), 2],
        ]),
      ).size,
    ).toBe(2);
  });

  test('objects whose content cannot be reached fail instead of arriving empty', () => {
    for (const [value, name] of [
      [Promise.resolve(1), 'Promise'],
      [new WeakMap(), 'WeakMap'],
      [new WeakSet(), 'WeakSet'],
      [new WeakRef({}), 'WeakRef'],
    ] as const) {
      expect(() => encodeToBytes(codec, { value })).toThrow(
        new EncodeError(`cannot encode a ${name}`, 'value', '.value'),
      );
    }
  });
});

describe('functions and symbols', () => {
  test('fail with an EncodeError naming what and where', () => {
    function handler() {}
    const cases: Array<[unknown, string]> = [
      [handler, 'cannot encode a function (handler) at value'],
      [{ a: [1, { b: () => 1 }] }, 'cannot encode a function (b) at value.a[1].b'],
      [[Symbol('tag')], 'cannot encode a symbol (Symbol(tag)) at value[0]'],
      [{ 'odd key': Symbol.iterator }, 'cannot encode a symbol (Symbol(Symbol.iterator)) at value["odd key"]'],
      [new Map([['k', class Foo {}]]), 'cannot encode a function (Foo) at value.get("k")'],
      [new Map([[() => 1, 1]]), 'cannot encode a function at value.keys()[0]'],
      [new Set([1, Symbol()]), 'cannot encode a symbol (Symbol()) at value.values()[1]'],
      [new Error('x', { cause: { fn: Math.max } }), 'cannot encode a function (max) at value.cause.fn'],
      [[{ a: 1 }, { a: () => 1 }], 'cannot encode a function (a) at value[1].a'],
      [Object(Symbol('boxed')), 'cannot encode a symbol (Symbol(boxed)) at value'],
    ];
    for (const [value, text] of cases) {
      let thrown: unknown;
      try {
        encodeToBytes(codec, value);
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(EncodeError);
      expect((thrown as EncodeError).name).toBe('EncodeError');
      expect((thrown as EncodeError).message).toBe(text);
    }
  });

  test('the root of the path can be named, at the call or afterwards', () => {
    const args = [1, { items: [0, 1, 2, () => 0] }];
    expect(() => encodeToBytes(codec, args, 'args')).toThrow('cannot encode a function at args[1].items[3]');
    try {
      encodeToBytes(codec, args[1]);
    } catch (error) {
      const renamed = (error as EncodeError).withRoot('args[1]');
      expect(renamed).toBeInstanceOf(EncodeError);
      expect(renamed.message).toBe('cannot encode a function at args[1].items[3]');
      expect(renamed.path).toBe('args[1].items[3]');
      expect(renamed.reason).toBe('cannot encode a function');
    }
    expect.assertions(5);
  });

  test('a getter that throws is reported with its path and the original error as cause', () => {
    const value = {
      ok: 1,
      get broken(): number {
        throw new Error('getter exploded');
      },
    };
    let thrown: EncodeError | undefined;
    try {
      encodeToBytes(codec, [value]);
    } catch (error) {
      thrown = error as EncodeError;
    }
    expect(thrown).toBeInstanceOf(EncodeError);
    expect(thrown!.message).toContain('getter exploded');
    expect(thrown!.path).toBe('value[0].broken');
    expect((thrown!.cause as Error).message).toBe('getter exploded');
  });

  test('the codec keeps working after a failed encode', () => {
    expect(() => encodeToBytes(codec, [[[() => 1]]])).toThrow(EncodeError);
    expectRoundTrip({ fine: [1, 2, 3] }, codec);
  });
});

describe('wire format', () => {
  // Pinned bytes: a change here is a protocol change, and PROTOCOL.md's "Codec values" must change with it.
  test('a small RPC envelope', () => {
    const bytes = encodeToBytes(codec, { id: 17, method: 'add', args: [1, 2] });
    expect([...bytes]).toEqual([...message(0x93, 'id', 17, 'method', T.STRING, 'add', 'args', 0x82, 1, 2)]);
  });

  test('scalars', () => {
    expect([...encodeToBytes(codec, -1)]).toEqual([0xa0]);
    expect([...encodeToBytes(codec, -32)]).toEqual([0xbf]);
    expect([...encodeToBytes(codec, 300)]).toEqual([T.UINT, 0xac, 0x02]);
    expect([...encodeToBytes(codec, -300)]).toEqual([T.NEGINT, 0xac, 0x02]);
    expect([...encodeToBytes(codec, 1.5)]).toEqual([T.FLOAT64, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0]);
    expect([...encodeToBytes(codec, -258n)]).toEqual([T.NEGBIGINT, 2, 1, 2]);
    expect([...encodeToBytes(codec, new Uint16Array([1, 0x203]))]).toEqual([T.TYPEDARRAY, 3, 4, 1, 0, 3, 2]);
  });

  test('a decoder reads exactly one value and leaves the rest', () => {
    const writer = new Uint8ArrayWriteBuffer();
    codec.encode(writer, { a: [1, 'x'] });
    writer.writeString('after');
    codec.encode(writer, 5n);
    writer.commit();
    const reader = new Uint8ArrayReadBuffer(writer.getCurrentContents());
    expect(codec.decode(reader)).toEqual({ a: [1, 'x'] });
    expect(reader.readString()).toBe('after');
    expect(codec.decode(reader)).toBe(5n);
    expect(reader.remaining).toBe(0);
  });
});
