import {
  BufferCommittedError,
  BufferReadError,
  BufferWriteError,
  Uint8ArrayReadBuffer,
  Uint8ArrayWriteBuffer,
  type ReadBuffer,
  type Uint8ArrayWriteBufferOptions,
} from '../src';

/** Commits a fresh buffer filled by `write` and returns the committed bytes (a copy, safe to keep). */
function encode(write: (b: Uint8ArrayWriteBuffer) => void, options?: Uint8ArrayWriteBufferOptions): Buffer {
  let out: Buffer | undefined;
  const buffer = new Uint8ArrayWriteBuffer((bytes) => (out = Buffer.from(bytes)), options);
  write(buffer);
  buffer.commit();
  return out!;
}

/** Unsigned LEB128, written independently of the implementation so the wire format itself is checked. */
function referenceVarint(value: number): number[] {
  const out: number[] = [];
  while (value >= 0x80) {
    out.push((value % 0x80) | 0x80);
    value = Math.floor(value / 0x80);
  }
  out.push(value);
  return out;
}

function bytesOf(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = (i * 31 + seed * 7 + 1) & 0xff;
  return out;
}

interface WriteKind<T> {
  name: string;
  values: T[];
  write(b: Uint8ArrayWriteBuffer, v: T): void;
  read(r: ReadBuffer, v: T): unknown;
  /** What a reader gets back; differs from the input only for strings with lone surrogates. */
  expected(v: T): unknown;
  /** The exact bytes the wire format prescribes. */
  wire(v: T): Buffer;
}

const varintValues = [0, 1, 127, 128, 255, 16383, 16384, 2 ** 21 - 1, 2 ** 21, 2 ** 32 - 1, 2 ** 32, 2 ** 53 - 1];

const stringValues = [
  '',
  'a',
  'é', // 2-byte UTF-8
  '€', // 3-byte UTF-8
  '😀', // 4-byte UTF-8, a surrogate pair in UTF-16
  '\ud800', // lone high surrogate
  '\udc00', // lone low surrogate
  'a\ud800b',
  '\udc00\ud800', // a low before a high is two lone surrogates, not a pair
  '\ud800\ud800\udc00', // a lone high followed by a real pair
  'x😀',
  'hello, world',
  'a'.repeat(41) + '😀', // the pair straddles the last short-path unit
  'a'.repeat(42), // the longest string the short path takes
  'a'.repeat(43), // the shortest one the long path takes
  '€'.repeat(42), // 126 bytes: a one-byte prefix at the short path's worst case
  '€'.repeat(43), // 129 bytes: two-byte prefix
  '😀'.repeat(21),
  '😀'.repeat(22),
  'é'.repeat(64), // exactly 128 bytes
  'x'.repeat(127),
  'x'.repeat(128),
  'mixed é € 😀 \ud800 end'.repeat(12) + '\udbff',
];

const byteValues = [0, 1, 2, 3, 4, 5, 8, 127, 128, 300].map((n) => bytesOf(n, n));

