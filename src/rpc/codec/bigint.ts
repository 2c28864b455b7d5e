// A bigint travels as sign (in the tag) plus magnitude bytes, big-endian, so its size on the wire follows its size
// in memory whatever the value. Hex is the conversion: both directions are linear for a power-of-two radix, unlike
// decimal.

/** The magnitude of `value` as big-endian bytes; zero has none. */
export function bigintMagnitude(value: bigint): Uint8Array {
  if (value === 0n) return EMPTY;
  let hex = (value < 0n ? -value : value).toString(16);
  if (hex.length & 1) hex = '0' + hex;
  return Buffer.from(hex, 'hex');
}

/** The inverse of bigintMagnitude; leading zero bytes are tolerated. */
export function bigintFromMagnitude(bytes: Uint8Array, negative: boolean): bigint {
  if (bytes.byteLength === 0) return 0n;
  const hex = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
  const magnitude = BigInt('0x' + hex);
  return negative ? -magnitude : magnitude;
}

const EMPTY = new Uint8Array(0);
