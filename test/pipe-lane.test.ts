// The bulk lane (PROTOCOL.md, "Bulk lane"): messages of 256 KiB to 2 MiB go through a shared-memory file, the
// stream carrying only notices of their pieces. Two pipes over a real socket pair share a real /dev/shm file here;
// ipc-channel-lane.test.ts runs the same through forked children.
import { randomBytes } from 'crypto';
import { closeSync, ftruncateSync, openSync, unlinkSync } from 'fs';
import { join } from 'path';
import fc from 'fast-check';
import { BinaryMessagePipe, BulkLaneError, MalformedFrameError, MessageTooLargeError, TruncatedFrameError } from '../src';
import { BulkLane, LANE_MESSAGE_FROM, LANE_MESSAGE_UP_TO, LANE_PIECE_SIZE, LANE_REGION_SIZE } from '../src/pipe/BulkLane';
import { LANE_MESSAGE, LANE_RELEASE } from '../src/pipe/frame';
import { LaneSpace } from '../src/pipe/LaneSpace';
import { expectSameMessages, pattern } from './helpers/bytes';
import { createUnixSocketPair, type SocketPair } from './helpers/streams';
import { next, until } from './helpers/wait';

const KiB = 1024;
const MiB = 1024 * KiB;

describe('LaneSpace', () => {
  it('hands out runs in a ring, takes them back oldest first, and wraps to the start', () => {
    const space = new LaneSpace(100);
    expect(space.claim(40)).toBe(0);
    expect(space.claim(40)).toBe(40);
    expect(space.claim(40)).toBeUndefined(); // 20 left at the end, and the start is taken
    expect(space.release(40, 40)).toBe(false); // not the oldest
    expect(space.release(0, 40)).toBe(true);
    expect(space.claim(30)).toBe(0); // wraps: 20 at the end is too little
    expect(space.claim(20)).toBeUndefined(); // 10 free before the oldest (at 40)
    expect(space.claim(10)).toBe(30);
    expect(space.release(40, 40)).toBe(true);
    expect(space.claim(60)).toBe(40);
    expect(space.claimedBytes).toBe(100);
    space.unclaim();
    expect(space.claimedBytes).toBe(40);
    expect(space.release(0, 30)).toBe(true);
    expect(space.release(30, 10)).toBe(true);
    expect(space.claimedBytes).toBe(0);
    expect(space.claim(100)).toBe(0);
    expect(space.claim(1)).toBeUndefined();
    expect(new LaneSpace(10).claim(11)).toBeUndefined();
  });

  it('never hands out overlapping runs or runs past its end, whatever the order of claims and releases', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.integer({ min: 1, max: 70 }), fc.constant(0)), { maxLength: 200 }), (steps) => {
        const size = 100;
        const space = new LaneSpace(size);
        const held: Array<[number, number]> = [];
        for (const step of steps) {
          if (step === 0) {
            if (held.length === 0) continue;
            const [offset, length] = held.shift()!;
            if (!space.release(offset, length)) return false;
            continue;
          }
          const at = space.claim(step);
          if (at === undefined) {
            // The ring takes space only after the newest run or, wrapping, before the oldest, so a free run elsewhere
            // may go unused; but with nothing held, any length up to the size fits.
            if (held.length === 0) return false;
            continue;
          }
          if (at < 0 || at + step > size) return false;
          for (const [offset, length] of held) if (at < offset + length && offset < at + step) return false;
          held.push([at, step]);
        }
        return space.claimedBytes === held.reduce((sum, [, length]) => sum + length, 0);
      }),
    );
  });
});

/**
 * Both ends of one lane file in /dev/shm, as a parent and its child would hold them. `breakMaker()` makes every
 * later write of the maker fail, as a file cut short on a full tmpfs would: its descriptor's number comes to name
 * the file opened read-only.
 */
function lanePair(options: { makerReadOnly?: boolean } = {}): { maker: BulkLane; joiner: BulkLane; breakMaker(): void } {
  const path = join('/dev/shm', `fdpipe-lane-test-${process.pid}-${randomBytes(4).toString('hex')}`);
  const makerFd = openSync(path, 'wx+', 0o600);
  const joinerFd = openSync(path, 'r+');
  unlinkSync(path);
  ftruncateSync(makerFd, 2 * LANE_REGION_SIZE);
  let fd = makerFd;
  if (options.makerReadOnly) {
    // A maker that cannot write its region: every write fails, as on a full tmpfs.
    fd = openSync(`/proc/self/fd/${makerFd}`, 'r');
    closeSync(makerFd);
  }
  return {
    maker: new BulkLane(fd, LANE_REGION_SIZE, 'maker', false),
    joiner: new BulkLane(joinerFd, LANE_REGION_SIZE, 'joiner', true),
    breakMaker() {
      closeSync(fd);
      // A new descriptor takes the lowest free number: lower ones may be free too, and are held until it is fd's.
      const readOnly = () => openSync(`/proc/self/fd/${joinerFd}`, 'r');
      const lower: number[] = [];
      for (let got = readOnly(); got !== fd; got = readOnly()) {
        if (got > fd) throw new Error(`descriptor ${fd} was taken meanwhile`);
        lower.push(got);
      }
      for (const extra of lower) closeSync(extra);
    },
  };
}