const kinds: WriteKind<any>[] = [
  {
    name: 'writeUint8',
    values: [0, 1, 0x7f, 0x80, 0xff],
    write: (b, v) => b.writeUint8(v),
    read: (r) => r.readUint8(),
    expected: (v) => v,
    wire: (v) => Buffer.from([v]),
  },
  {
    name: 'writeUint16',
    values: [0, 1, 0x1234, 0xff00, 0xffff],
    write: (b, v) => b.writeUint16(v),
    read: (r) => r.readUint16(),
    expected: (v) => v,
    wire: (v) => Buffer.from([v >> 8, v & 0xff]), // big-endian
  },
  {
    name: 'writeUint32',
    values: [0, 1, 0x12345678, 0x80000000, 0xffffffff],
    write: (b, v) => b.writeUint32(v),
    read: (r) => r.readUint32(),
    expected: (v) => v,
    wire: (v) => Buffer.from([v >>> 24, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff]),
  },
  {
    name: 'writeNumber',
    values: [0, -0, 1.5, -Math.PI, 2 ** 53 + 2, Number.MIN_VALUE, Number.MAX_VALUE, Infinity, -Infinity, NaN],
    write: (b, v) => b.writeNumber(v),
    read: (r) => r.readNumber(),
    expected: (v) => v,
    wire: (v) => {
      const out = Buffer.alloc(8);
      new DataView(out.buffer, out.byteOffset, 8).setFloat64(0, v, false);
      return out;
    },
  },
  {
    name: 'writeLength',
    values: varintValues,
    write: (b, v) => b.writeLength(v),
    read: (r) => r.readLength(),
    expected: (v) => v,
    wire: (v) => Buffer.from(referenceVarint(v)),
  },
  {
    name: 'writeString',
    values: stringValues,
    write: (b, v) => b.writeString(v),
    read: (r) => r.readString(),
    // Documented: a lone surrogate becomes U+FFFD, exactly as Node's own encoder does it.
    expected: (v) => Buffer.from(v, 'utf8').toString('utf8'),
    wire: (v) => {
      const utf8 = Buffer.from(v, 'utf8');
      return Buffer.concat([Buffer.from(referenceVarint(utf8.length)), utf8]);
    },
  },
  {
    name: 'writeBytes',
    values: byteValues,
    write: (b, v) => b.writeBytes(v),
    read: (r) => Buffer.from(r.readBytes()),
    expected: (v) => Buffer.from(v),
    wire: (v) => Buffer.concat([Buffer.from(referenceVarint(v.length)), v]),
  },
  {
    name: 'writeRaw',
    values: byteValues,
    write: (b, v) => b.writeRaw(v),
    read: (r, v) => Buffer.from(r.readRaw(v.length)),
    expected: (v) => Buffer.from(v),
    wire: (v) => Buffer.from(v),
  },
];

function sameValue(a: unknown, b: unknown): boolean {
  if (Buffer.isBuffer(a) && Buffer.isBuffer(b)) return a.equals(b);
  return Object.is(a, b);
}

function describeValue(v: unknown): string {
  if (v instanceof Uint8Array) return `<${v.length} bytes>`;
  if (typeof v === 'string') return JSON.stringify(v.length > 20 ? `${v.slice(0, 20)}…(${v.length})` : v);
  return Object.is(v, -0) ? '-0' : String(v);
}

