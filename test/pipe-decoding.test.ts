import fc from 'fast-check';
import { BinaryMessagePipe, FrameDecoder } from '../src';
import { createMemoryDuplexPair } from './helpers/streams';

function frame(message: Uint8Array): Buffer {
  const out = Buffer.alloc(4 + message.length);
  out.writeUInt32BE(message.length, 0);
  out.set(message, 4);
  return out;
}

function pattern(length: number, seed: number): Buffer {
  const out = Buffer.alloc(length);
  for (let i = 0; i < length; i++) out[i] = (i * 13 + seed) & 0xff;
  return out;
}

/** Decodes `chunks` with a fresh decoder and returns copies of the frames, in order. */
function decode(chunks: Buffer[], maxMessageSize = 1 << 30): Buffer[] {
  const frames: Buffer[] = [];
  const decoder = new FrameDecoder(
    maxMessageSize,
    (f) => frames.push(Buffer.from(f)),
    (size) => {
      throw new Error(`unexpected oversize ${size}`);
    },
  );
  for (const chunk of chunks) decoder.push(chunk);
  expect(decoder.pendingBytes).toBe(0);
  return frames;
}

/** Chunks that own their memory, as separate reads from a socket would. */
function splitAt(stream: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts)].filter((c) => c > 0 && c < stream.length).sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let start = 0;
  for (const point of [...points, stream.length]) {
    chunks.push(Buffer.from(stream.subarray(start, point)));
    start = point;
  }
  return chunks;
}

// Zero-length messages next to each other, a message shorter than a header, one exactly a header long, and one
// longer, so that some cut lands inside every part of every kind of frame.
const messages = [
  pattern(0, 0),
  pattern(1, 1),
  pattern(0, 0),
  pattern(0, 0),
  pattern(3, 2),
  pattern(4, 3),
  pattern(5, 4),
  pattern(300, 5),
  pattern(0, 0),
  pattern(2, 6),
];
const stream = Buffer.concat(messages.map(frame));

