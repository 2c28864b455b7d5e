import { MessageChannel } from 'worker_threads';
import { MessagePortChannel } from '../src';
import { until } from './helpers/wait';

describe('MessagePortChannel', () => {
  function pair() {
    const { port1, port2 } = new MessageChannel();
    return [new MessagePortChannel(port1), new MessagePortChannel(port2)] as const;
  }

  test('a small message crosses as exactly its own bytes, not the pool around it', async () => {
    const [a, b] = pair();
    const received: Uint8Array[] = [];
    b.onMessage((read) => received.push(read().sliceAtReadPosition()));
    a.getWriteBuffer().writeRaw(new Uint8Array([1, 2, 3])).commit();
    await until(() => received.length === 1, 'the message');
    expect([...received[0]]).toEqual([1, 2, 3]);
    expect(received[0].buffer.byteLength).toBe(3);
    a.close();
  });

  test('many messages of one tick arrive in order; large ones intact; close reaches the other side', async () => {
    const [a, b] = pair();
    const received: Buffer[] = [];
    b.onMessage((read) => received.push(Buffer.from(read().sliceAtReadPosition())));
    const closed = new Promise((resolve) => b.onClose(resolve));
    const big = Buffer.alloc(1024 * 1024);
    for (let i = 0; i < big.length; i++) big[i] = (i * 7) & 0xff;
    for (let i = 0; i < 1000; i++) {
      a.getWriteBuffer().writeUint32(i).commit();
      if (i === 500) a.getWriteBuffer().writeRaw(big).commit();
    }
    await until(() => received.length === 1001, 'every message');
    const small = received.filter((m) => m.length === 4).map((m) => m.readUInt32BE(0));
    expect(small).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect(received[501].equals(big)).toBe(true);
    a.close();
    expect(await closed).toMatchObject({ kind: 'remote' });
  });
});
