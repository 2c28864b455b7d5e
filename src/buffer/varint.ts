/** How many bytes the unsigned varint encoding of `value` takes. */
export function varintSize(value: number): number {
  let size = 1;
  while (value >= 0x80) {
    value = Math.floor(value / 0x80);
    size++;
  }
  return size;
}

/** The longest varint a reader accepts: 8 bytes hold 56 bits, enough for Number.MAX_SAFE_INTEGER. */
export const MAX_VARINT_BYTES = 8;