describe('Uint8ArrayWriteBuffer growth around the capacity boundary', () => {
  // The known bug this guards against reserved room by a guess (4 bytes a character) and lost or refused a value
  // written just before the end; so every write kind is tried at every fill level from well before the initial
  // capacity to just past it, with and without header room, and the whole message is checked byte for byte.
  const layouts: Array<{ initialCapacity: number; headerRoom: number; fills: number[] }> = [
    { initialCapacity: 1, headerRoom: 0, fills: range(0, 3) },
    { initialCapacity: 16, headerRoom: 0, fills: range(0, 17) },
    { initialCapacity: 16, headerRoom: 4, fills: range(0, 17) },
    { initialCapacity: 64, headerRoom: 0, fills: range(64 - 8, 65) },
    { initialCapacity: 200, headerRoom: 4, fills: range(200 - 140, 201) },
  ];

  it.each(kinds.map((k) => [k.name, k] as const))('%s at every offset', (_name, kind) => {
    const failures: string[] = [];
    for (const { initialCapacity, headerRoom, fills } of layouts) {
      for (const fill of fills) {
        for (const value of kind.values) {
          const prefix = bytesOf(fill, fill);
          const wire = kind.wire(value);
          const label = `capacity ${initialCapacity}+${headerRoom}, fill ${fill}, ${describeValue(value)}`;
          let bytes: Buffer;
          try {
            bytes = encode(
              (b) => {
                b.writeRaw(prefix);
                kind.write(b, value);
                // A write after the one under test shows the position was advanced by exactly the right amount.
                b.writeUint8(0xa5);
              },
              { initialCapacity, headerRoom },
            );
          } catch (error) {
            failures.push(`${label}: threw ${(error as Error).message}`);
            continue;
          }
          const expectedBytes = Buffer.concat([prefix, wire, Buffer.from([0xa5])]);
          if (!bytes.equals(expectedBytes)) {
            failures.push(`${label}: wrote ${bytes.toString('hex')}, expected ${expectedBytes.toString('hex')}`);
            continue;
          }
          const reader = new Uint8ArrayReadBuffer(bytes);
          const readPrefix = Buffer.from(reader.readRaw(fill));
          const got = kind.read(reader, value);
          const trailer = reader.readUint8();
          if (!readPrefix.equals(prefix) || !sameValue(got, kind.expected(value)) || trailer !== 0xa5) {
            failures.push(`${label}: read back ${describeValue(got)}`);
          }
          if (reader.remaining !== 0) failures.push(`${label}: ${reader.remaining} bytes left over`);
        }
      }
    }
    expect(failures).toEqual([]);
  });

  it('grows correctly when filled one byte at a time, with every kind interleaved', () => {
    const buffer = new Uint8ArrayWriteBuffer(undefined, { initialCapacity: 1 });
    const expected: Array<[WriteKind<any>, unknown]> = [];
    for (let round = 0; round < 5; round++) {
      for (const kind of kinds) {
        for (const value of kind.values) {
          kind.write(buffer, value);
          expected.push([kind, value]);
        }
      }
    }
    let committed: Uint8Array | undefined;
    buffer.onCommit((bytes) => (committed = bytes));
    buffer.commit();
    const reader = new Uint8ArrayReadBuffer(committed!);
    for (const [kind, value] of expected) {
      const got = kind.read(reader, value);
      if (!sameValue(got, kind.expected(value))) {
        throw new Error(`${kind.name}(${describeValue(value)}) read back as ${describeValue(got)}`);
      }
    }
    expect(reader.remaining).toBe(0);
    expect(buffer.length).toBe(committed!.length);
  });

  it('writes lone surrogates as U+FFFD (EF BF BD) on both the short and the long path', () => {
    for (const value of ['\ud800', '\udfff', 'a'.repeat(50) + '\ud800']) {
      const bytes = encode((b) => b.writeString(value));
      const reader = new Uint8ArrayReadBuffer(bytes);
      const decoded = reader.readString();
      expect(decoded.endsWith('\ufffd')).toBe(true);
      expect(bytes.subarray(bytes.length - 3)).toEqual(Buffer.from([0xef, 0xbf, 0xbd]));
    }
  });

  it('keeps chained writes on the same buffer', () => {
    const buffer = new Uint8ArrayWriteBuffer();
    expect(buffer.writeUint8(1).writeUint16(2).writeUint32(3).writeNumber(4).writeLength(5)).toBe(buffer);
    expect(buffer.writeString('6').writeBytes(new Uint8Array(1)).writeRaw(new Uint8Array(1))).toBe(buffer);
  });
});

describe('writeLength', () => {
  it.each([
    [0, [0x00]],
    [127, [0x7f]],
    [128, [0x80, 0x01]],
    [300, [0xac, 0x02]],
    [2 ** 32, [0x80, 0x80, 0x80, 0x80, 0x10]],
    [2 ** 53 - 1, [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0f]],
  ])('encodes %d as the documented LEB128 bytes and reads it back', (value, wire) => {
    const bytes = encode((b) => b.writeLength(value));
    expect([...bytes]).toEqual(wire);
    expect(new Uint8ArrayReadBuffer(bytes).readLength()).toBe(value);
  });

  it.each([-1, -0.5, 1.5, NaN, Infinity, -Infinity, 2 ** 53])('rejects %d and leaves the buffer usable', (value) => {
    const buffer = new Uint8ArrayWriteBuffer();
    buffer.writeUint8(9);
    expect(() => buffer.writeLength(value)).toThrow(BufferWriteError);
    expect(() => buffer.writeLength(value)).toThrow(RangeError);
    expect(buffer.length).toBe(1);
    buffer.writeLength(3);
    let bytes: Uint8Array | undefined;
    buffer.onCommit((b) => (bytes = b));
    buffer.commit();
    expect([...bytes!]).toEqual([9, 3]);
  });
});

