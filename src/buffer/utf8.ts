// Short strings are the common case in RPC (method names, keys); a plain loop beats a call into the native
// encoder for them. Longer ones go to Buffer, whose encoder is faster there. Both replace a lone surrogate with
// U+FFFD (EF BF BD), so the two paths write identical bytes.

/** Strings up to this many UTF-16 units take the JS path; 3 bytes a unit at most keeps the length below 128. */
export const SHORT_STRING_UNITS = 42;

/** Writes `value` as UTF-8 at `offset`; the caller guarantees 3 bytes per UTF-16 unit of room. Returns the end. */
export function encodeShortUtf8(target: Uint8Array, offset: number, value: string): number {
  let pos = offset;
  const length = value.length;
  for (let i = 0; i < length; i++) {
    let code = value.charCodeAt(i);
    if (code < 0x80) {
      target[pos++] = code;
    } else if (code < 0x800) {
      target[pos++] = 0xc0 | (code >> 6);
      target[pos++] = 0x80 | (code & 0x3f);
    } else {
      if (code >= 0xd800 && code <= 0xdfff) {
        const next = i + 1 < length ? value.charCodeAt(i + 1) : 0;
        if (code <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
          code = 0x10000 + ((code - 0xd800) << 10) + (next - 0xdc00);
          i++;
          target[pos++] = 0xf0 | (code >> 18);
          target[pos++] = 0x80 | ((code >> 12) & 0x3f);
          target[pos++] = 0x80 | ((code >> 6) & 0x3f);
          target[pos++] = 0x80 | (code & 0x3f);
          continue;
        }
        code = 0xfffd;
      }
      target[pos++] = 0xe0 | (code >> 12);
      target[pos++] = 0x80 | ((code >> 6) & 0x3f);
      target[pos++] = 0x80 | (code & 0x3f);
    }
  }
  return pos;
}

/**
 * Decodes up to 8 ASCII bytes with one String.fromCharCode call; returns undefined for a longer run or a non-ASCII
 * byte. Past 8 bytes Node's native decoder is faster than any loop here.
 */
export const SHORT_DECODE_BYTES = 8;

export function decodeShortAscii(s: Uint8Array, start: number, end: number): string | undefined {
  for (let i = start; i < end; i++) if (s[i] >= 0x80) return undefined;
  const c = String.fromCharCode;
  const p = start;
  switch (end - start) {
    case 0: return '';
    case 1: return c(s[p]);
    case 2: return c(s[p], s[p + 1]);
    case 3: return c(s[p], s[p + 1], s[p + 2]);
    case 4: return c(s[p], s[p + 1], s[p + 2], s[p + 3]);
    case 5: return c(s[p], s[p + 1], s[p + 2], s[p + 3], s[p + 4]);
    case 6: return c(s[p], s[p + 1], s[p + 2], s[p + 3], s[p + 4], s[p + 5]);
    case 7: return c(s[p], s[p + 1], s[p + 2], s[p + 3], s[p + 4], s[p + 5], s[p + 6]);
    case 8: return c(s[p], s[p + 1], s[p + 2], s[p + 3], s[p + 4], s[p + 5], s[p + 6], s[p + 7]);
    default: return undefined;
  }
}
