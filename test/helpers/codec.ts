import { types } from 'util';
import { Uint8ArrayReadBuffer, Uint8ArrayWriteBuffer } from '../../src/buffer';
import { ValueCodec } from '../../src/rpc/codec';

/** The committed bytes of one message holding `value`. */
export function encodeToBytes(codec: ValueCodec, value: unknown, root?: string): Uint8Array {
  const buffer = new Uint8ArrayWriteBuffer();
  codec.encode(buffer, value, root);
  buffer.commit();
  return buffer.getCurrentContents();
}

/** Decodes one value and checks that it used the whole message. */
export function decodeBytes(codec: ValueCodec, bytes: Uint8Array): unknown {
  const reader = new Uint8ArrayReadBuffer(bytes);
  const value = codec.decode(reader);
  if (reader.remaining !== 0) throw new Error(`decode left ${reader.remaining} bytes unread`);
  return value;
}

export function roundTrip<T>(value: T, codec = new ValueCodec()): T {
  return decodeBytes(codec, encodeToBytes(codec, value)) as T;
}

/** A message built by hand: numbers are bytes, strings are varint length + UTF-8 (as WriteBuffer.writeString). */
export function message(...parts: Array<number | string | number[] | Uint8Array>): Uint8Array {
  const out: number[] = [];
  for (const part of parts) {
    if (typeof part === 'number') out.push(part);
    else if (typeof part === 'string') {
      const utf8 = Buffer.from(part, 'utf8');
      out.push(...varint(utf8.length), ...utf8);
    } else out.push(...part);
  }
  return Uint8Array.from(out);
}

export function varint(value: number): number[] {
  const out: number[] = [];
  while (value >= 0x80) {
    out.push(value % 0x80 | 0x80);
    value = Math.floor(value / 0x80);
  }
  out.push(value);
  return out;
}

const plainProto = (value: object) => {
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
};

function show(value: unknown): string {
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'string') return JSON.stringify(value);
  if (Object.is(value, -0)) return '-0';
  if (typeof value === 'object' && value !== null) return Object.prototype.toString.call(value);
  return String(value);
}

/**
 * Where `actual` (decoded) differs from what the codec promises for `expected` (encoded), or undefined. It follows
 * the documented mapping: -0 and NaN by Object.is, holes as undefined, boxed primitives boxed alike, any
 * non-plain object as its own enumerable properties, SharedArrayBuffer as ArrayBuffer, Map and Set in order.
 */