describe('Uint8ArrayReadBuffer', () => {
  it('reports remaining and position as it reads', () => {
    const bytes = encode((b) => b.writeUint8(1).writeUint32(2).writeString('abc').writeRaw(new Uint8Array(3)));
    const reader = new Uint8ArrayReadBuffer(bytes);
    expect([reader.position, reader.remaining]).toEqual([0, 12]);
    reader.readUint8();
    expect([reader.position, reader.remaining]).toEqual([1, 11]);
    reader.readUint32();
    expect([reader.position, reader.remaining]).toEqual([5, 7]);
    expect(reader.readString()).toBe('abc');
    expect([reader.position, reader.remaining]).toEqual([9, 3]);
    const rest = reader.sliceAtReadPosition();
    expect(rest.length).toBe(3);
    expect([reader.position, reader.remaining]).toEqual([12, 0]);
    expect(reader.sliceAtReadPosition().length).toBe(0);
  });

  it('returns byte runs as views of the message, not copies', () => {
    const bytes = encode((b) => b.writeBytes(bytesOf(10, 1)).writeRaw(bytesOf(4, 2)).writeUint8(7));
    const reader = new Uint8ArrayReadBuffer(bytes);
    const run = reader.readBytes();
    const raw = reader.readRaw(4);
    const rest = reader.sliceAtReadPosition();
    for (const view of [run, raw, rest]) expect(view.buffer).toBe(bytes.buffer);
    expect(run.byteOffset).toBe(bytes.byteOffset + 1);
    expect(Buffer.from(run)).toEqual(Buffer.from(bytesOf(10, 1)));
    expect(Buffer.from(raw)).toEqual(Buffer.from(bytesOf(4, 2)));
    expect([...rest]).toEqual([7]);
  });

  it('reads a plain Uint8Array that is a view into a larger buffer', () => {
    const backing = new Uint8Array(20).fill(0xee);
    backing.set([0x00, 0x2a, 0x01, 0x41], 5);
    const reader = new Uint8ArrayReadBuffer(backing.subarray(5, 9));
    expect(reader.readUint16()).toBe(42);
    expect(reader.readString()).toBe('A');
    expect(reader.remaining).toBe(0);
    expect(() => reader.readUint8()).toThrow(BufferReadError);
  });

  // Each read on a message that is one byte too short (or malformed): it must throw an error that names the read.
  const pastTheEnd: Array<[string, number[], (r: ReadBuffer) => unknown]> = [
    ['readUint8', [], (r) => r.readUint8()],
    ['readUint16', [1], (r) => r.readUint16()],
    ['readUint32', [1, 2, 3], (r) => r.readUint32()],
    ['readNumber', [1, 2, 3, 4, 5, 6, 7], (r) => r.readNumber()],
    ['readLength', [], (r) => r.readLength()],
    ['readLength', [0x80, 0x80], (r) => r.readLength()],
    ['readString', [], (r) => r.readString()],
    ['readString', [5, 0x61, 0x62], (r) => r.readString()],
    ['readBytes', [], (r) => r.readBytes()],
    ['readBytes', [0x81, 0x01, 0, 0], (r) => r.readBytes()],
    ['readRaw', [1, 2], (r) => r.readRaw(3)],
  ];
  it.each(pastTheEnd)('%s past the end of %j throws a BufferReadError naming it', (what, bytes, read) => {
    const reader = new Uint8ArrayReadBuffer(Uint8Array.from(bytes));
    let caught: unknown;
    try {
      read(reader);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(BufferReadError);
    expect((caught as Error).message).toContain(what);
  });

  it('throws instead of returning garbage when a read follows the last value', () => {
    const reader = new Uint8ArrayReadBuffer(encode((b) => b.writeUint32(7)));
    expect(reader.readUint32()).toBe(7);
    for (const read of [
      () => reader.readUint8(),
      () => reader.readUint16(),
      () => reader.readUint32(),
      () => reader.readNumber(),
      () => reader.readLength(),
      () => reader.readString(),
      () => reader.readBytes(),
      () => reader.readRaw(1),
    ]) {
      expect(read).toThrow(BufferReadError);
    }
    // Zero bytes at the end are not past it.
    expect(reader.readRaw(0).length).toBe(0);
  });

  it('rejects a varint that is too long or above 2^53-1', () => {
    expect(() => new Uint8ArrayReadBuffer(Uint8Array.from(new Array(9).fill(0x80).concat([0]))).readLength()).toThrow(
      /readLength/,
    );
    const tooBig = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f];
    expect(() => new Uint8ArrayReadBuffer(Uint8Array.from(tooBig)).readLength()).toThrow(BufferReadError);
  });

  it.each([-1, 1.5, NaN])('readRaw(%d) throws a BufferReadError', (length) => {
    expect(() => new Uint8ArrayReadBuffer(new Uint8Array(4)).readRaw(length)).toThrow(BufferReadError);
  });
});

