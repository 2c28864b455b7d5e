import { BinaryMessagePipe } from '../src';
import { createUnixSocketPair, type SocketPair } from './helpers/streams';
import { until } from './helpers/wait';

const MiB = 1024 * 1024;

describe('BinaryMessagePipe backpressure', () => {
  let pair: SocketPair;
  afterEach(async () => {
    await pair?.dispose();
  });

  it('keeps a producer that respects send() and whenWritable() within the high-water mark, over 256 MiB', async () => {
    pair = await createUnixSocketPair();
    const highWaterMark = 4 * MiB;
    const messageSize = MiB;
    const total = 256 * MiB;
    const sender = new BinaryMessagePipe(pair.a, { highWaterMark });
    const receiver = new BinaryMessagePipe(pair.b);

    // The reader stops reading after every 8 MiB and picks up again a little later, so the producer is always
    // faster than the consumer and has to be held back.
    let receivedBytes = 0;
    let receivedMessages = 0;
    let outOfOrder = 0;
    let sinceLastPause = 0;
    receiver.onMessage((message) => {
      const view = Buffer.from(message.buffer, message.byteOffset, message.byteLength);
      // Each message carries its index at both ends: a lost, duplicated or torn message shows.
      if (view.readUInt32BE(0) !== receivedMessages || view.readUInt32BE(view.length - 4) !== receivedMessages) {
        outOfOrder++;
      }
      receivedMessages++;
      receivedBytes += message.byteLength;
      sinceLastPause += message.byteLength;
      if (sinceLastPause >= 8 * MiB) {
        sinceLastPause = 0;
        pair.b.pause();
        setTimeout(() => pair.b.resume(), 5);
      }
    });

    // Every message is a fresh buffer: the pipe may write a large one by reference.
    let maxPending = 0;
    let waits = 0;
    for (let i = 0; i < total / messageSize; i++) {
      const message = Buffer.alloc(messageSize);
      message.writeUInt32BE(i, 0);
      message.writeUInt32BE(i, messageSize - 4);
      const mayContinue = sender.send(message);
      maxPending = Math.max(maxPending, sender.pendingBytes);
      expect(mayContinue).toBe(!sender.needsDrain);
      if (!mayContinue) {
        waits++;
        await sender.whenWritable();
        expect(sender.needsDrain).toBe(false);
      }
    }
    await until(() => receivedBytes === total, 'the reader to get everything');

    expect(receivedMessages).toBe(total / messageSize);
    expect(outOfOrder).toBe(0);
    // A producer that waits when told never holds more than the mark plus the one message that crossed it.
    expect(maxPending).toBeLessThanOrEqual(highWaterMark + messageSize + 4);
    // Otherwise the reader was never slow enough for backpressure to matter and the bound proves nothing.
    expect(waits).toBeGreaterThan(10);
    expect(maxPending).toBeGreaterThanOrEqual(highWaterMark);
    sender.close();
    receiver.close();
  });

  it('fires onDrain after send() returned false, and only then', async () => {
    pair = await createUnixSocketPair();
    const sender = new BinaryMessagePipe(pair.a, { highWaterMark: 256 * 1024 });
    const receiver = new BinaryMessagePipe(pair.b);
    let received = 0;
    receiver.onMessage(() => received++);
    const drains: number[] = [];
    sender.onDrain(() => drains.push(received));

    expect(sender.send(Buffer.alloc(10))).toBe(true);
    await until(() => received === 1, 'the first message');
    expect(drains).toEqual([]);

    pair.b.pause();
    let sent = 1;
    while (sender.send(Buffer.alloc(128 * 1024))) sent++;
    sent++;
    expect(sender.needsDrain).toBe(true);
    pair.b.resume();
    await until(() => drains.length > 0, 'onDrain');
    expect(sender.needsDrain).toBe(false);
    await until(() => received === sent, 'every message');
    expect(drains).toHaveLength(1);
    sender.close();
    receiver.close();
  });
});