export function difference(actual: unknown, expected: unknown, path = 'value'): string | undefined {
  if (typeof expected !== 'object' || expected === null) {
    return Object.is(actual, expected) ? undefined : `${path}: got ${show(actual)}, expected ${show(expected)}`;
  }
  if (
    expected instanceof Number ||
    expected instanceof String ||
    expected instanceof Boolean ||
    expected instanceof BigInt
  ) {
    if (
      typeof actual !== 'object' ||
      actual === null ||
      Object.getPrototypeOf(actual) !== Object.getPrototypeOf(expected)
    ) {
      return `${path}: expected a boxed ${typeof expected.valueOf()}, got ${show(actual)}`;
    }
    return difference(actual.valueOf(), expected.valueOf(), path);
  }
  if (typeof actual !== 'object' || actual === null) return `${path}: got ${show(actual)}, expected an object`;
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual)) return `${path}: expected an array, got ${show(actual)}`;
    if (actual.length !== expected.length) return `${path}: length ${actual.length}, expected ${expected.length}`;
    for (let i = 0; i < expected.length; i++) {
      const d = difference(actual[i], expected[i], `${path}[${i}]`);
      if (d) return d;
    }
    return undefined;
  }
  if (ArrayBuffer.isView(expected)) {
    if (Object.getPrototypeOf(actual) !== Object.getPrototypeOf(expected)) {
      return `${path}: got ${show(actual)}, expected ${show(expected)}`;
    }
    const a = actual as ArrayBufferView;
    const sameBytes = Buffer.compare(
      Buffer.from(a.buffer, a.byteOffset, a.byteLength),
      Buffer.from(expected.buffer, expected.byteOffset, expected.byteLength),
    );
    return sameBytes === 0 ? undefined : `${path}: bytes differ`;
  }
  if (expected instanceof ArrayBuffer || expected instanceof SharedArrayBuffer) {
    if (!(actual instanceof ArrayBuffer)) return `${path}: expected an ArrayBuffer`;
    return Buffer.compare(Buffer.from(actual), Buffer.from(expected)) === 0 ? undefined : `${path}: bytes differ`;
  }
  if (expected instanceof Map) {
    if (!(actual instanceof Map) || actual.size !== expected.size) return `${path}: expected a Map of ${expected.size}`;
    const a = [...actual];
    const e = [...expected];
    for (let i = 0; i < e.length; i++) {
      const d =
        difference(a[i][0], e[i][0], `${path}.keys()[${i}]`) ?? difference(a[i][1], e[i][1], `${path}.values()[${i}]`);
      if (d) return d;
    }
    return undefined;
  }
  if (expected instanceof Set) {
    if (!(actual instanceof Set) || actual.size !== expected.size) return `${path}: expected a Set of ${expected.size}`;
    const a = [...actual];
    const e = [...expected];
    for (let i = 0; i < e.length; i++) {
      const d = difference(a[i], e[i], `${path}.values()[${i}]`);
      if (d) return d;
    }
    return undefined;
  }
  if (expected instanceof Date) {
    if (!(actual instanceof Date)) return `${path}: expected a Date`;
    return Object.is(actual.getTime(), expected.getTime())
      ? undefined
      : `${path}: ${actual.getTime()} vs ${expected.getTime()}`;
  }
  if (expected instanceof RegExp) {
    if (!(actual instanceof RegExp)) return `${path}: expected a RegExp`;
    return actual.source === expected.source && actual.flags === expected.flags
      ? undefined
      : `${path}: ${actual} vs ${expected}`;
  }
  // Errors from Node's own modules come from another realm under Jest: instanceof alone would miss them.
  if (expected instanceof Error || types.isNativeError(expected)) {
    if (!(actual instanceof Error)) return `${path}: expected an Error`;
    for (const key of ['name', 'message', 'stack'] as const) {
      if (actual[key] !== expected[key]) return `${path}.${key}: ${show(actual[key])} vs ${show(expected[key])}`;
    }
    const keys = (e: object) =>
      Object.getOwnPropertyNames(e)
        .filter((k) => k !== 'stack' && k !== 'message')
        .sort();
    const ak = keys(actual);
    const ek = keys(expected);
    if (ak.join() !== ek.join()) return `${path}: own properties ${ak} vs ${ek}`;
    for (const key of ek) {
      if (actual.propertyIsEnumerable(key) !== expected.propertyIsEnumerable(key))
        return `${path}.${key}: enumerability`;
      const d = difference((actual as never)[key], (expected as never)[key], `${path}.${key}`);
      if (d) return d;
    }
    return undefined;
  }
  // A plain object, or anything else reduced to its own enumerable properties.
  if (!plainProto(actual) || Object.getPrototypeOf(actual) !== Object.prototype) {
    return `${path}: expected a plain object, got ${show(actual)}`;
  }
  const ak = Object.keys(actual);
  const ek = Object.keys(expected);
  if (ak.join('\u0000') !== ek.join('\u0000')) return `${path}: keys ${JSON.stringify(ak)} vs ${JSON.stringify(ek)}`;
  for (const key of ek) {
    const d = difference(
      (actual as Record<string, unknown>)[key],
      (expected as Record<string, unknown>)[key],
      `${path}[${JSON.stringify(key)}]`,
    );
    if (d) return d;
  }
  return undefined;
}

/** Round-trips `value` and fails with the first difference found. */
export function expectRoundTrip(value: unknown, codec = new ValueCodec()): unknown {
  const decoded = roundTrip(value, codec);
  const d = difference(decoded, value);
  if (d) throw new Error(`round trip changed the value: ${d}`);
  return decoded;
}
