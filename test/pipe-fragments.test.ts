import type { ChildProcess } from 'child_process';
import * as path from 'path';
import { Writable } from 'stream';
import fc from 'fast-check';
import {
  BinaryMessagePipe,
  ChannelMultiplexer,
  FrameDecoder,
  RpcPeer,
  RpcProtocol,
  IPCChannel,
  MalformedFrameError,
  MessageTooLargeError,
  forkWithChannel,
  type PipeCloseEvent,
} from '../src';
import { FrameWriter } from '../src/pipe/FrameWriter';
import { MAX_PASSED_MESSAGES, MIN_FRAGMENT_SIZE } from '../src/pipe/frame';
import { expectSameMessages, pattern } from './helpers/bytes';
import { nextFragment, numbered, startFragment, wireBytes } from './helpers/frames';
import { killAll } from './helpers/processes';
import { createMemoryDuplexPair, createUnixSocketPair } from './helpers/streams';
import { next, until } from './helpers/wait';

const KiB = 1024;
const MiB = 1024 * KiB;

/** Each frame header on the wire, in order: a whole frame's size, or a fragment's message id. */
function frameHeaders(wire: Buffer): string[] {
  const headers: string[] = [];
  let at = 0;
  while (at < wire.length) {
    const value = wire.readUInt32BE(at);
    if (value === 0xfffffffe) {
      headers.push(`start ${wire.readUInt32BE(at + 4)}`);
      at += 16 + wire.readUInt32BE(at + 12);
    } else if (value === 0xfffffffd) {
      headers.push(`next ${wire.readUInt32BE(at + 4)}`);
      at += 12 + wire.readUInt32BE(at + 8);
    } else {
      headers.push(`whole ${value}`);
      at += 4 + value;
    }
  }
  return headers;
}

function decodeInChunks(wire: Buffer, cuts: number[]): { messages: Buffer[]; errors: Error[] } {
  const messages: Buffer[] = [];
  const errors: Error[] = [];
  const decoder = new FrameDecoder(
    1 << 30,
    (frame) => messages.push(Buffer.from(frame)),
    (size) => errors.push(new MessageTooLargeError('incoming', size, 1 << 30)),
    (error) => errors.push(error),
  );
  let from = 0;
  for (const cut of [...new Set(cuts.map((c) => Math.floor(c * wire.length)))].sort((a, b) => a - b)) {
    decoder.push(wire.subarray(from, cut));
    from = cut;
  }
  decoder.push(wire.subarray(from));
  return { messages, errors };
}

describe('fragments on the wire', () => {
  it('cuts a large message into fragments and lets whole small messages and other large ones in between', () => {
    const messages = [numbered(0, 20 * KiB), numbered(1, 100), numbered(2, 10 * KiB), numbered(3, 12 * KiB)];
    const headers = frameHeaders(wireBytes(messages, 8 * KiB));
    // The small message goes first; the three large ones take turns, a fragment each.
    expect(headers).toEqual([
      'whole 100',
      'start 0',
      'start 1',
      'start 2',
      'next 0',
      'next 1',
      'next 2',
      'next 0',
    ]);
  });

  it('holds a message sent in order until every large message before it is complete', () => {
    const written: Buffer[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        written.push(Buffer.from(chunk));
        callback();
      },
    });
    const writer = new FrameWriter(sink, () => {}, 8 * KiB);
    writer.enqueueMessage(numbered(0, 20 * KiB));
    writer.enqueueMessage(Buffer.alloc(1, 1), true); // in order: after message 0
    writer.enqueueMessage(Buffer.alloc(2, 2)); // may pass message 0
    writer.createWriteBuffer((frame) => writer.enqueueFrame(frame, true)).writeRaw(numbered(1, 10 * KiB)).commit();
    writer.createWriteBuffer((frame) => writer.enqueueFrame(frame, true)).writeRaw(Buffer.alloc(3, 3)).commit();
    writer.enqueueMessage(numbered(2, 9 * KiB)); // not in order: starts at once, alongside message 0
    writer.flush();
    expect(frameHeaders(Buffer.concat(written))).toEqual([
      'whole 2',
      'start 0',
      'start 1',
      'next 0',
      'next 1',
      'next 0',
      'whole 1', // message 0 is complete
      'start 2', // the held large message now starts
      'next 2',
      'whole 3', // and the message held behind it waits for it
    ]);
  });

  it('reassembles every message intact whatever the sizes, the fragment size and the chunking', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.integer({ min: 4, max: 300 }), fc.integer({ min: 4, max: 150 * KiB })), {
          minLength: 1,
          maxLength: 12,
        }),
        fc.constantFrom(4 * KiB, 16 * KiB, 64 * KiB),
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 40 }),
        (sizes, fragmentSize, cuts) => {
          const sent = sizes.map((size, i) => numbered(i, size));
          const { messages, errors } = decodeInChunks(wireBytes(sent, fragmentSize), cuts);
          expect(errors).toEqual([]);
          const order = messages.map((m) => m.readUInt32BE(0));
          expect([...order].sort((a, b) => a - b)).toEqual(sent.map((_, i) => i));
          expectSameMessages(
            messages,
            order.map((i) => sent[i]),
          );
          // Messages sent whole keep their order among themselves.
          const whole = order.filter((i) => sizes[i] <= fragmentSize);
          expect(whole).toEqual([...whole].sort((a, b) => a - b));
        },
      ),
      { numRuns: 60 },
    );
  });

  it("reserves a fragmented message's buffer at its first fragment, within a budget for all those under way", () => {
    // Two 200 MiB messages announced, a few bytes each: the first fits the 256 MiB budget and is reserved at once
    // (address space only), the second waits for half its bytes, as a large whole frame does.
    const announced = 200 * MiB;
    const reserved: number[] = [];
    const original = Buffer.allocUnsafe;
    const spy = jest.spyOn(Buffer, 'allocUnsafe').mockImplementation((size: number) => {
      if (size >= MiB) reserved.push(size);
      return original.call(Buffer, size);
    });
    const delivered: Buffer[] = [];
    try {
      const decoder = new FrameDecoder(1 << 30, (frame) => delivered.push(Buffer.from(frame)), () => {});
      decoder.push(startFragment(1, announced, Buffer.alloc(10, 1)));
      expect(reserved).toEqual([announced]);
      decoder.push(startFragment(2, announced, Buffer.alloc(10, 2)));
      expect(reserved).toEqual([announced]);
      // A small message still passes both.
      decoder.push(Buffer.from([0, 0, 0, 1, 9]));
      expect(delivered).toEqual([Buffer.from([9])]);
      expect(decoder.pendingBytes).toBe(20);
    } finally {
      spy.mockRestore();
    }
  });
});

