import { ChannelClosedError, InMemoryChannel, ListenerError, type ChannelCloseEvent } from '../src';
import { settle, until } from './helpers/wait';

function watch(channel: InMemoryChannel) {
  const log = { messages: [] as number[], closes: [] as ChannelCloseEvent[], errors: [] as Error[] };
  channel.onMessage((read) => log.messages.push(read().readUint32()));
  channel.onClose((e) => log.closes.push(e));
  channel.onError((e) => log.errors.push(e));
  return log;
}

describe('InMemoryChannel', () => {
  it('delivers messages in order, both ways, on a later tick', async () => {
    const [a, b] = InMemoryChannel.createPair();
    const atA = watch(a);
    const atB = watch(b);
    for (let i = 0; i < 10_000; i++) {
      a.getWriteBuffer().writeUint32(i).commit();
      b.getWriteBuffer().writeUint32(i * 2).commit();
    }
    // Never synchronously: a sender must not re-enter its own code through the receiver's listener.
    expect(atB.messages).toEqual([]);
    await until(() => atA.messages.length === 10_000 && atB.messages.length === 10_000, 'all messages');
    expect(atB.messages).toEqual(Array.from({ length: 10_000 }, (_, i) => i));
    expect(atA.messages).toEqual(Array.from({ length: 10_000 }, (_, i) => i * 2));
  });

  it('gives each listener its own reader over the same message', async () => {
    const [a, b] = InMemoryChannel.createPair();
    const reads: string[] = [];
    b.onMessage((read) => reads.push(read().readString()));
    b.onMessage((read) => {
      const reader = read();
      reads.push(`${reader.readString()}|${reader.readString()}`);
    });
    a.getWriteBuffer().writeString('one').writeString('two').commit();
    await until(() => reads.length === 2, 'both listeners');
    expect(reads).toEqual(['one', 'one|two']);
  });

  it.each(['a', 'b'] as const)('closes both ends when %s closes, after delivering what was sent', async (closer) => {
    const [a, b] = InMemoryChannel.createPair();
    const atA = watch(a);
    const atB = watch(b);
    const [closing, other] = closer === 'a' ? [a, b] : [b, a];
    const [closingLog, otherLog] = closer === 'a' ? [atA, atB] : [atB, atA];
    closing.getWriteBuffer().writeUint32(1).commit();
    closing.getWriteBuffer().writeUint32(2).commit();
    closing.close();
    expect(closingLog.closes).toEqual([{ kind: 'local', reason: expect.any(String) }]);
    expect(closing.isClosed).toBe(true);
    await until(() => otherLog.closes.length > 0, 'the other side to close');
    expect(otherLog.messages).toEqual([1, 2]);
    expect(otherLog.closes).toEqual([{ kind: 'remote', reason: expect.any(String) }]);
    expect(other.isClosed).toBe(true);

    closing.close();
    other.close();
    await settle();
    expect(closingLog.closes).toHaveLength(1);
    expect(otherLog.closes).toHaveLength(1);
  });

  it('refuses to send after close', async () => {
    const [a, b] = InMemoryChannel.createPair();
    const atB = watch(b);
    const before = a.getWriteBuffer().writeUint32(7);
    a.close();
    expect(() => a.getWriteBuffer()).toThrow(ChannelClosedError);
    expect(() => before.commit()).toThrow(ChannelClosedError);
    await until(() => b.isClosed, 'the peer to close');
    expect(() => b.getWriteBuffer()).toThrow(ChannelClosedError);
    expect(atB.messages).toEqual([]);
  });

  it('reports a throwing listener as ListenerError and keeps delivering', async () => {
    const [a, b] = InMemoryChannel.createPair();
    const atB = watch(b);
    b.onMessage((read) => {
      if (read().readUint32() === 1) throw new Error('listener bug');
    });
    for (const n of [0, 1, 2]) a.getWriteBuffer().writeUint32(n).commit();
    await until(() => atB.messages.length === 3, 'all messages');
    expect(atB.messages).toEqual([0, 1, 2]);
    expect(atB.errors).toHaveLength(1);
    expect(atB.errors[0]).toBeInstanceOf(ListenerError);
  });

  it('rejects whenWritable() once closed', async () => {
    const [a] = InMemoryChannel.createPair();
    await expect(a.whenWritable()).resolves.toBeUndefined();
    a.close();
    await expect(a.whenWritable()).rejects.toThrow(/closed/);
  });
});
