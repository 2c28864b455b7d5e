import { Uint8ArrayReadBuffer, Uint8ArrayWriteBuffer, type ReadBuffer, type WriteBuffer } from '../src/buffer';
import {
  DecodeError,
  EncodeError,
  ValueCodec,
  type DecodeContext,
  type EncodeContext,
  type ValueCodecOptions,
  type ValueExtension,
} from '../src/rpc/codec';
import * as T from '../src/rpc/codec/tags';
import { decodeBytes, encodeToBytes, message, roundTrip, varint } from './helpers/codec';

class Point {
  constructor(
    readonly x: number,
    readonly y: number,
  ) {}
  length(): number {
    return Math.hypot(this.x, this.y);
  }
}

const pointExtension: ValueExtension<Point> = {
  tag: 1,
  test: (value): value is Point => value instanceof Point,
  encode(point, buffer) {
    buffer.writeNumber(point.x).writeNumber(point.y);
  },
  decode(buffer) {
    return new Point(buffer.readNumber(), buffer.readNumber());
  },
};

const urlExtension: ValueExtension<URL> = {
  tag: 2,
  test: (value): value is URL => value instanceof URL,
  encode(url, buffer) {
    buffer.writeString(url.href);
  },
  decode(buffer) {
    return new URL(buffer.readString());
  },
};

/** A container type whose content goes through the codec: nested values, depth and paths keep working. */
class Labeled {
  constructor(
    readonly label: string,
    readonly content: unknown,
  ) {}
}

const labeledExtension: ValueExtension<Labeled> = {
  tag: 63,
  test: (value): value is Labeled => value instanceof Labeled,
  encode(value, buffer: WriteBuffer, context) {
    buffer.writeString(value.label);
    context.encode(buffer, value.content);
  },
  decode(buffer: ReadBuffer, context) {
    return new Labeled(buffer.readString(), context.decode(buffer));
  },
};