describe('FrameDecoder', () => {
  it('decodes the whole sequence from one chunk', () => {
    expect(decode([stream])).toEqual(messages);
  });

  it('decodes the sequence split once at every byte offset', () => {
    for (let cut = 0; cut <= stream.length; cut++) {
      const chunks = [Buffer.from(stream.subarray(0, cut)), Buffer.from(stream.subarray(cut))];
      const frames = decode(chunks);
      if (frames.length !== messages.length || frames.some((f, i) => !f.equals(messages[i]))) {
        throw new Error(`split at ${cut} decoded ${frames.length} frames: ${frames.map((f) => f.length)}`);
      }
    }
  });

  it('decodes the sequence split twice at every pair of offsets in its first 40 bytes', () => {
    // The first 40 bytes hold nine frames, so every pair of cuts covers a header split in three pieces, a header
    // split right before a zero-length frame, and two cuts inside one frame.
    for (let first = 0; first <= 40; first++) {
      for (let second = first; second <= 40; second++) {
        const frames = decode(splitAt(stream, [first, second]));
        if (frames.length !== messages.length || frames.some((f, i) => !f.equals(messages[i]))) {
          throw new Error(`cuts at ${first} and ${second} decoded ${frames.length} frames`);
        }
      }
    }
  });

  it('decodes the sequence fed one byte at a time', () => {
    const chunks = [...stream].map((byte) => Buffer.from([byte]));
    expect(decode(chunks)).toEqual(messages);
  });

  it('decodes the sequence fed as empty chunks between bytes', () => {
    const chunks: Buffer[] = [];
    for (const byte of stream) chunks.push(Buffer.alloc(0), Buffer.from([byte]));
    expect(decode(chunks)).toEqual(messages);
  });

  it('delivers frames that arrive after one whose header came in pieces', () => {
    // Header of the 300-byte frame in two pieces, then its payload and the rest in one chunk.
    const headerStart = messages.slice(0, 7).reduce((n, m) => n + 4 + m.length, 0);
    const frames = decode(splitAt(stream, [headerStart + 1, headerStart + 3, headerStart + 4]));
    expect(frames).toEqual(messages);
  });

  it('delivers many frames from one chunk as views of that chunk, without copying', () => {
    const many = Array.from({ length: 1000 }, (_, i) => pattern(i % 17, i));
    const chunk = Buffer.concat(many.map(frame));
    const views: Uint8Array[] = [];
    const decoder = new FrameDecoder(1 << 20, (f) => views.push(f), () => {});
    decoder.push(chunk);
    expect(views.length).toBe(many.length);
    let offset = 0;
    views.forEach((view, i) => {
      offset += 4;
      expect(view.buffer).toBe(chunk.buffer);
      expect(view.byteOffset).toBe(chunk.byteOffset + offset);
      expect(Buffer.from(view)).toEqual(many[i]);
      offset += many[i].length;
    });
  });

  it('decodes any sequence of messages under any random chunking (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ minLength: 0, maxLength: 70 }), { maxLength: 25 }),
        fc.array(fc.nat(), { maxLength: 40 }),
        (payloads, rawCuts) => {
          const bytes = Buffer.concat(payloads.map((p) => frame(p)));
          const cuts = rawCuts.map((c) => (bytes.length === 0 ? 0 : c % (bytes.length + 1)));
          const frames = decode(splitAt(bytes, cuts));
          expect(frames).toEqual(payloads.map((p) => Buffer.from(p)));
        },
      ),
      { numRuns: 500 },
    );
  });

  it('assembles a 64 MiB frame from 64 KiB chunks with a single allocation for it', () => {
    const size = 64 * 1024 * 1024;
    const payload = pattern(size, 9);
    const trailing = pattern(10, 3);
    const bytes = Buffer.concat([frame(payload), frame(trailing)]);
    const chunkSize = 64 * 1024;

    const frames: Uint8Array[] = [];
    const decoder = new FrameDecoder(size, (f) => frames.push(f), () => {});
    // Big allocations while decoding show whether the frame is built in place or re-concatenated per chunk.
    const allocations: number[] = [];
    const spies = (['alloc', 'allocUnsafe', 'allocUnsafeSlow'] as const).map((name) => {
      const original = Buffer[name];
      return jest.spyOn(Buffer, name).mockImplementation(((n: number, ...rest: unknown[]) => {
        if (n >= chunkSize) allocations.push(n);
        return (original as (...args: unknown[]) => Buffer).call(Buffer, n, ...rest);
      }) as never);
    });
    const concat = jest.spyOn(Buffer, 'concat');
    try {
      for (let offset = 0; offset < bytes.length; offset += chunkSize) {
        decoder.push(bytes.subarray(offset, offset + chunkSize));
      }
    } finally {
      spies.forEach((spy) => spy.mockRestore());
      concat.mockRestore();
    }
    expect(allocations).toEqual([size]);
    expect(concat).not.toHaveBeenCalled();
    expect(frames.length).toBe(2);
    expect(frames[0].byteLength).toBe(size);
    expect(Buffer.compare(frames[0], payload)).toBe(0);
    expect(Buffer.from(frames[1])).toEqual(trailing);
    // The small frame lay whole inside the last chunk, so it is a view of it.
    expect(frames[1].buffer).toBe(bytes.buffer);
  });

  it('reports an oversize header without allocating for it, and stops', () => {
    const onFrame = jest.fn();
    const onOversize = jest.fn();
    const decoder = new FrameDecoder(100, onFrame, onOversize);
    const header = Buffer.alloc(4);
    header.writeUInt32BE(0xfffffff0, 0);
    const alloc = jest.spyOn(Buffer, 'allocUnsafe');
    const allocSlow = jest.spyOn(Buffer, 'alloc');
    try {
      // A good frame, then the oversize header in pieces, then a frame that must not be delivered.
      decoder.push(Buffer.concat([frame(pattern(100, 1)), header.subarray(0, 2)]));
      decoder.push(Buffer.concat([header.subarray(2), frame(pattern(3, 1))]));
      decoder.push(frame(pattern(3, 1)));
    } finally {
      alloc.mockRestore();
      allocSlow.mockRestore();
    }
    expect(alloc.mock.calls.filter(([n]) => n > 100)).toEqual([]);
    expect(allocSlow.mock.calls.filter(([n]) => n > 100)).toEqual([]);
    expect(onOversize).toHaveBeenCalledTimes(1);
    expect(onOversize).toHaveBeenCalledWith(0xfffffff0);
    expect(onFrame).toHaveBeenCalledTimes(1);
    expect(onFrame.mock.calls[0][0].length).toBe(100);
  });

  it("allocates a large frame's buffer only once half of it has come, so memory follows the bytes received", () => {
    const size = 8 * 1024 * 1024;
    const payload = pattern(size, 5);
    const bytes = frame(payload);
    const chunkSize = 64 * 1024;
    const frames: Uint8Array[] = [];
    const decoder = new FrameDecoder(1024 * 1024 * 1024, (f) => frames.push(f), () => {});
    const allocations: Array<{ size: number; receivedBefore: number }> = [];
    let received = 0;
    const spies = (['alloc', 'allocUnsafe', 'allocUnsafeSlow'] as const).map((name) => {
      const original = Buffer[name];
      return jest.spyOn(Buffer, name).mockImplementation(((n: number, ...rest: unknown[]) => {
        if (n >= chunkSize) allocations.push({ size: n, receivedBefore: received });
        return (original as (...args: unknown[]) => Buffer).call(Buffer, n, ...rest);
      }) as never);
    });
    try {
      // The header and a little of the body, then nothing for a while: no buffer of the announced size yet.
      decoder.push(bytes.subarray(0, 4 + 100));
      received = 100;
      expect(allocations).toEqual([]);
      for (let offset = 4 + 100; offset < bytes.length; offset += chunkSize) {
        const piece = bytes.subarray(offset, Math.min(offset + chunkSize, bytes.length));
        decoder.push(piece);
        received += piece.length;
      }
    } finally {
      spies.forEach((spy) => spy.mockRestore());
    }
    expect(allocations).toHaveLength(1);
    expect(allocations[0].size).toBe(size);
    expect(allocations[0].receivedBefore).toBeGreaterThanOrEqual(size / 2 - chunkSize);
    expect(frames).toHaveLength(1);
    expect(Buffer.compare(frames[0], payload)).toBe(0);
  });

  it('frames around the size where the buffer is allocated late come out whole, however they are cut', () => {
    const mib = 1024 * 1024;
    const large = [pattern(4 * mib - 1, 1), pattern(4 * mib, 2), pattern(4 * mib + 1, 3), pattern(9 * mib + 5, 4)];
    const bytes = Buffer.concat([frame(pattern(7, 9)), ...large.map(frame), frame(pattern(3, 8))]);
    for (const step of [65536, 7777, mib + 3]) {
      const cuts: number[] = [];
      for (let at = step; at < bytes.length; at += step) cuts.push(at);
      const frames = decode(splitAt(bytes, cuts));
      expect(frames.map((f) => f.length)).toEqual([7, ...large.map((m) => m.length), 3]);
      large.forEach((message, i) => expect(Buffer.compare(frames[i + 1], message)).toBe(0));
    }
  });

  it('holds nothing after stop(), and says so', () => {
    const decoder = new FrameDecoder(1 << 30, () => {}, () => {});
    const header = Buffer.alloc(4);
    header.writeUInt32BE(100, 0);
    decoder.push(Buffer.concat([header, Buffer.alloc(10, 7)]));
    expect(decoder.partialFrame).toEqual({ inHeader: false, expected: 104, received: 14 });
    decoder.stop();
    expect(decoder.partialFrame).toBeUndefined();
    expect(decoder.pendingBytes).toBe(0);
  });

  it('accepts a frame of exactly maxMessageSize', () => {
    expect(decode([frame(pattern(64, 1))], 64)).toEqual([pattern(64, 1)]);
  });
});

describe('BinaryMessagePipe decoding over a stream', () => {
  it('receives the frame sequence split at every offset into separate stream chunks', async () => {
    // The same cuts as above, but through the pipe's own stream handling (data events) on a duplex pair.
    for (let cut = 0; cut <= stream.length; cut += 1) {
      const [a, b] = createMemoryDuplexPair();
      const pipe = new BinaryMessagePipe(a);
      const received: Buffer[] = [];
      pipe.onMessage((m) => received.push(Buffer.from(m)));
      let chunks = 0;
      a.on('data', () => chunks++);
      const closed = new Promise((resolve) => pipe.onClose(resolve));
      b.write(stream.subarray(0, cut));
      b.write(stream.subarray(cut));
      b.end();
      await closed;
      // Otherwise the stream merged the pieces and the cut was never seen by the pipe.
      expect(chunks).toBe(cut === 0 || cut === stream.length ? 1 : 2);
      if (received.length !== messages.length || received.some((m, i) => !m.equals(messages[i]))) {
        throw new Error(`split at ${cut}: received ${received.length} messages`);
      }
    }
  });
});
