import { Socket } from 'net';
import type { Duplex } from 'stream';
import {
  BinaryMessagePipe,
  ListenerError,
  type BinaryMessagePipeOptions,
  MessageTooLargeError,
  PipeClosedError,
  type PipeCloseEvent,
  TruncatedFrameError,
} from '../src';
import { expectSameMessages, pattern } from './helpers/bytes';
import { createMemoryDuplexPair, createTcpSocketPair, createUnixSocketPair } from './helpers/streams';
import { next, settle, until } from './helpers/wait';


interface Transport {
  a: Duplex;
  b: Duplex;
  dispose(): Promise<void>;
}

const transports: Array<[string, () => Promise<Transport>]> = [
  [
    'an in-memory duplex pair',
    async () => {
      const [a, b] = createMemoryDuplexPair();
      return {
        a,
        b,
        async dispose() {
          a.destroy();
          b.destroy();
        },
      };
    },
  ],
  ['a Unix socket pair', createUnixSocketPair],
];

/** Collects everything a pipe reports, so a test can assert on counts after the fact. */
function watch(pipe: BinaryMessagePipe) {
  const log = {
    messages: [] as Buffer[],
    closes: [] as PipeCloseEvent[],
    errors: [] as Error[],
  };
  pipe.onMessage((m) => log.messages.push(Buffer.from(m)));
  pipe.onClose((e) => log.closes.push(e));
  pipe.onError((e) => log.errors.push(e));
  return log;
}

