/** Deterministic, position-dependent bytes: a shifted or reordered run does not compare equal. */
export function pattern(length: number, seed: number): Buffer {
  const out = Buffer.allocUnsafe(length);
  for (let i = 0; i < length; i++) out[i] = (i * 29 + seed + (i >>> 8)) & 0xff;
  return out;
}

/**
 * Byte-exact comparison of two lists of messages. Jest's toEqual walks a Buffer element by element, which takes
 * seconds per MiB; this compares natively and says where the first difference is.
 */
export function expectSameMessages(actual: Uint8Array[], expected: Uint8Array[]): void {
  const problems: string[] = [];
  if (actual.length !== expected.length) problems.push(`got ${actual.length} messages, expected ${expected.length}`);
  const count = Math.min(actual.length, expected.length);
  for (let i = 0; i < count && problems.length < 5; i++) {
    const a = Buffer.from(actual[i].buffer, actual[i].byteOffset, actual[i].byteLength);
    const e = Buffer.from(expected[i].buffer, expected[i].byteOffset, expected[i].byteLength);
    if (a.equals(e)) continue;
    let at = 0;
    while (at < a.length && at < e.length && a[at] === e[at]) at++;
    problems.push(`message ${i}: ${a.length} bytes, expected ${e.length}; first difference at byte ${at}`);
  }
  expect(problems).toEqual([]);
}
