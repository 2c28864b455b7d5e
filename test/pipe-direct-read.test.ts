import type { ChildProcess } from 'child_process';
import type { Socket } from 'net';
import * as path from 'path';
import fc from 'fast-check';
import { BinaryMessagePipe, FrameDecoder, type PipeCloseEvent, RpcPeer, forkWithChannel } from '../src';
import { adoptForDirectRead, directReadSourceOf } from '../src/pipe/directRead';
import { expectSameMessages, pattern } from './helpers/bytes';
import { numbered, wireBytes } from './helpers/frames';
import { killAll } from './helpers/processes';
import { createUnixSocketPair, type SocketPair } from './helpers/streams';
import { settle, until } from './helpers/wait';

const KiB = 1024;
const MiB = 1024 * KiB;

/**
 * Plays the OS for a reader with Node's `onread`: each read copies the next bytes of `wire` into the buffer the
 * decoder names, as many as `readSize()` says and the buffer holds. Returns the messages as delivered: the views
 * themselves, not copies, so a decoder that reused memory a delivered message lies in would show it.
 */
function readDirectly(wire: Buffer, readSize: () => number, scribble = false): Uint8Array[] {
  const delivered: Uint8Array[] = [];
  const decoder = new FrameDecoder(1 << 30, (frame) => delivered.push(frame), () => {});
  let at = 0;
  while (at < wire.length) {
    const buffer = decoder.readBuffer();
    const count = Math.min(buffer.length, readSize(), wire.length - at);
    wire.copy(buffer, 0, at, at + count);
    // Bytes past the read are the OS's business: a decoder must not look at them.
    if (scribble) buffer.fill(0xee, count, Math.min(buffer.length, count + 64));
    decoder.pushRead(buffer, count);
    at += count;
  }
  return delivered;
}

/** Messages in the order of the index each names: small ones may pass large ones on the wire. */
const byIndex = (messages: Uint8Array[]): Buffer[] =>
  messages.map((m) => Buffer.from(m.buffer, m.byteOffset, m.byteLength)).sort((a, b) => a.readUInt32BE(0) - b.readUInt32BE(0));

describe('reading straight into the decoder', () => {
  it('delivers every message intact, and never reuses memory a delivered message lies in', () => {
    const messages = [
      numbered(0, 5),
      numbered(1, 700 * KiB), // fragmented, its buffer reserved at once
      numbered(2, 40),
      numbered(3, 8),
      numbered(4, 100 * KiB),
      numbered(5, 6),
    ];
    for (const fragmentSize of [64 * KiB, 256 * KiB, Infinity]) {
      const wire = wireBytes(messages, fragmentSize);
      for (const size of [13, 4096, 64 * KiB, 200 * KiB]) {
        const delivered = readDirectly(wire, () => size, true);
        expectSameMessages(byIndex(delivered), messages);
      }
    }
  });

  it('puts together a large whole frame whose buffer waits for half of it, read in any sizes', () => {
    // Over 4 MiB and not fragmented: its first half is held as views of the reads, so those must not be reused.
    const messages = [numbered(0, 9 * MiB + 3), numbered(1, 10)];
    const wire = wireBytes(messages, Infinity);
    const delivered = readDirectly(wire, () => 150 * KiB, true);
    expectSameMessages(byIndex(delivered), messages);
  });

  it('delivers every message intact whatever the sizes, the fragment size and the reads', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 4, max: 200 * KiB }), { minLength: 1, maxLength: 10 }),
        fc.constantFrom(4 * KiB, 16 * KiB, 64 * KiB),
        fc.array(fc.integer({ min: 1, max: 100 * KiB }), { minLength: 1, maxLength: 20 }).map((reads) => reads.map((n) => (n < 64 ? n : n + 1024))),
        (sizes, fragmentSize, reads) => {
          const messages = sizes.map((size, i) => numbered(i, size));
          let r = 0;
          const delivered = readDirectly(wireBytes(messages, fragmentSize), () => reads[r++ % reads.length], true);
          expectSameMessages(byIndex(delivered), messages);
        },
      ),
      { numRuns: 40 },
    );
  });

  it('lands the bytes of a fragment in its message rather than in a scratch buffer', () => {
    const messages = [numbered(0, 2 * MiB)];
    const wire = wireBytes(messages, 256 * KiB);
    const decoder = new FrameDecoder(1 << 30, () => {}, () => {});
    let at = 0;
    let inPlace = 0;
    while (at < wire.length) {
      const buffer = decoder.readBuffer();
      const count = Math.min(buffer.length, 64 * KiB, wire.length - at);
      wire.copy(buffer, 0, at, at + count);
      // A view into the message's own buffer is far larger than a read's scratch.
      if (buffer.buffer.byteLength >= 2 * MiB) inPlace += count;
      decoder.pushRead(buffer, count);
      at += count;
    }
    // All but the first read (the first fragment's header and the start of its bytes) and the header of each
    // later fragment, read on its own.
    const fragments = (2 * MiB) / (256 * KiB);
    expect(inPlace).toBeGreaterThanOrEqual(wire.length - 64 * KiB - 12 * (fragments - 1));
  });
});