describe('pipes with a bulk lane', () => {
  let pair: SocketPair;
  const pipes: BinaryMessagePipe[] = [];
  beforeEach(async () => {
    pair = await createUnixSocketPair();
  });
  afterEach(async () => {
    for (const pipe of pipes.splice(0)) pipe.close();
    await pair.dispose();
  });

  function open(options: { makerReadOnly?: boolean } = {}) {
    const { maker, joiner, breakMaker } = lanePair(options);
    const parent = new BinaryMessagePipe(pair.a, { lane: maker });
    const child = new BinaryMessagePipe(pair.b, { lane: joiner });
    pipes.push(parent, child);
    const fromParent: Uint8Array[] = [];
    const fromChild: Uint8Array[] = [];
    child.onMessage((m) => fromParent.push(m));
    parent.onMessage((m) => fromChild.push(m));
    return { parent, child, fromParent, fromChild, maker, breakMaker };
  }

  /**
   * Two messages that fill the parent's region one after the other, each answered by the child once read (so its
   * release has come back before the answer): every later message lands in space written before.
   */
  async function fillRegion(opened: ReturnType<typeof open>): Promise<Uint8Array[]> {
    const { parent, child, fromParent, fromChild } = opened;
    await until(() => parent.bulkLane!.open, 'the lane to open');
    const sent = [pattern(LANE_MESSAGE_UP_TO, 1), pattern(LANE_MESSAGE_UP_TO, 2)];
    expect(2 * LANE_MESSAGE_UP_TO).toBe(LANE_REGION_SIZE);
    for (const [i, message] of sent.entries()) {
      parent.send(message);
      await until(() => fromParent.length === i + 1, 'the message');
      child.send(pattern(1, i));
      await until(() => fromChild.length === i + 1, 'the answer');
    }
    expect(parent.bulkLane!.sent).toBe(2);
    return sent;
  }

  /** The sizes of the maker's lane writes from now on, and whether each succeeded. */
  function watchWrites(maker: BulkLane, before?: (count: number) => void): Array<[number, boolean]> {
    const write = maker.write.bind(maker);
    const writes: Array<[number, boolean]> = [];
    jest.spyOn(maker, 'write').mockImplementation((at, chunks, size) => {
      before?.(writes.length + 1);
      const ok = write(at, chunks, size);
      writes.push([size, ok]);
      return ok;
    });
    return writes;
  }

  const sizes = [100, LANE_MESSAGE_FROM - 1, LANE_MESSAGE_FROM, 300 * KiB, MiB, LANE_MESSAGE_UP_TO, LANE_MESSAGE_UP_TO + 1, 5 * MiB];

  it('carries messages of every size both ways, in order and intact; those in range through the lane', async () => {
    const { parent, child, fromParent, fromChild } = open();
    // The parent's side opens once the child's end has said it reads the lane.
    await until(() => parent.bulkLane!.open, 'the child to say it reads the lane');
    expect(child.bulkLane!.open).toBe(true);
    const sent = sizes.map((size, i) => pattern(size, i));
    for (const message of sent) {
      parent.send(message);
      child.send(message);
      // One at a time, as a caller waiting for each reply would: each finds the lane free.
      await until(() => fromParent.length === fromChild.length && fromChild.length === sent.indexOf(message) + 1, 'the message both ways');
    }
    expectSameMessages(fromParent, sent);
    expectSameMessages(fromChild, sent);
    const inRange = sizes.filter((size) => size >= LANE_MESSAGE_FROM && size <= LANE_MESSAGE_UP_TO).length;
    expect(parent.bulkLane).toEqual({ open: true, sent: inRange, received: inRange });
    expect(child.bulkLane).toEqual({ open: true, sent: inRange, received: inRange });
  });

  it('sends through the stream until the other side has said it reads the lane', async () => {
    const { parent, fromParent } = open();
    // Sent in the same turn the pipes were made: the child's word has not come yet.
    parent.send(pattern(MiB, 1));
    await until(() => fromParent.length === 1, 'the message');
    expectSameMessages(fromParent, [pattern(MiB, 1)]);
    expect(parent.bulkLane).toEqual({ open: true, sent: 0, received: 0 });
  });

  it('keeps the order of a burst larger than the lane holds: what finds no room goes through the stream', async () => {
    const { parent, fromParent } = open();
    await until(() => parent.bulkLane!.open, 'the lane to open');
    // Each a little larger than the one before: none may pass another (only a smaller message passes a larger one).
    const sent = Array.from({ length: 24 }, (_, i) => pattern(MiB + 1000 * i, i));
    for (const message of sent) parent.send(message);
    await until(() => fromParent.length === sent.length, 'the whole burst');
    expectSameMessages(fromParent, sent);
    const { sent: throughLane } = parent.bulkLane!;
    expect(throughLane).toBeGreaterThan(0);
    expect(throughLane).toBeLessThan(sent.length);
  });

  it('keeps small messages sent around a lane message in order with it', async () => {
    const { parent, fromParent } = open();
    await until(() => parent.bulkLane!.open, 'the lane to open');
    const sent = [pattern(10, 1), pattern(MiB, 2), pattern(20, 3), pattern(MiB, 4), pattern(30, 5)];
    for (const message of sent) parent.send(message);
    await until(() => fromParent.length === sent.length, 'every message');
    expectSameMessages(fromParent, sent);
    expect(parent.bulkLane!.sent).toBe(2);
  });

  it('falls back to the stream for good when a write to the lane fails (a full tmpfs)', async () => {
    const { parent, fromParent } = open({ makerReadOnly: true });
    await until(() => parent.bulkLane!.open, 'the lane to open');
    const sent = [pattern(MiB, 1), pattern(MiB, 2)];
    for (const message of sent) parent.send(message);
    await until(() => fromParent.length === 2, 'both messages');
    expectSameMessages(fromParent, sent);
    expect(parent.bulkLane).toEqual({ open: false, sent: 0, received: 0 });
  });

  it('sends a message through the stream when the lane fails at its first piece in space written before', async () => {
    const opened = open();
    const { parent, fromParent, maker, breakMaker } = opened;
    const sent = await fillRegion(opened);
    const writes = watchWrites(maker);
    breakMaker();
    const errors: Error[] = [];
    parent.onError((error) => errors.push(error));
    const more = [pattern(MiB, 3), pattern(MiB, 4)];
    for (const message of more) parent.send(message);
    await until(() => fromParent.length === 4, 'the later messages');
    expectSameMessages(fromParent, [...sent, ...more]);
    // One piece tried, in space written before; then the lane was off.
    expect(writes).toEqual([[LANE_PIECE_SIZE, false]]);
    expect(parent.bulkLane).toEqual({ open: false, sent: 2, received: 0 });
    expect(parent.isClosed).toBe(false);
    expect(errors).toEqual([]);
  });

  /** The maker's second lane write from now on fails, as a file cut short under it would: after one piece went. */
  function failAtSecondPiece(opened: ReturnType<typeof open>): Array<[number, boolean]> {
    return watchWrites(opened.maker, (count) => count === 2 && opened.breakMaker());
  }

  it('closes the pipe with BulkLaneError, not a throw from send(), when the lane fails in the middle of a message', async () => {
    const opened = open();
    const { parent, child, fromParent } = opened;
    const sent = await fillRegion(opened);
    const writes = failAtSecondPiece(opened);
    const errors: Error[] = [];
    parent.onError((error) => errors.push(error));
    const parentClosed = next(parent.onClose);
    const childClosed = next(child.onClose);
    // Queued when the lane fails, more than the socket takes at once: they still reach the child.
    const before = Array.from({ length: 20 }, (_, i) => pattern(200 * KiB, 10 + i));
    for (const message of before) parent.send(message);
    expect(() => parent.send(pattern(LANE_MESSAGE_UP_TO, 3))).not.toThrow();
    // Sent after the lost message, in order or not: never written.
    parent.send(pattern(100, 4), { inOrder: true });
    parent.send(pattern(100, 5));
    const closed = await parentClosed;
    expect(writes).toEqual([
      [LANE_PIECE_SIZE, true],
      [LANE_PIECE_SIZE, false],
    ]);
    expect(closed.reason).toBe('error');
    expect(closed.error).toBeInstanceOf(BulkLaneError);
    expect(closed.error).toMatchObject({ sent: LANE_PIECE_SIZE, total: LANE_MESSAGE_UP_TO });
    expect(closed.error!.message).toMatch(/message is lost, so the pipe closes.*bulkLane: false/);
    expect(errors).toEqual([closed.error]);
    // The lost message is not counted as sent through the lane.
    expect(parent.bulkLane).toMatchObject({ open: false, sent: 2 });
    // The child had every message before it, and learns that the one under way was cut off.
    const childEvent = await childClosed;
    expect(childEvent.reason).toBe('error');
    expect(childEvent.error).toBeInstanceOf(TruncatedFrameError);
    expectSameMessages(fromParent, [...sent, ...before]);
  });

  it('reports the lost message even when close() comes in the same tick as the failure', async () => {
    const opened = open();
    const { parent, child, fromParent } = opened;
    const sent = await fillRegion(opened);
    failAtSecondPiece(opened);
    const errors: Error[] = [];
    parent.onError((error) => errors.push(error));
    const parentClosed = next(parent.onClose);
    const childClosed = next(child.onClose);
    parent.send(pattern(LANE_MESSAGE_UP_TO, 3));
    parent.close();
    const closed = await parentClosed;
    expect(closed.reason).toBe('error');
    expect(closed.error).toBeInstanceOf(BulkLaneError);
    expect(errors).toEqual([closed.error]);
    expect((await childClosed).error).toBeInstanceOf(TruncatedFrameError);
    expectSameMessages(fromParent, sent);
  });
});

