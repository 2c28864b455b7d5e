/**
 * The bytes to hand to Electron. Electron structured-clones what it sends, and cloning a view clones all of the
 * memory under it: a small message written into Node's shared 8 KiB pool would carry the pool along. A view that
 * is all of its memory goes as it is.
 */
export function exactBytes(bytes: Uint8Array): Uint8Array {
  if (bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength) return bytes;
  return Uint8Array.prototype.slice.call(bytes);
}

/** What cloning left of a Uint8Array (a Buffer arrives as a plain Uint8Array), or undefined for anything else. */
export function receivedBytes(value: unknown): Uint8Array | undefined {
  return value instanceof Uint8Array ? value : undefined;
}

/** A value's kind for an error message, without its contents. */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value !== 'object') return typeof value;
  return Object.prototype.toString.call(value).slice(8, -1);
}