describe.each(transports)('BinaryMessagePipe over %s', (_name, connect) => {
  let transport: Transport;
  let a: BinaryMessagePipe;
  let b: BinaryMessagePipe;
  const opened: BinaryMessagePipe[] = [];

  /** A pipe that afterEach closes, whatever the test did with it. */
  function open(stream: Duplex, options?: BinaryMessagePipeOptions): BinaryMessagePipe {
    const pipe = new BinaryMessagePipe(stream, options);
    opened.push(pipe);
    return pipe;
  }

  beforeEach(async () => {
    transport = await connect();
  });
  afterEach(async () => {
    for (const pipe of opened.splice(0)) pipe.close();
    await transport.dispose();
  });

  const sizes = [0, 1, 3, 4, 5, 1000, 16 * 1024 - 1, 16 * 1024, 64 * 1024 - 1, 64 * 1024, 1024 * 1024 + 3];

  it('round-trips messages of every size both ways, through send() and getWriteBuffer()', async () => {
    a = open(transport.a);
    b = open(transport.b);
    const atA = watch(a);
    const atB = watch(b);
    const payloads = sizes.map((n, i) => pattern(n, i));
    for (const payload of payloads) {
      a.send(payload);
      b.getWriteBuffer().writeRaw(payload).commit();
    }
    await until(() => atA.messages.length === sizes.length && atB.messages.length === sizes.length, 'all messages');
    expectSameMessages(atB.messages, payloads);
    expectSameMessages(atA.messages, payloads);
    expect(atA.errors.concat(atB.errors)).toEqual([]);
  });

  it('delivers 100k messages in order', async () => {
    a = open(transport.a);
    b = open(transport.b);
    const count = 100_000;
    const seen: number[] = [];
    let wrongSize = 0;
    b.onMessage((m) => {
      if (m.length !== 4 + (seen.length % 7)) wrongSize++;
      seen.push(Buffer.from(m.buffer, m.byteOffset, m.length).readUInt32BE(0));
    });
    for (let i = 0; i < count; i++) {
      const message = Buffer.alloc(4 + (i % 7));
      message.writeUInt32BE(i, 0);
      if (!a.send(message)) await a.whenWritable();
    }
    await until(() => seen.length === count, '100k messages');
    expect(wrongSize).toBe(0);
    expect(seen.every((v, i) => v === i)).toBe(true);
  });

  it('coalesces many small sends in one tick into few stream writes', async () => {
    a = open(transport.a);
    b = open(transport.b);
    const atB = watch(b);
    const write = jest.spyOn(transport.a, 'write');
    for (let i = 0; i < 1000; i++) a.send(pattern(10, i));
    for (let i = 0; i < 1000; i++) a.getWriteBuffer().writeUint16(i).commit();
    // Nothing goes out synchronously: that is what lets the sends of this tick share a write.
    expect(write).not.toHaveBeenCalled();
    await until(() => atB.messages.length === 2000, 'all messages');
    expect(write.mock.calls.length).toBeLessThanOrEqual(2);
    expectSameMessages(atB.messages.slice(0, 1000), Array.from({ length: 1000 }, (_, i) => pattern(10, i)));
    expect(atB.messages.slice(1000).map((m) => m.readUInt16BE(0))).toEqual(Array.from({ length: 1000 }, (_, i) => i));
  });

  it('throws MessageTooLargeError for an outgoing message over maxMessageSize before writing anything', async () => {
    a = open(transport.a, { maxMessageSize: 100 });
    b = open(transport.b);
    const atB = watch(b);
    const write = jest.spyOn(transport.a, 'write');

    let caught: unknown;
    try {
      a.send(pattern(101, 1));
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(MessageTooLargeError);
    expect(caught).toMatchObject({ direction: 'outgoing', size: 101, maxMessageSize: 100 });
    expect(() => a.getWriteBuffer().writeRaw(pattern(101, 2)).commit()).toThrow(MessageTooLargeError);
    expect(a.pendingBytes).toBe(0);
    await settle();
    expect(write).not.toHaveBeenCalled();

    // Still usable: the limit itself is allowed, and the rejected messages never show up.
    a.send(pattern(100, 3));
    a.getWriteBuffer().writeRaw(pattern(7, 4)).commit();
    await until(() => atB.messages.length === 2, 'messages after the rejected ones');
    expectSameMessages(atB.messages, [pattern(100, 3), pattern(7, 4)]);
    expect(a.isClosed).toBe(false);
  });

  it('closes with MessageTooLargeError when the peer announces a message over maxMessageSize', async () => {
    a = open(transport.a);
    b = open(transport.b, { maxMessageSize: 1000 });
    const atB = watch(b);
    const atA = watch(a);
    a.send(pattern(1000, 1));
    a.send(pattern(1001, 2));
    a.send(pattern(10, 3));
    await until(() => atB.closes.length > 0, 'the receiver to close');
    await settle();
    expectSameMessages(atB.messages, [pattern(1000, 1)]);
    expect(atB.errors).toHaveLength(1);
    expect(atB.errors[0]).toBeInstanceOf(MessageTooLargeError);
    expect(atB.errors[0]).toMatchObject({ direction: 'incoming', size: 1001, maxMessageSize: 1000 });
    expect(atB.closes).toEqual([{ reason: 'error', error: atB.errors[0] }]);
    expect(b.isClosed).toBe(true);
    // The sender sees its peer go away.
    await until(() => atA.closes.length > 0, 'the sender to see the close');
    expect(atA.closes).toHaveLength(1);
  });

  it('does not allocate for an announced message over the limit', async () => {
    b = open(transport.b, { maxMessageSize: 1024 });
    const atB = watch(b);
    const header = Buffer.alloc(4);
    header.writeUInt32BE(0xffffffff, 0);
    const allocUnsafe = jest.spyOn(Buffer, 'allocUnsafe');
    const alloc = jest.spyOn(Buffer, 'alloc');
    try {
      transport.a.write(header);
      await until(() => atB.closes.length > 0, 'the receiver to close');
    } finally {
      allocUnsafe.mockRestore();
      alloc.mockRestore();
    }
    const big = (calls: unknown[][]) => calls.filter(([n]) => typeof n === 'number' && n > 1024 * 1024);
    expect(big(allocUnsafe.mock.calls)).toEqual([]);
    expect(big(alloc.mock.calls)).toEqual([]);
    expect(atB.errors[0]).toMatchObject({ name: 'MessageTooLargeError', size: 0xffffffff });
  });

  it('fires onClose once when the peer ends its side, after the messages sent before', async () => {
    a = open(transport.a);
    b = open(transport.b);
    const atB = watch(b);
    a.send(pattern(5, 1));
    a.send(pattern(70000, 2));
    a.close();
    a.close();
    await until(() => atB.closes.length > 0, 'onClose');
    await settle();
    expectSameMessages(atB.messages, [pattern(5, 1), pattern(70000, 2)]);
    expect(atB.closes).toEqual([{ reason: 'end' }]);
    expect(atB.errors).toEqual([]);
  });

  it('fires onClose once, with reason local, on close() and refuses to send afterwards', async () => {
    a = open(transport.a);
    const atA = watch(a);
    const pending = a.getWriteBuffer();
    a.close();
    expect(atA.closes).toEqual([{ reason: 'local' }]);
    expect(a.isClosed).toBe(true);
    expect(() => a.send(pattern(1, 1))).toThrow(PipeClosedError);
    expect(() => a.getWriteBuffer()).toThrow(PipeClosedError);
    expect(() => pending.writeUint8(1).commit()).toThrow(PipeClosedError);
    await expect(a.whenWritable()).rejects.toThrow(PipeClosedError);
    // The stream closing under a pipe that is already closed changes nothing.
    transport.a.destroy();
    transport.b.destroy();
    await settle();
    expect(atA.closes).toHaveLength(1);
    expect(atA.errors).toEqual([]);
  });

  it('fires onClose once when the stream is destroyed under it', async () => {
    a = open(transport.a);
    const atA = watch(a);
    transport.a.destroy();
    await until(() => atA.closes.length > 0, 'onClose');
    await settle();
    expect(atA.closes).toEqual([{ reason: 'destroyed' }]);
    expect(() => a.send(pattern(1, 1))).toThrow(PipeClosedError);
  });

  it('reports a stream error through onError and closes once', async () => {
    a = open(transport.a);
    const atA = watch(a);
    const failure = Object.assign(new Error('read EIO'), { code: 'EIO' });
    transport.a.destroy(failure);
    await until(() => atA.closes.length > 0, 'onClose');
    await settle();
    expect(atA.errors).toEqual([failure]);
    expect(atA.closes).toEqual([{ reason: 'error', error: failure }]);
  });

  it.each(['ECONNRESET', 'EPIPE'])('treats %s as the peer going away: onClose once with reason end', async (code) => {
    a = open(transport.a);
    const atA = watch(a);
    const failure = Object.assign(new Error(`write ${code}`), { code });
    transport.a.destroy(failure);
    await until(() => atA.closes.length > 0, 'onClose');
    await settle();
    // Whether a vanished peer shows as an end of file or as one of these depends only on timing.
    expect(atA.closes).toEqual([{ reason: 'end', error: failure }]);
    expect(atA.errors).toEqual([]);
  });

  it('turns a stream error nobody listens for into a warning, not an uncaught exception', async () => {
    a = open(transport.a);
    const closes: PipeCloseEvent[] = [];
    a.onClose((e) => closes.push(e));
    const warn = jest.spyOn(process, 'emitWarning').mockImplementation(() => {});
    try {
      transport.a.destroy(new Error('boom'));
      await until(() => closes.length > 0, 'onClose');
      expect(warn).toHaveBeenCalledTimes(1);
      expect(String(warn.mock.calls[0][0])).toContain('boom');
    } finally {
      warn.mockRestore();
    }
    expect(closes).toHaveLength(1);
  });

  it('reports a throwing listener as ListenerError and keeps delivering', async () => {
    a = open(transport.a);
    b = open(transport.b);
    const thrown = new Error('listener bug');
    const errors: Error[] = [];
    b.onError((e) => errors.push(e));
    b.onMessage((m) => {
      if (m[0] === 2) throw thrown;
    });
    const seen: number[] = [];
    b.onMessage((m) => seen.push(m[0]));
    for (const n of [1, 2, 3, 2, 4]) a.send(Uint8Array.of(n));
    await until(() => seen.length === 5, 'all messages');
    expect(seen).toEqual([1, 2, 3, 2, 4]);
    expect(errors).toHaveLength(2);
    expect(errors[0]).toBeInstanceOf(ListenerError);
    expect((errors[0] as ListenerError).error).toBe(thrown);
    expect(b.isClosed).toBe(false);
  });

  it('reports a throwing onClose listener as ListenerError and still runs the other close listeners', async () => {
    a = open(transport.a);
    const errors: Error[] = [];
    a.onError((e) => errors.push(e));
    a.onClose(() => {
      throw new Error('close listener bug');
    });
    const second = jest.fn();
    a.onClose(second);
    a.close();
    expect(second).toHaveBeenCalledTimes(1);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(ListenerError);
  });

  it('stops delivering to a listener whose subscription was disposed', async () => {
    a = open(transport.a);
    b = open(transport.b);
    const removed = jest.fn();
    b.onMessage(removed).dispose();
    const atB = watch(b);
    a.send(Uint8Array.of(1));
    await until(() => atB.messages.length === 1, 'the message');
    expect(removed).not.toHaveBeenCalled();
  });

  it('rejects whenWritable() with PipeClosedError when the pipe closes while it waits', async () => {
    a = open(transport.a, { highWaterMark: 1 });
    // b is not read, so a fills up; 64 KiB chunks overflow any high-water mark of the transport.
    transport.b.pause();
    while (!a.needsDrain) a.send(pattern(64 * 1024, 1));
    const waiting = a.whenWritable();
    a.close();
    await expect(waiting).rejects.toThrow(PipeClosedError);
  });

  it('validates maxMessageSize', () => {
    expect(() => new BinaryMessagePipe(transport.a, { maxMessageSize: 2 ** 32 })).toThrow(RangeError);
    // The five values above MAX_FRAME_PAYLOAD are not lengths (four mark fragments and lane frames).
    expect(() => new BinaryMessagePipe(transport.a, { maxMessageSize: 2 ** 32 - 5 })).toThrow(RangeError);
    expect(() => new BinaryMessagePipe(transport.a, { maxMessageSize: -1 })).toThrow(RangeError);
    expect(() => new BinaryMessagePipe(transport.a, { maxMessageSize: 1.5 })).toThrow(RangeError);
    expect(new BinaryMessagePipe(transport.a, { maxMessageSize: 2 ** 32 - 6 }).maxMessageSize).toBe(2 ** 32 - 6);
  });
});

describe('BinaryMessagePipe over real sockets', () => {
  const disposers: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const dispose of disposers.splice(0)) await dispose();
  });

  it('sends header and payload of a large message in one write to the socket when fragments are off', async () => {
    const pair = await createUnixSocketPair();
    disposers.push(pair.dispose);
    const pipe = new BinaryMessagePipe(pair.a, { fragmentSize: Infinity });
    const receiver = new BinaryMessagePipe(pair.b);
    const received: Buffer[] = [];
    receiver.onMessage((m) => received.push(Buffer.from(m)));
    // What reaches the socket's own write methods is what reaches the kernel as one write or writev call.
    const socket = pair.a;
    const calls: number[] = [];
    const originalWrite = socket._write;
    const originalWritev = socket._writev!;
    socket._write = function (this: Socket, chunk, encoding, callback) {
      calls.push((chunk as Buffer).length);
      return originalWrite.call(this, chunk, encoding, callback);
    };
    socket._writev = function (this: Socket, chunks, callback) {
      calls.push(chunks.reduce((n, c) => n + (c.chunk as Buffer).length, 0));
      return originalWritev.call(this, chunks, callback);
    };
    const big = pattern(1024 * 1024, 1);
    pipe.send(big);
    await until(() => received.length === 1, 'the message sent with send()');
    pipe.getWriteBuffer().writeRaw(big).commit();
    await until(() => received.length === 2, 'the message sent with getWriteBuffer()');
    expect(calls).toEqual([4 + big.length, 4 + big.length]);
    expectSameMessages(received, [big, big]);
    pipe.close();
    receiver.close();
  });

  it('survives the peer resetting the connection (ECONNRESET): onClose once, no uncaught exception', async () => {
    const pair = await createTcpSocketPair();
    disposers.push(pair.dispose);
    const pipe = new BinaryMessagePipe(pair.a);
    const closes: PipeCloseEvent[] = [];
    const errors: Error[] = [];
    pipe.onClose((e) => closes.push(e));
    pipe.onError((e) => errors.push(e));
    pair.b.resetAndDestroy();
    await until(() => closes.length > 0, 'onClose');
    // Sending into the dead connection right away must not throw anything but PipeClosedError.
    expect(() => pipe.send(pattern(10, 1))).toThrow(PipeClosedError);
    await settle();
    expect(closes).toHaveLength(1);
    expect(closes[0].reason).toBe('end');
    expect((closes[0].error as NodeJS.ErrnoException).code).toBe('ECONNRESET');
    expect(errors).toEqual([]);
  });

  it('survives writing into a socket whose peer is gone (EPIPE): onClose once, no uncaught exception', async () => {
    const pair = await createUnixSocketPair();
    disposers.push(pair.dispose);
    const pipe = new BinaryMessagePipe(pair.a);
    const closes: PipeCloseEvent[] = [];
    const errors: Error[] = [];
    pipe.onClose((e) => closes.push(e));
    pipe.onError((e) => errors.push(e));
    // The peer's descriptor is closed at once, but our side only reads the end of file on a later turn of the
    // event loop: the write flushed on the next tick goes into a socket with no reader.
    pair.b.destroy();
    pipe.send(pattern(10, 1));
    await until(() => closes.length > 0, 'onClose');
    await settle();
    expect(closes).toHaveLength(1);
    expect(closes[0].reason).toBe('end');
    expect((closes[0].error as NodeJS.ErrnoException).code).toBe('EPIPE');
    expect(errors).toEqual([]);
    expect(() => pipe.send(pattern(10, 1))).toThrow(PipeClosedError);
  });

  it('lets close() deliver everything sent before it over a real socket', async () => {
    const pair = await createUnixSocketPair();
    disposers.push(pair.dispose);
    const sender = new BinaryMessagePipe(pair.a);
    const receiver = new BinaryMessagePipe(pair.b);
    const received: Buffer[] = [];
    const closed = next(receiver.onClose);
    receiver.onMessage((m) => received.push(Buffer.from(m)));
    const messages = [pattern(0, 0), pattern(100, 1), pattern(5 * 1024 * 1024, 2), pattern(3, 3)];
    for (const m of messages) sender.send(m);
    sender.close();
    expect(await closed).toEqual({ reason: 'end' });
    // The small message sent after the large one passes it; the large one still arrives whole before the end.
    expectSameMessages(received, [messages[0], messages[1], messages[3], messages[2]]);
  });
});