describe('extensions', () => {
  const codec = new ValueCodec({ extensions: [pointExtension, urlExtension] }).register(labeledExtension);

  test('a Point arrives as a Point, alone and nested', () => {
    const decoded = roundTrip(new Point(3, 4), codec);
    expect(decoded).toBeInstanceOf(Point);
    expect(decoded.length()).toBe(5);
    const nested = roundTrip(
      { path: [new Point(0, 0), new Point(1, -1)], origin: new Map([['o', new Point(-0, NaN)]]) },
      codec,
    );
    expect(nested.path[1]).toEqual(new Point(1, -1));
    expect(Object.is(nested.origin.get('o')!.x, -0)).toBe(true);
    expect(nested.origin.get('o')!.y).toBeNaN();
  });

  test('a URL arrives as a URL', () => {
    const url = new URL('https://example.com:8080/a/b?q=1#frag');
    const decoded = roundTrip({ link: url }, codec);
    expect(decoded.link).toBeInstanceOf(URL);
    expect(decoded.link.href).toBe(url.href);
  });

  test('the wire carries the extension tag in its own namespace', () => {
    expect([...encodeToBytes(codec, new URL('http://a/'))]).toEqual([T.EXTENSION, 2, 9, ...Buffer.from('http://a/')]);
  });

  test('without the extension, a URL is only its own enumerable properties, i.e. nothing', () => {
    expect(roundTrip(new URL('http://a/'))).toEqual({});
  });

  test('extensions can nest values through the codec', () => {
    const value = new Labeled('outer', [new Labeled('inner', new Point(1, 2)), { u: new URL('http://x/') }]);
    const decoded = roundTrip(value, codec);
    expect(decoded).toBeInstanceOf(Labeled);
    const inner = (decoded.content as unknown[])[0] as Labeled;
    expect(inner).toBeInstanceOf(Labeled);
    expect(inner.content).toEqual(new Point(1, 2));
    expect(((decoded.content as unknown[])[1] as { u: URL }).u.href).toBe('http://x/');
  });

  test('errors inside an extension value name the extension in the path', () => {
    expect(() => encodeToBytes(codec, [new Labeled('l', { f: () => 0 })])).toThrow(
      new EncodeError('cannot encode a function (f)', 'value', '[0]<extension 63>.f'),
    );
  });

  test('extension values count toward the depth limit, nested ones too', () => {
    const limited = new ValueCodec({ maxDepth: 3, extensions: [labeledExtension] });
    const ok = new Labeled('a', [new Labeled('b', 'leaf')]);
    expect(roundTrip(ok, limited)).toEqual(ok);
    const tooDeep = new Labeled('a', [new Labeled('b', ['leaf'])]);
    expect(() => encodeToBytes(limited, tooDeep)).toThrow('nested deeper than maxDepth (3)');
    const lenient = new ValueCodec({ extensions: [labeledExtension] });
    expect(() => decodeBytes(limited, encodeToBytes(lenient, tooDeep))).toThrow(/nested deeper than maxDepth \(3\)/);
  });

  test('a cycle through an extension is reported as a cycle', () => {
    const list: unknown[] = [];
    list.push(new Labeled('loop', list));
    expect(() => encodeToBytes(codec, list)).toThrow(
      'cannot encode a cyclic value (this is the same object as its ancestor value) at value[0]<extension 63>',
    );
  });

  test('extensions are asked before the built-in handling of objects', () => {
    const dateAsString: ValueExtension<Date> = {
      tag: 5,
      test: (value): value is Date => value instanceof Date,
      encode: (date, buffer) => void buffer.writeString(`date:${date.toISOString()}`),
      decode: (buffer) => new Date(buffer.readString().slice(5)),
    };
    const seen: unknown[] = [];
    const spy: ValueExtension<never> = {
      tag: 6,
      test: (value): value is never => (seen.push(value), false),
      encode: () => {},
      decode: () => undefined as never,
    };
    const local = new ValueCodec({ extensions: [spy, dateAsString] });
    const bytes = Buffer.from(encodeToBytes(local, { when: new Date(0), n: 1, s: 'x' }));
    expect(bytes.includes('date:1970-01-01T00:00:00.000Z')).toBe(true);
    expect((decodeBytes(local, bytes) as { when: Date }).when.getTime()).toBe(0);
    // Objects were offered to the extensions; primitives were not.
    expect(seen.some((v) => v instanceof Date)).toBe(true);
    expect(seen.filter((v) => typeof v !== 'object')).toEqual([]);
  });

  test('an extension can carry functions, which the codec refuses by itself', () => {
    const registry = new Map<number, () => string>();
    const callbackExtension: ValueExtension<() => string> = {
      tag: 7,
      test: (value): value is () => string => typeof value === 'function',
      encode(fn, buffer) {
        const id = registry.size + 1;
        registry.set(id, fn);
        buffer.writeLength(id);
      },
      decode: (buffer) => registry.get(buffer.readLength())!,
    };
    const local = new ValueCodec({ extensions: [callbackExtension] });
    const hello = () => 'hello';
    expect(roundTrip({ onDone: hello }, local).onDone).toBe(hello);
  });

  test('the decoder needs the same extension, and extension failures become DecodeErrors', () => {
    const bytes = encodeToBytes(codec, new Point(1, 2));
    expect(() => decodeBytes(new ValueCodec(), bytes)).toThrow(
      new DecodeError('no extension is registered for extension tag 1', 1),
    );
    const throwing = new ValueCodec({
      extensions: [{ ...urlExtension, decode: (buffer) => new URL(`not a url ${buffer.readString()}`) }],
    });
    let thrown: unknown;
    try {
      decodeBytes(throwing, encodeToBytes(codec, new URL('http://a/')));
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(DecodeError);
    // Node 18 names the code in the text: "TypeError [ERR_INVALID_URL]: Invalid URL".
    expect((thrown as DecodeError).message).toMatch(/^decoding failed: TypeError( \[ERR_INVALID_URL\])?: Invalid URL/);
    expect((thrown as DecodeError).cause).toBeDefined();
    // Truncated extension data is a truncated message like any other.
    expect(() => decodeBytes(codec, bytes.subarray(0, 6))).toThrow(DecodeError);
  });

  test('an extension that throws on encode is reported with its path', () => {
    const failing = new ValueCodec({
      extensions: [
        {
          ...pointExtension,
          encode: () => {
            throw new Error('no points today');
          },
        },
      ],
    });
    let thrown: unknown;
    try {
      encodeToBytes(failing, { p: new Point(0, 0) });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(EncodeError);
    expect((thrown as EncodeError).path).toBe('value.p<extension 1>');
    expect((thrown as EncodeError).message).toContain('no points today');
    // The codec is fine afterwards, nested state included.
    expect(roundTrip({ p: [1] }, failing)).toEqual({ p: [1] });
  });

  test('registration checks the tag', () => {
    const fresh = new ValueCodec();
    expect(() => fresh.register({ ...pointExtension, tag: 64 })).toThrow(RangeError);
    expect(() => fresh.register({ ...pointExtension, tag: -1 })).toThrow(RangeError);
    expect(() => fresh.register({ ...pointExtension, tag: 1.5 })).toThrow(RangeError);
    expect(() => fresh.register({ tag: 3 } as unknown as ValueExtension)).toThrow(TypeError);
    expect(fresh.register(pointExtension)).toBe(fresh);
    expect(() => fresh.register({ ...urlExtension, tag: 1 })).toThrow('Extension tag 1 is already registered');
    expect(() => new ValueCodec({ extensions: [pointExtension, { ...urlExtension, tag: 1 }] })).toThrow(RangeError);
  });
});

/** Carries its content as a message of its own, encoded by the same codec: an encode inside an encode. */
class Sealed {
  constructor(readonly content: unknown) {}
}

const SEALED_TAG = 9;

/** A codec whose Sealed extension encodes and decodes its content with that very codec, from the root. */
function sealingCodec(options: ValueCodecOptions = {}): ValueCodec {
  const codec = new ValueCodec(options);
  return codec.register<Sealed>({
    tag: SEALED_TAG,
    test: (value): value is Sealed => value instanceof Sealed,
    encode: (sealed, buffer) => void buffer.writeBytes(encodeToBytes(codec, sealed.content, 'sealed')),
    decode: (buffer) => new Sealed(decodeBytes(codec, buffer.readBytes())),
  });
}

describe('extension contexts', () => {
  const codec = new ValueCodec({ extensions: [pointExtension, labeledExtension] });

  test('paths run through every extension level down to the failing value', () => {
    const value = { a: new Labeled('x', [0, new Labeled('y', new Map([['k', { f: () => 0 }]]))]) };
    expect(() => encodeToBytes(codec, value, 'args')).toThrow(
      new EncodeError('cannot encode a function (f)', 'args', '.a<extension 63>[1]<extension 63>.get("k").f'),
    );
  });

  test("every nested value of one extension value counts from that value's depth", () => {
    class Pair {
      constructor(
        readonly first: unknown,
        readonly second: unknown,
      ) {}
    }
    const pairExtension: ValueExtension<Pair> = {
      tag: 8,
      test: (value): value is Pair => value instanceof Pair,
      encode(pair, buffer, context) {
        context.encode(buffer, pair.first);
        context.encode(buffer, pair.second);
      },
      decode: (buffer, context) => new Pair(context.decode(buffer), context.decode(buffer)),
    };
    // The pair is at depth 2: each of its values may hold one more container, not two.
    const limited = new ValueCodec({ maxDepth: 3, extensions: [pairExtension] });
    const ok = [new Pair(['a'], ['b'])];
    expect(roundTrip(ok, limited)).toEqual(ok);
    const tooDeep = [new Pair(['a'], [['b']])];
    expect(() => encodeToBytes(limited, tooDeep)).toThrow(
      new EncodeError('cannot encode a value nested deeper than maxDepth (3)', 'value', '[0]<extension 8>[0]'),
    );
    const bytes = encodeToBytes(new ValueCodec({ extensions: [pairExtension] }), tooDeep);
    expect(() => decodeBytes(limited, bytes)).toThrow(new DecodeError('value nested deeper than maxDepth (3)', 9));
  });

  test('an extension that encodes an unrelated value with the same codec leaves the outer encode intact', () => {
    const sealing = sealingCodec({ maxDepth: 3 });
    // The sealed content is a value of its own: it may nest as deep as any root value, whatever depth it sits at.
    const content = [[['deep']]];
    const value = [1, [new Sealed(content)], { k: 2 }];
    const inner = encodeToBytes(sealing, content);
    const bytes = encodeToBytes(sealing, value);
    expect([...bytes]).toEqual([
      ...message(0x83, 1, 0x81, T.EXTENSION, SEALED_TAG, varint(inner.length), inner, 0x91, 'k', 2),
    ]);
    const decoded = decodeBytes(sealing, bytes) as [number, [Sealed], { k: number }];
    expect(decoded[1][0]).toBeInstanceOf(Sealed);
    expect(decoded).toEqual([1, [new Sealed(content)], { k: 2 }]);
  });

  test('an unrelated encode that fails inside an extension fails on its own, with its own root', () => {
    const sealing = sealingCodec();
    let thrown: unknown;
    try {
      encodeToBytes(sealing, { list: [new Sealed({ f: () => 0 })] });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(EncodeError);
    const outer = thrown as EncodeError;
    expect(outer.path).toBe(`value.list[0]<extension ${SEALED_TAG}>`);
    expect(outer.cause).toBeInstanceOf(EncodeError);
    expect((outer.cause as EncodeError).path).toBe('sealed.f');
    expect(roundTrip({ list: [new Sealed(1)] }, sealing)).toEqual({ list: [new Sealed(1)] });
  });

  test('a getter inside an extension value can encode an unrelated value with the same codec', () => {
    const limited = new ValueCodec({ maxDepth: 3, extensions: [labeledExtension] });
    let unrelated: Uint8Array | undefined;
    const content = {
      get g() {
        unrelated = encodeToBytes(limited, [[['deep']]]);
        return 'got';
      },
    };
    expect(roundTrip(new Labeled('l', content), limited)).toEqual(new Labeled('l', { g: 'got' }));
    expect(decodeBytes(limited, unrelated!)).toEqual([[['deep']]]);
  });

  test('an unrelated decode inside an extension reports its own DecodeError', () => {
    const seen: unknown[] = [];
    const local = new ValueCodec();
    local.register<Sealed>({
      tag: SEALED_TAG,
      test: (value): value is Sealed => value instanceof Sealed,
      encode: (sealed, buffer) => void buffer.writeBytes(encodeToBytes(local, sealed.content)),
      decode(buffer) {
        const bytes = buffer.readBytes();
        try {
          return new Sealed(decodeBytes(local, bytes));
        } catch (error) {
          seen.push(error);
          return new Sealed(undefined);
        }
      },
    });
    const truncated = encodeToBytes(local, 'a string').subarray(0, 3);
    const bytes = message(0x92, 'a', T.EXTENSION, SEALED_TAG, varint(truncated.length), truncated, 'b', 7);
    expect(decodeBytes(local, bytes)).toEqual({ a: new Sealed(undefined), b: 7 });
    expect(seen).toHaveLength(1);
    expect(seen[0]).toBeInstanceOf(DecodeError);
  });

  test('a context kept past its call refuses to be used', () => {
    const kept: { encode?: EncodeContext; decode?: DecodeContext } = {};
    const keeping: ValueExtension<Labeled> = {
      ...labeledExtension,
      encode(value, buffer, context) {
        kept.encode = context;
        labeledExtension.encode(value, buffer, context);
      },
      decode(buffer, context) {
        kept.decode = context;
        return labeledExtension.decode(buffer, context);
      },
    };
    const local = new ValueCodec({ extensions: [keeping] });
    const bytes = encodeToBytes(local, new Labeled('l', 1));
    expect(decodeBytes(local, bytes)).toEqual(new Labeled('l', 1));
    expect(() => kept.encode!.encode(new Uint8ArrayWriteBuffer(), 1)).toThrow(TypeError);
    expect(() => kept.decode!.decode(new Uint8ArrayReadBuffer(Uint8Array.of(1)))).toThrow(TypeError);
  });
});