describe('a peer that breaks the lane protocol', () => {
  let pair: SocketPair;
  beforeEach(async () => {
    pair = await createUnixSocketPair();
  });
  afterEach(() => pair.dispose());

  /** A pipe on one end (with a lane, or without), the raw socket on the other. */
  function receiver(withLane: boolean, maxMessageSize?: number) {
    const lane = withLane ? lanePair().joiner : undefined;
    const pipe = new BinaryMessagePipe(pair.b, { lane, maxMessageSize });
    const messages: number[] = [];
    pipe.onMessage((m) => messages.push(m.byteLength));
    const errors: Error[] = [];
    pipe.onError((error) => errors.push(error));
    return { pipe, messages, errors, closed: next(pipe.onClose) };
  }

  const frame = (...words: number[]) => {
    const bytes = Buffer.alloc(4 * words.length);
    words.forEach((word, i) => bytes.writeUInt32BE(word, 4 * i));
    return bytes;
  };
  const small = Buffer.concat([frame(3), Buffer.from('abc')]);

  it.each([
    ['a lane message over a pipe without a lane', false, frame(LANE_MESSAGE, 0, MiB, 128 * KiB), 'unexpected-lane-frame'],
    ['a piece past the lane region', true, frame(LANE_MESSAGE, LANE_REGION_SIZE - 10, MiB, 128 * KiB), 'bad-lane-message'],
    [
      'a piece that does not follow the one before',
      true,
      Buffer.concat([frame(LANE_MESSAGE, 0, MiB, 128 * KiB), frame(LANE_MESSAGE, 0, MiB, 128 * KiB)]),
      'bad-lane-message',
    ],
    ['a release of what was never sent', true, frame(LANE_RELEASE, 0, MiB), 'bad-lane-release'],
    ['an empty piece', true, frame(LANE_MESSAGE, 0, 0, 0), 'bad-lane-message'],
  ])('%s: MalformedFrameError, after the messages before it', async (_what, withLane, bad, problem) => {
    const { messages, errors, closed } = receiver(withLane);
    pair.a.write(Buffer.concat([small, bad, small]));
    const event = await closed;
    expect(messages).toEqual([3]);
    expect(event.error).toBeInstanceOf(MalformedFrameError);
    expect((event.error as MalformedFrameError).problem).toBe(problem);
    expect(errors).toEqual([event.error]);
  });

  it('a stream that ends between the pieces of a lane message: TruncatedFrameError', async () => {
    const { messages, closed } = receiver(true);
    pair.a.end(Buffer.concat([small, frame(LANE_MESSAGE, 0, MiB, 128 * KiB)]));
    const event = await closed;
    expect(messages).toEqual([3]);
    expect(event.error).toBeInstanceOf(TruncatedFrameError);
    expect(event.error).toMatchObject({ expected: MiB, received: 128 * KiB });
  });

  it('a lane message over the size limit: MessageTooLargeError, from its first notice', async () => {
    const { messages, closed } = receiver(true, 512 * KiB);
    pair.a.write(Buffer.concat([small, frame(LANE_MESSAGE, 0, MiB, 128 * KiB)]));
    const event = await closed;
    expect(messages).toEqual([3]);
    expect(event.error).toBeInstanceOf(MessageTooLargeError);
  });
});