describe('BinaryMessagePipe with fragments', () => {
  const disposers: Array<() => void> = [];
  afterEach(() => {
    for (const dispose of disposers.splice(0)) dispose();
  });

  function memoryPair(options: { fragmentSize?: number; highWaterMark?: number } = {}) {
    const [x, y] = createMemoryDuplexPair();
    const sender = new BinaryMessagePipe(x, options);
    const receiver = new BinaryMessagePipe(y);
    disposers.push(() => {
      x.destroy();
      y.destroy();
    });
    return { x, y, sender, receiver };
  }

  it('delivers a small message sent after a large one has started before the large one', async () => {
    const { y, sender, receiver } = memoryPair({ fragmentSize: 64 * KiB });
    const received: Buffer[] = [];
    receiver.onMessage((m) => received.push(Buffer.from(m)));
    const large = pattern(4 * MiB, 1);
    const small = Buffer.from('small, sent later');
    sender.send(large);
    // Wait until the first bytes of the large message have reached the other side, then send the small one.
    await new Promise<void>((resolve) => y.once('data', () => resolve()));
    expect(received).toEqual([]);
    sender.send(small);
    await until(() => received.length === 2, 'both messages');
    expectSameMessages(received, [small, large]);
  });

  it('refuses a fragment of a message that was never started, after delivering what came before it', async () => {
    const { x, receiver } = memoryPair();
    const received: Buffer[] = [];
    const errors: Error[] = [];
    receiver.onMessage((m) => received.push(Buffer.from(m)));
    receiver.onError((e) => errors.push(e));
    const closed = next(receiver.onClose);
    const before = Buffer.from([0, 0, 0, 2, 7, 7]);
    const stray = Buffer.alloc(12 + 3);
    stray.writeUInt32BE(0xfffffffd, 0);
    stray.writeUInt32BE(41, 4);
    stray.writeUInt32BE(3, 8);
    x.write(Buffer.concat([before, stray]));
    const event: PipeCloseEvent = await closed;
    expect(received).toEqual([Buffer.from([7, 7])]);
    expect(event.reason).toBe('error');
    expect(event.error).toBeInstanceOf(MalformedFrameError);
    expect(event.error).toMatchObject({ problem: 'unknown-message', messageId: 41 });
    expect(event.error!.message).toMatch(/fragment of message 41, which was never started/);
    expect(errors).toEqual([event.error]);
  });

  async function closeAfter(bytes: Buffer, maxMessageSize?: number) {
    const [x, y] = createMemoryDuplexPair();
    disposers.push(() => {
      x.destroy();
      y.destroy();
    });
    const receiver = new BinaryMessagePipe(y, { maxMessageSize });
    const received: Buffer[] = [];
    receiver.onMessage((m) => received.push(Buffer.from(m)));
    receiver.onError(() => {});
    const closed = next(receiver.onClose);
    x.write(bytes);
    return { event: await closed, received };
  }

  it('refuses a message started again while under way, a fragment longer than its message and an oversized total', async () => {
    const whole = Buffer.from([0, 0, 0, 1, 9]);
    const restarted = await closeAfter(
      Buffer.concat([startFragment(5, 10, Buffer.alloc(4)), whole, startFragment(5, 10, Buffer.alloc(4))]),
    );
    expect(restarted.received).toEqual([Buffer.from([9])]);
    expect(restarted.event.error).toMatchObject({ name: 'MalformedFrameError', problem: 'restarted-message' });

    const overlong = await closeAfter(
      Buffer.concat([startFragment(1, 10, Buffer.alloc(6)), whole, nextFragment(1, Buffer.alloc(5))]),
    );
    expect(overlong.received).toEqual([Buffer.from([9])]);
    expect(overlong.event.error).toMatchObject({ problem: 'oversized-fragment', messageId: 1 });
    expect(overlong.event.error!.message).toMatch(/needs only 4 more of its 10/);

    const oversized = await closeAfter(Buffer.concat([whole, startFragment(2, 1000, Buffer.alloc(1))]), 999);
    expect(oversized.received).toEqual([Buffer.from([9])]);
    expect(oversized.event.error).toBeInstanceOf(MessageTooLargeError);
    expect(oversized.event.error).toMatchObject({ size: 1000, maxMessageSize: 999 });
  });

  it('refuses more large messages under way at once than it accepts', async () => {
    const starts = Array.from({ length: 65 }, (_, id) => startFragment(id, 100, Buffer.alloc(1)));
    const { event } = await closeAfter(Buffer.concat(starts));
    expect(event.error).toMatchObject({ problem: 'too-many-messages', messageId: 64 });
  });

  it('reports a stream that ends inside a fragmented message as truncated', async () => {
    const [x, y] = createMemoryDuplexPair();
    disposers.push(() => y.destroy());
    const receiver = new BinaryMessagePipe(y);
    receiver.onError(() => {});
    const closed = next(receiver.onClose);
    x.end(startFragment(3, 50, Buffer.alloc(20)));
    expect(await closed).toMatchObject({
      reason: 'error',
      error: { name: 'TruncatedFrameError', expected: 50, received: 20 },
    });
  });

  it('keeps a producer that respects backpressure within the high-water mark with a slow reader', async () => {
    const highWaterMark = MiB;
    const messageSize = 3 * MiB;
    const count = 24;
    const { y, sender, receiver } = memoryPair({ fragmentSize: 64 * KiB, highWaterMark });
    const received: number[] = [];
    let torn = 0;
    receiver.onMessage((m) => {
      const view = Buffer.from(m.buffer, m.byteOffset, m.byteLength);
      if (view.readUInt32BE(0) !== view.readUInt32BE(view.length - 4)) torn++;
      received.push(view.readUInt32BE(0));
    });
    // The reader takes a break after every chunk, so the producer is always ahead of it.
    y.on('data', () => {
      y.pause();
      setImmediate(() => y.resume());
    });
    let maxPending = 0;
    for (let i = 0; i < count; i++) {
      const message = Buffer.alloc(messageSize);
      message.writeUInt32BE(i, 0);
      message.writeUInt32BE(i, messageSize - 4);
      const mayContinue = sender.send(message);
      maxPending = Math.max(maxPending, sender.pendingBytes);
      if (!mayContinue) await sender.whenWritable();
      maxPending = Math.max(maxPending, sender.pendingBytes);
    }
    await until(() => received.length === count, 'every message');
    expect(torn).toBe(0);
    expect([...received].sort((a, b) => a - b)).toEqual(Array.from({ length: count }, (_, i) => i));
    // Never more than the mark plus the one message that crossed it.
    expect(maxPending).toBeLessThanOrEqual(highWaterMark + messageSize);
  });
});