describe('BinaryMessagePipe copies', () => {
  const pairs: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const dispose of pairs.splice(0)) await dispose();
  });

  function memoryPair(options: BinaryMessagePipeOptions = {}) {
    const [x, y] = createMemoryDuplexPair();
    pairs.push(() => {
      x.destroy();
      y.destroy();
    });
    return { sender: new BinaryMessagePipe(x, options), receiver: new BinaryMessagePipe(y), stream: x };
  }

  it("writes a committed message from the write buffer's own memory, header included", async () => {
    const { sender, receiver, stream } = memoryPair();
    const received: Buffer[] = [];
    receiver.onMessage((m) => received.push(Buffer.from(m)));
    const write = jest.spyOn(stream, 'write');
    const payloads = [pattern(10_000, 1), pattern(3_000, 2)];
    for (const payload of payloads) {
      sender.getWriteBuffer().writeRaw(payload).commit();
      await until(() => received.length === payloads.indexOf(payload) + 1, 'the message');
    }
    // One write a message, header and payload together; the second frame was built right after the first, in the
    // same memory, though they went out in different ticks: frames are written where the buffer wrote them.
    expect(write).toHaveBeenCalledTimes(2);
    const [first, second] = write.mock.calls.map(([chunk]) => chunk as Buffer);
    expect(first.length).toBe(payloads[0].length + 4);
    expect(first.readUInt32BE(0)).toBe(payloads[0].length);
    expect(second.buffer).toBe(first.buffer);
    expect(second.byteOffset).toBe(first.byteOffset + first.length);
    expectSameMessages(received, payloads);
  });

  it('keeps large raw bytes of a committed message by reference, written in one corked batch', async () => {
    const { sender, receiver, stream } = memoryPair();
    const received: Buffer[] = [];
    receiver.onMessage((m) => received.push(Buffer.from(m)));
    const write = jest.spyOn(stream, 'write');
    const cork = jest.spyOn(stream, 'cork');
    const payload = pattern(100_000, 2);
    sender.getWriteBuffer().writeUint32(7).writeBytes(payload).writeString('tail').commit();
    await until(() => received.length === 1, 'the message');
    const chunks = write.mock.calls.map(([chunk]) => chunk as Buffer);
    expect(chunks.some((c) => c.buffer === payload.buffer && c.byteOffset === payload.byteOffset)).toBe(true);
    expect(cork).toHaveBeenCalledTimes(1);
    const expected = Buffer.concat([Buffer.from([0, 0, 0, 7, 0xa0, 0x8d, 0x06]), payload, Buffer.from([4]), Buffer.from('tail')]);
    expectSameMessages(received, [expected]);
  });

  it('keeps frames in commit order when small frames, referenced runs and interleaved buffers mix in one tick', async () => {
    // Whole frames only: with fragments, the 270 KB message would be passed by the small ones (pipe-fragments.test).
    const { sender, receiver } = memoryPair({ fragmentSize: Infinity });
    const received: Buffer[] = [];
    receiver.onMessage((m) => received.push(Buffer.from(m)));
    const big1 = pattern(70_000, 3);
    const big2 = pattern(200_000, 4);
    const expected: Buffer[] = [];
    const small = (n: number) => Buffer.from(`small ${n}`);

    sender.getWriteBuffer().writeRaw(small(1)).commit();
    expected.push(small(1));
    // Two buffers open at once: the first is moved out of the shared memory when the second starts.
    const first = sender.getWriteBuffer().writeRaw(Buffer.from('first, begun early '));
    const second = sender.getWriteBuffer().writeRaw(Buffer.from('second '));
    first.writeRaw(big1).writeRaw(Buffer.from(' first tail'));
    second.writeRaw(big2).writeRaw(big1).writeRaw(Buffer.from(' second tail'));
    second.commit();
    expected.push(Buffer.concat([Buffer.from('second '), big2, big1, Buffer.from(' second tail')]));
    sender.send(small(2));
    expected.push(small(2));
    first.commit();
    expected.push(Buffer.concat([Buffer.from('first, begun early '), big1, Buffer.from(' first tail')]));
    // An abandoned buffer (never committed) must not disturb the frames after it.
    sender.getWriteBuffer().writeRaw(Buffer.from('abandoned')).writeRaw(big2);
    for (let i = 3; i < 200; i++) {
      sender.getWriteBuffer().writeRaw(small(i)).commit();
      expected.push(small(i));
    }
    await until(() => received.length === expected.length, 'every message');
    expectSameMessages(received, expected);
  });

  it('keeps a message whose runs were cut in shared memory intact when it outgrows it and others are sent first', async () => {
    const { sender, receiver } = memoryPair();
    const received: Buffer[] = [];
    receiver.onMessage((m) => received.push(Buffer.from(m)));
    const big = pattern(65_536, 5);
    const mid = pattern(40_000, 6);
    const a = sender.getWriteBuffer().writeString('A head').writeRaw(big).writeRaw(mid).writeRaw(mid);
    sender.send(Buffer.from('X'));
    sender.getWriteBuffer().writeRaw(Buffer.from('B')).commit();
    a.commit();
    await until(() => received.length === 3, 'three messages');
    expectSameMessages(received, [
      Buffer.from('X'),
      Buffer.from('B'),
      Buffer.concat([Buffer.from([6]), Buffer.from('A head'), big, mid, mid]),
    ]);
  });

  it('writes a large message given to send() by reference', async () => {
    const { sender, receiver, stream } = memoryPair();
    const received: Buffer[] = [];
    receiver.onMessage((m) => received.push(Buffer.from(m)));
    const write = jest.spyOn(stream, 'write');
    const payload = pattern(100_000, 2);
    sender.send(payload);
    await until(() => received.length === 1, 'the message');
    const chunks = write.mock.calls.map(([chunk]) => chunk as Buffer);
    expect(chunks.some((chunk) => chunk.buffer === payload.buffer && chunk.byteOffset === payload.byteOffset)).toBe(
      true,
    );
    expectSameMessages(received, [payload]);
  });

  it('delivers a frame that lies whole inside a received chunk as a view of that chunk', async () => {
    const pair = await createUnixSocketPair();
    pairs.push(pair.dispose);
    const receiver = new BinaryMessagePipe(pair.b);
    const chunks: Buffer[] = [];
    pair.b.on('data', (chunk: Buffer) => chunks.push(chunk));
    const messages: Uint8Array[] = [];
    receiver.onMessage((m) => messages.push(m));
    const frames = Buffer.alloc(3 * 104);
    for (let i = 0; i < 3; i++) frames.writeUInt32BE(100, i * 104);
    pair.a.write(frames);
    await until(() => messages.length === 3, 'three messages');
    // One write of 312 bytes arrives as one chunk on a local socket.
    expect(chunks).toHaveLength(1);
    for (const [i, message] of messages.entries()) {
      expect(message.buffer).toBe(chunks[0].buffer);
      expect(message.byteOffset).toBe(chunks[0].byteOffset + i * 104 + 4);
    }
    pair.a.destroy();
  });
});