describe('commit', () => {
  const writes: Array<[string, (b: Uint8ArrayWriteBuffer) => unknown]> = [
    ['writeUint8', (b) => b.writeUint8(1)],
    ['writeUint16', (b) => b.writeUint16(1)],
    ['writeUint32', (b) => b.writeUint32(1)],
    ['writeNumber', (b) => b.writeNumber(1)],
    ['writeLength', (b) => b.writeLength(1)],
    ['writeLength (multi-byte)', (b) => b.writeLength(1000)],
    ['writeString', (b) => b.writeString('x')],
    ['writeString (long)', (b) => b.writeString('x'.repeat(100))],
    ['writeString (empty)', (b) => b.writeString('')],
    ['writeBytes', (b) => b.writeBytes(new Uint8Array(2))],
    ['writeRaw', (b) => b.writeRaw(new Uint8Array(2))],
    ['writeRaw (empty)', (b) => b.writeRaw(new Uint8Array(0))],
    ['commit', (b) => b.commit()],
  ];
  it.each(writes)('%s after commit throws BufferCommittedError and does not re-send', (_name, write) => {
    const received: Uint8Array[] = [];
    const buffer = new Uint8ArrayWriteBuffer((bytes) => received.push(Buffer.from(bytes)));
    buffer.writeUint8(42).commit();
    expect(buffer.isCommitted).toBe(true);
    expect(() => write(buffer)).toThrow(BufferCommittedError);
    expect(received).toEqual([Buffer.from([42])]);
  });

  it('hands the bytes to every onCommit listener exactly once', () => {
    const buffer = new Uint8ArrayWriteBuffer();
    const first = jest.fn();
    const second = jest.fn();
    const removed = jest.fn();
    buffer.onCommit(first);
    buffer.onCommit(second);
    buffer.onCommit(removed).dispose();
    buffer.writeString('hi').writeUint16(0x0102);
    buffer.commit();
    expect(() => buffer.commit()).toThrow(BufferCommittedError);
    expect(first).toHaveBeenCalledTimes(1);
    expect(second).toHaveBeenCalledTimes(1);
    expect(removed).not.toHaveBeenCalled();
    expect(Buffer.from(first.mock.calls[0][0])).toEqual(Buffer.from([2, 0x68, 0x69, 1, 2]));
    expect(second.mock.calls[0][0]).toBe(first.mock.calls[0][0]);
  });

  it('calls the constructor callback once and excludes the header room from the bytes', () => {
    const callback = jest.fn();
    const buffer = new Uint8ArrayWriteBuffer(callback, { headerRoom: 4, initialCapacity: 2 });
    buffer.writeUint32(0xa1b2c3d4).writeUint8(5);
    expect(buffer.length).toBe(5);
    buffer.commit();
    expect(callback).toHaveBeenCalledTimes(1);
    const bytes: Uint8Array = callback.mock.calls[0][0];
    expect([...bytes]).toEqual([0xa1, 0xb2, 0xc3, 0xd4, 5]);
    // The room lies right before the message in the same memory, which is what lets a pipe frame it in place.
    expect(bytes.byteOffset).toBeGreaterThanOrEqual(4);
  });

  it('commits an empty message', () => {
    const callback = jest.fn();
    new Uint8ArrayWriteBuffer(callback).commit();
    expect(callback).toHaveBeenCalledTimes(1);
    expect(callback.mock.calls[0][0].length).toBe(0);
  });
});