describe('direct reads over a socket', () => {
  let pair: SocketPair;
  beforeEach(async () => {
    pair = await createUnixSocketPair();
  });
  afterEach(() => pair.dispose());

  it('never reads into the memory of a message delivered from the first read, after the pipe let go', async () => {
    const pipe = new BinaryMessagePipe(adoptForDirectRead(pair.b));
    const first = pattern(100, 7);
    let kept: Uint8Array | undefined;
    pipe.onMessage((message) => {
      if (kept !== undefined) return;
      kept = message;
      pipe.close();
    });
    // The first message and plenty behind it, all waiting in the OS: the socket goes on reading after the close.
    const behind = Array.from({ length: 40 }, (_, i) => numbered(i, 16 * KiB).fill(0xaa, 4));
    pair.a.write(wireBytes([first, ...behind], Infinity));
    await until(() => kept !== undefined, 'the first message');
    await settle();
    expectSameMessages([kept!], [first]);
  });

  it('keeps no more memory alive for a small message it delivers than its read brought, as Node reads do', async () => {
    const pipe = new BinaryMessagePipe(adoptForDirectRead(pair.b));
    const kept: Uint8Array[] = [];
    pipe.onMessage((message) => kept.push(message));
    // Each in a read of its own: the first lands where Node asked before the pipe attached, the rest in the pipe's.
    for (let i = 0; i < 3; i++) {
      pair.a.write(wireBytes([numbered(i, 10)], Infinity));
      await until(() => kept.length === i + 1, `message ${i}`);
    }
    expectSameMessages(kept, [0, 1, 2].map((i) => numbered(i, 10)));
    // A listener may keep what it is given (an RPC argument is a view of its message): 14 bytes, not a 64 KiB buffer.
    for (const message of kept) expect(message.buffer.byteLength).toBeLessThan(1024);
    pipe.close();
  });

  it('closes a pipe over a socket taken over after its end was read, as over the socket itself', async () => {
    const ended = new Promise<void>((resolve) => pair.b.once('end', () => resolve()));
    pair.a.end();
    await ended;
    const pipe = new BinaryMessagePipe(adoptForDirectRead(pair.b));
    const closed = new Promise<PipeCloseEvent>((resolve) => pipe.onClose(resolve));
    expect((await closed).reason).toBe('destroyed');
  });

  it('holds the peer back while no pipe reads, and a pipe made then still gets every message', async () => {
    const stream = adoptForDirectRead(pair.b);
    // A pipe that fails to open leaves the socket without a reader, as a channel given bad options does.
    expect(() => new BinaryMessagePipe(stream, { maxMessageSize: -1 })).toThrow(RangeError);
    const messages = Array.from({ length: 40 }, (_, i) => numbered(i, 256 * KiB));
    pair.a.write(wireBytes(messages, Infinity));
    await settle(20);
    // Not all taken: the OS holds the rest, as it would for any stream not read.
    expect(pair.a.writableLength).toBeGreaterThan(0);
    // Made over the same socket again (taking it over a second time would lose what it read meanwhile).
    const pipe = new BinaryMessagePipe(adoptForDirectRead(stream));
    const received: Buffer[] = [];
    pipe.onMessage((message) => received.push(Buffer.from(message)));
    await until(() => received.length === messages.length, 'every message');
    expectSameMessages(received, messages);
    pipe.close();
  });

  it('lets the bytes go once resumed with no pipe over it, so that it still closes at the end', async () => {
    const stream = adoptForDirectRead(pair.b);
    expect(() => new BinaryMessagePipe(stream, { maxMessageSize: -1 })).toThrow(RangeError);
    const closed = new Promise<void>((resolve) => stream.once('close', () => resolve()));
    pair.a.end(Buffer.alloc(4 * MiB));
    // As Node resumes a child's stdio streams when it exits, so that each reaches its end and the child closes.
    stream.resume();
    await closed;
    expect(stream.destroyed).toBe(true);
  });
});

describe('direct reads over a forked child on fd 4', () => {
  const children = new Set<ChildProcess>();
  afterEach(() => killAll(children));

  it('reads both ends directly, keeps stdio[4] naming the socket, and the child still closes after it exits', async () => {
    const { child, channel } = forkWithChannel(path.join(__dirname, 'fixtures', 'direct-read-child.js'));
    children.add(child);
    expect(directReadSourceOf(child.stdio[4] as Socket)).toBeDefined();
    const remote = new RpcPeer(channel).proxy<{ echo(bytes: Uint8Array): Uint8Array; directOnFd4(): boolean }>('echo');
    expect(await remote.directOnFd4()).toBe(true);
    const large = pattern(3 * MiB + 7, 9);
    const small = pattern(100, 4);
    const [a, b, c] = await Promise.all([remote.echo(large), remote.echo(small), remote.echo(large)]);
    expectSameMessages([a, b, c], [large, small, large]);
    const closed = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
    channel.close();
    expect(await closed).toBe(0);
  });
});