describe('BinaryMessagePipe: a stream that ends inside a frame', () => {
  /** A pipe on one end of a pair, and the raw other end to write cut-off frames with. */
  function cutOff() {
    const [a, b] = createMemoryDuplexPair();
    const pipe = new BinaryMessagePipe(a);
    const log = watch(pipe);
    return { raw: b, log };
  }

  const header = (size: number) => {
    const bytes = Buffer.alloc(4);
    bytes.writeUInt32BE(size, 0);
    return bytes;
  };

  test('mid-body: the messages before it arrive, and onClose carries a TruncatedFrameError with the counts', async () => {
    const { raw, log } = cutOff();
    raw.write(Buffer.concat([header(3), Buffer.from('abc'), header(100), Buffer.alloc(10, 7)]));
    raw.end();
    await until(() => log.closes.length === 1, 'onClose');
    expect(log.messages.map(String)).toEqual(['abc']);
    const [close] = log.closes;
    expect(close.reason).toBe('error');
    expect(close.error).toBeInstanceOf(TruncatedFrameError);
    expect(close.error).toMatchObject({ expected: 104, received: 14 });
    expect(close.error!.message).toMatch(/14 of its 104 bytes arrived/);
  });

  test('mid-header, its pieces in separate chunks: the same, counting the header bytes', async () => {
    const { raw, log } = cutOff();
    raw.write(header(5).subarray(0, 1));
    await settle();
    raw.write(header(5).subarray(1, 3));
    await settle();
    raw.end();
    await until(() => log.closes.length === 1, 'onClose');
    expect(log.closes[0].error).toBeInstanceOf(TruncatedFrameError);
    expect(log.closes[0].error).toMatchObject({ expected: 4, received: 3 });
    expect(log.closes[0].error!.message).toMatch(/inside a frame header/);
  });

  const errno = (code: string, syscall: string) =>
    Object.assign(new Error(`${syscall} ${code}`), { code, syscall, errno: -1 });

  test('a failed write (EPIPE) while a frame is arriving is the peer going away, not a cut frame', async () => {
    // What a busy child sees when its parent closes: its write fails with EPIPE while the rest of the parent's
    // (whole) frame still waits, unread, in the OS.
    const [a, b] = createMemoryDuplexPair();
    const log = watch(new BinaryMessagePipe(a));
    b.write(Buffer.concat([header(100), Buffer.alloc(10, 7)]));
    await settle();
    a.emit('error', errno('EPIPE', 'write'));
    await until(() => log.closes.length === 1, 'onClose');
    expect(log.closes[0].reason).toBe('end');
    expect(log.closes[0].error).not.toBeInstanceOf(TruncatedFrameError);
  });

  test('a reset found by a read inside a frame is a cut frame', async () => {
    const [a, b] = createMemoryDuplexPair();
    const log = watch(new BinaryMessagePipe(a));
    b.write(Buffer.concat([header(100), Buffer.alloc(10, 7)]));
    await settle();
    a.emit('error', errno('ECONNRESET', 'read'));
    await until(() => log.closes.length === 1, 'onClose');
    expect(log.closes[0].reason).toBe('error');
    expect(log.closes[0].error).toBeInstanceOf(TruncatedFrameError);
  });

  test('a stream destroyed here inside a frame is not blamed on the peer', async () => {
    const [a, b] = createMemoryDuplexPair();
    const log = watch(new BinaryMessagePipe(a));
    b.write(Buffer.concat([header(100), Buffer.alloc(10, 7)]));
    await settle();
    a.destroy();
    await until(() => log.closes.length === 1, 'onClose');
    expect(log.closes[0]).toEqual({ reason: 'destroyed' });
  });

  test('between frames, an end is still a clean end', async () => {
    const { raw, log } = cutOff();
    raw.write(Buffer.concat([header(2), Buffer.from('ok')]));
    raw.end();
    await until(() => log.closes.length === 1, 'onClose');
    expect(log.closes).toEqual([{ reason: 'end' }]);
    expect(log.errors).toEqual([]);
  });
});
