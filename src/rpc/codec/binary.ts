// Typed arrays travel as their raw element bytes. The wire order is little-endian because that is what every
// mainstream host already has in memory, so sender and receiver copy nothing extra; a big-endian host pays for a
// byte swap on both ends instead.

type TypedArrayConstructor =
  | Int8ArrayConstructor
  | Uint8ClampedArrayConstructor
  | Int16ArrayConstructor
  | Uint16ArrayConstructor
  | Int32ArrayConstructor
  | Uint32ArrayConstructor
  | Float32ArrayConstructor
  | Float64ArrayConstructor
  | BigInt64ArrayConstructor
  | BigUint64ArrayConstructor;

export type TypedArray = InstanceType<TypedArrayConstructor>;

/**
 * Element kinds by their wire number. The order is part of the format: append, never reorder. Uint8Array, Buffer
 * and DataView have tags of their own because they decode as views whatever their offset.
 */
export const TYPED_ARRAY_KINDS: readonly TypedArrayConstructor[] = [
  Int8Array,
  Uint8ClampedArray,
  Int16Array,
  Uint16Array,
  Int32Array,
  Uint32Array,
  Float32Array,
  Float64Array,
  BigInt64Array,
  BigUint64Array,
];

// Keyed by Symbol.toStringTag, which names the built-in kind even for a subclass and cannot be faked by an own
// `constructor` property.
const KIND_BY_NAME = new Map<string, number>(TYPED_ARRAY_KINDS.map((ctor, kind) => [ctor.name, kind]));

const typedArrayTag = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(Int8Array.prototype), Symbol.toStringTag)!
  .get as (this: unknown) => string | undefined;

/** typedArrayKind() of a Uint8Array or Buffer, which have tags of their own. */
export const UINT8_KIND = -1;
/** typedArrayKind() of a view that is no typed array: a DataView. */
export const NOT_TYPED_ARRAY = -2;
/** typedArrayKind() of a typed array this codec does not know (one added to the language later). */
export const UNKNOWN_KIND = -3;

/**
 * The wire kind of an ArrayBuffer view, or one of the negative markers above. Works on typed arrays from another
 * realm too, where instanceof would not.
 */
export function typedArrayKind(view: ArrayBufferView): number {
  const name = typedArrayTag.call(view);
  if (name === undefined) return NOT_TYPED_ARRAY;
  if (name === 'Uint8Array') return UINT8_KIND;
  return KIND_BY_NAME.get(name) ?? UNKNOWN_KIND;
}

export const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Reverses every `size`-byte group; used only on big-endian hosts. */
function swapped(bytes: Uint8Array, size: number): Uint8Array {
  const out = new Uint8Array(bytes.byteLength);
  for (let i = 0; i < bytes.byteLength; i += size) {
    for (let j = 0; j < size; j++) out[i + j] = bytes[i + size - 1 - j];
  }
  return out;
}

/** The element bytes of `view` in wire order. On a little-endian host this is a view, not a copy. */
export function wireBytes(view: TypedArray): Uint8Array {
  const bytes = new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
  return LITTLE_ENDIAN_HOST || view.BYTES_PER_ELEMENT === 1 ? bytes : swapped(bytes, view.BYTES_PER_ELEMENT);
}

/**
 * A typed array over wire bytes. A view into the message when the bytes sit at an offset the element size divides
 * (the platform refuses a misaligned view); a copy otherwise, and always on a big-endian host.
 * The caller has checked that the byte count is a multiple of the element size.
 */
export function typedArrayFromWire(kind: number, bytes: Uint8Array): TypedArray {
  const ctor = TYPED_ARRAY_KINDS[kind];
  const size = ctor.BYTES_PER_ELEMENT;
  const count = bytes.byteLength / size;
  if (size > 1 && !LITTLE_ENDIAN_HOST) bytes = swapped(bytes, size);
  // new Uint8Array(view) copies (a Buffer's own slice() would not), and the copy starts at offset 0.
  else if (bytes.byteOffset % size !== 0) bytes = new Uint8Array(bytes);
  return new ctor(bytes.buffer as ArrayBuffer, bytes.byteOffset, count);
}

/** A plain Uint8Array over the same memory: a Buffer from the read side must not come out as a Buffer. */
export function asUint8Array(bytes: Uint8Array): Uint8Array {
  return Object.getPrototypeOf(bytes) === Uint8Array.prototype
    ? bytes
    : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** A fresh ArrayBuffer holding a copy of `bytes`: an ArrayBuffer cannot be a window onto part of another. */
export function arrayBufferCopy(bytes: Uint8Array): ArrayBuffer {
  return (bytes.buffer as ArrayBuffer).slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
}