describe('how many large messages a message may pass', () => {
  it(`passes up to MAX_PASSED_MESSAGES - 1 outstanding ones, and waits behind ${MAX_PASSED_MESSAGES}`, async () => {
    const pair = await createUnixSocketPair();
    const left = new BinaryMessagePipe(pair.a, { fragmentSize: MIN_FRAGMENT_SIZE });
    const right = new BinaryMessagePipe(pair.b, { fragmentSize: MIN_FRAGMENT_SIZE });
    try {
      const arrived: number[] = [];
      right.onMessage((message) => arrived.push(message.byteLength));
      const large = MIN_FRAGMENT_SIZE + 1;
      for (const outstanding of [MAX_PASSED_MESSAGES - 1, MAX_PASSED_MESSAGES]) {
        arrived.length = 0;
        // All queued in one turn: none has started by the time the small one is sent.
        for (let i = 0; i < outstanding; i++) left.send(Buffer.alloc(large));
        left.send(Buffer.alloc(1));
        await until(() => arrived.length === outstanding + 1, 'every message');
        const small = arrived.indexOf(1);
        if (outstanding < MAX_PASSED_MESSAGES) expect(small).toBeLessThan(outstanding);
        else expect(small).toBe(outstanding);
      }
    } finally {
      left.close();
      right.close();
      await pair.dispose();
    }
  });
});