function range(from: number, to: number): number[] {
  const out: number[] = [];
  for (let i = Math.max(0, from); i <= to; i++) out.push(i);
  return out;
}

describe('integer writes out of range', () => {
  test.each([
    ['writeUint8', 256],
    ['writeUint8', -1],
    ['writeUint8', 1.5],
    ['writeUint16', 0x10000],
    ['writeUint32', 2 ** 32],
    ['writeUint32', NaN],
  ] as const)('%s(%p) throws BufferWriteError and writes nothing', (method, value) => {
    const buffer = new Uint8ArrayWriteBuffer();
    buffer.writeUint8(7);
    expect(() => buffer[method](value)).toThrow(BufferWriteError);
    expect(() => buffer[method](value)).toThrow(`${method} takes a whole number`);
    expect(buffer.length).toBe(1);
  });
});

describe('runs: bytes kept by reference, borrowed memory', () => {
  test('writeRaw at or above referenceFrom cuts the message into runs around the caller bytes', () => {
    let committed: { runs: Uint8Array[]; size: number } | undefined;
    const buffer = new Uint8ArrayWriteBuffer(undefined, {
      headerRoom: 4,
      referenceFrom: 8,
      onCommitRuns: (runs, size) => (committed = { runs: runs!, size }),
    });
    const big = new Uint8Array(10).fill(7);
    buffer.writeUint8(1).writeRaw(big).writeRaw(new Uint8Array([2, 3])).writeBytes(big).writeUint8(4);
    expect(buffer.length).toBe(1 + 10 + 2 + 1 + 10 + 1);
    buffer.commit();
    const { runs, size } = committed!;
    expect(size).toBe(25);
    // Header room and the first byte; the caller's bytes themselves; 2, 3 and the length prefix; the bytes; 4.
    expect(runs.map((r) => r.length)).toEqual([5, 10, 3, 10, 1]);
    expect(runs[1]).toBe(big);
    expect(runs[3]).toBe(big);
    expect([...runs[2]]).toEqual([2, 3, 10]);
    expect([...runs[4]]).toEqual([4]);
  });

  test('moveOut copies every run still in borrowed memory, so the lender can reuse it', () => {
    const lent = Buffer.alloc(64);
    let runs: Uint8Array[] = [];
    const buffer = new Uint8ArrayWriteBuffer(undefined, {
      headerRoom: 4,
      borrowed: { memory: lent, offset: 8 },
      referenceFrom: 16,
      onCommitRuns: (r) => (runs = r!),
    });
    const big = new Uint8Array(16).fill(9);
    buffer.writeUint8(1).writeRaw(big).writeUint8(2);
    buffer.moveOut();
    lent.fill(0xee);
    buffer.writeUint8(3).commit();
    expect(runs.every((run) => run === big || run.buffer !== lent.buffer)).toBe(true);
    expect([...runs[0].subarray(4)]).toEqual([1]);
    expect([...runs[2]]).toEqual([2, 3]);
  });

  test('without onCommitRuns, referenceFrom is ignored and bytes are copied', () => {
    let bytes: Uint8Array | undefined;
    const buffer = new Uint8ArrayWriteBuffer((b) => (bytes = b), { referenceFrom: 1 });
    const source = new Uint8Array([5, 6]);
    buffer.writeRaw(source).commit();
    source[0] = 0;
    expect([...bytes!]).toEqual([5, 6]);
  });
});
