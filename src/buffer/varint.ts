/** The longest varint a reader accepts: 8 bytes hold 56 bits, enough for Number.MAX_SAFE_INTEGER. */
export const MAX_VARINT_BYTES = 8;

/**
 * Writes `value` (a whole number from 0 to 2^53-1, checked by the caller) as an unsigned LEB128 varint at `offset`
 * and returns where it ends. Division rather than shifts: shifts would cut the value to 32 bits.
 */
export function encodeVarint(target: Uint8Array, offset: number, value: number): number {
  let pos = offset;
  while (value >= 0x80) {
    target[pos++] = (value % 0x80) | 0x80;
    value = Math.floor(value / 0x80);
  }
  target[pos++] = value;
  return pos;
}