describe('messages that must not pass a large one', () => {
  const disposers: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const dispose of disposers.splice(0)) await dispose();
  });

  async function channelPair() {
    const pair = await createUnixSocketPair();
    const left = new IPCChannel(pair.a, { fragmentSize: 64 * KiB });
    const right = new IPCChannel(pair.b, { fragmentSize: 64 * KiB });
    disposers.push(async () => {
      left.close();
      right.close();
      await pair.dispose();
    });
    return { left, right };
  }

  it("a sub-channel's close arrives after its last large message", async () => {
    const { left, right } = await channelPair();
    const muxLeft = new ChannelMultiplexer(left);
    const muxRight = new ChannelMultiplexer(right);
    const opened = next(muxRight.onDidOpenChannel);
    const sub = await muxLeft.open('bulk');
    const { channel: remote } = await opened;
    const events: string[] = [];
    remote.onMessage((read) => events.push(`message ${read().remaining}`));
    const closed = next(remote.onClose);
    remote.onClose(() => events.push('close'));
    sub.getWriteBuffer().writeRaw(Buffer.alloc(2 * MiB, 5)).commit();
    sub.close();
    await closed;
    expect(events).toEqual([`message ${2 * MiB}`, 'close']);
  });

  it("an RPC reply sent just before its protocol is disposed is not passed by the goodbye", async () => {
    const { left, right } = await channelPair();
    const server = new RpcPeer(right);
    server.expose('svc', {
      big: () => {
        // Dispose once the reply has been committed: the goodbye follows it.
        setImmediate(() => server.dispose());
        return new Uint8Array(2 * MiB).fill(7);
      },
    });
    const client = new RpcPeer(left).proxy<{ big(): Uint8Array }>('svc');
    const result = await client.big();
    expect(result.byteLength).toBe(2 * MiB);
  });

  it('a cancel that passes its large request makes the callee drop the request, not run it', async () => {
    const { left, right } = await channelPair();
    const callee = new RpcProtocol(right);
    const ran: number[] = [];
    callee.setRequestHandler((_method, args) => ran.push((args[0] as Uint8Array).byteLength));
    const caller = new RpcProtocol(left);
    const controller = new AbortController();
    const dropped = caller.sendRequest('take', [new Uint8Array(4 * MiB)], { signal: controller.signal });
    // Next turn: the request is on its way in fragments; the cancel goes whole and passes it.
    await new Promise((resolve) => setImmediate(resolve));
    controller.abort();
    await expect(dropped).rejects.toMatchObject({ name: 'AbortError' });
    // A second large request, started later, completes after the first: by its reply the first has arrived.
    await caller.sendRequest('take', [new Uint8Array(4 * MiB + 1)]);
    expect(ran).toEqual([4 * MiB + 1]);
    caller.dispose();
    callee.dispose();
  });
});

describe('fragments over a forked child on fd 4', () => {
  const children = new Set<ChildProcess>();
  afterEach(() => killAll(children));

  async function start() {
    const { child, channel } = forkWithChannel(path.join(__dirname, 'fixtures', 'order-worker.js'));
    children.add(child);
    channel.onError(() => {});
    const reports: number[] = [];
    child.on('message', (m: { type: string; size?: number }) => {
      if (m.type === 'received') reports.push(m.size!);
    });
    await new Promise<void>((resolve) => child.once('message', () => resolve()));
    return { child, channel, reports };
  }

  it('lets a small message sent after a large one overtake it, in both directions', async () => {
    const { child, channel, reports } = await start();
    const large = 8 * MiB;
    channel.getWriteBuffer().writeRaw(Buffer.alloc(large, 1)).commit();
    // The next turn: the large message is under way.
    await new Promise((resolve) => setImmediate(resolve));
    channel.getWriteBuffer().writeRaw(Buffer.from('hello')).commit();
    await until(() => reports.length === 2, 'the child to get both');
    expect(reports).toEqual([5, large]);

    const fromChild: number[] = [];
    channel.onMessage((read) => fromChild.push(read().remaining));
    child.send({ type: 'send', sizes: [large, 7] });
    await until(() => fromChild.length === 2, 'both messages from the child');
    expect(fromChild).toEqual([7, large]);
    expect(channel).toBeInstanceOf(IPCChannel);
  });
});
