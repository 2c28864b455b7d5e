import { ConnectionClosedError, RpcPeer, type RemoteStream } from '../src';
import { forkWithChannel } from '../src';
import { join } from 'path';
import type { ChildProcess } from 'child_process';
import { outcome, tick } from './helpers/rpc';

interface Counters {
  produced: number;
  producedBytes: number;
  finished: boolean;
  consumed: number;
  maxBuffered: number;
}
interface Worker {
  produce(size: number): AsyncGenerator<number | Uint8Array>;
  failAfter(n: number): AsyncGenerator<number>;
  consumeSlowly(stream: AsyncIterable<unknown>, limit: number): Promise<number>;
  counters(): Counters;
}

const children = new Set<ChildProcess>();
afterEach(() => {
  for (const child of children) child.kill('SIGKILL');
  children.clear();
});

const WINDOW = { items: 8, bytes: 128 * 1024 };

function connect() {
  const { child, channel } = forkWithChannel(join(__dirname, 'fixtures', 'stream-worker.js'), [], {
    channel: { exitGraceMs: 20000 },
  });
  children.add(child);
  const rpc = new RpcPeer(channel, { streamWindow: WINDOW });
  return { child, rpc, worker: rpc.proxy<Worker>('worker') };
}

/** A generator that counts what it gave and whether it was returned. */
function counted(size: number) {
  const state = { produced: 0, finished: false };
  async function* items() {
    try {
      for (;;) {
        state.produced++;
        yield Buffer.alloc(size, 1);
      }
    } finally {
      state.finished = true;
    }
  }
  return { state, items: items() };
}

describe('streams between real processes', () => {
  test('child → parent: a fast producer stays within the slow reader’s item window', async () => {
    const { worker } = connect();
    const stream = (await worker.produce(0)) as unknown as RemoteStream<number>;
    let consumed = 0;
    for await (const value of stream) {
      expect(value).toBe(++consumed);
      for (let i = 0; i < 3; i++) await tick();
      if (consumed % 10 === 0) {
        // Asked after `consumed` items were read: the producer cannot be further ahead than the window.
        expect((await worker.counters()).produced).toBeLessThanOrEqual(consumed + WINDOW.items);
        expect(stream.buffered.items).toBeLessThanOrEqual(WINDOW.items);
      }
      if (consumed === 200) break;
    }
    const after = await worker.counters();
    expect(after.produced).toBeGreaterThan(consumed);
    for (let i = 0; i < 50 && !(await worker.counters()).finished; i++) await tick();
    expect((await worker.counters()).finished).toBe(true);
  });

  test('child → parent: 32 KiB chunks stay within the byte window', async () => {
    const { worker } = connect();
    const size = 32 * 1024;
    let consumedBytes = 0;
    for await (const chunk of (await worker.produce(size)) as AsyncIterable<Uint8Array>) {
      expect(chunk.byteLength).toBe(size);
      consumedBytes += size;
      await tick();
      if (consumedBytes % (10 * size) === 0) {
        const { producedBytes } = await worker.counters();
        // One chunk may go while any credit is left.
        expect(producedBytes).toBeLessThanOrEqual(consumedBytes + WINDOW.bytes + size);
      }
      if (consumedBytes >= 8 * 1024 * 1024) break;
    }
  });

  test('parent → child: the parent’s producer stays within the child’s window (16 items)', async () => {
    const { worker } = connect();
    const { state, items } = counted(100);
    const consuming = worker.consumeSlowly(items, 300);
    let checks = 0;
    while (state.produced < 300 && checks < 10_000) {
      await tick();
      const producedBefore = state.produced;
      if (++checks % 20 !== 0) continue;
      const { consumed, maxBuffered } = await worker.counters();
      expect(producedBefore).toBeLessThanOrEqual(consumed + 16);
      expect(maxBuffered).toBeLessThanOrEqual(16);
    }
    expect(await consuming).toBe(300);
    // The child broke out of its loop: this side's generator was returned.
    for (let i = 0; i < 100 && !state.finished; i++) await tick();
    expect(state.finished).toBe(true);
  });

  test('a producer error in the child reaches the parent’s loop with its class', async () => {
    const { worker } = connect();
    const seen: number[] = [];
    const result = await outcome(
      (async () => {
        for await (const value of await worker.failAfter(5)) seen.push(value);
      })(),
    );
    expect(seen).toEqual([0, 1, 2, 3, 4]);
    expect((result as { error: unknown }).error).toBeInstanceOf(RangeError);
  });

  test('SIGKILL of the producing child ends the parent’s loop with ConnectionClosedError', async () => {
    const { worker, child, rpc } = connect();
    let seen = 0;
    const result = await outcome(
      (async () => {
        for await (const _ of await worker.produce(1000)) if (++seen === 20) child.kill('SIGKILL');
      })(),
    );
    expect((result as { error: unknown }).error).toBeInstanceOf(ConnectionClosedError);
    expect(rpc.protocol.streamCounts).toEqual({ producing: 0, consuming: 0 });
  });

  test('SIGKILL of the consuming child returns the parent’s producer', async () => {
    const { worker, child, rpc } = connect();
    const { state, items } = counted(1000);
    const consuming = outcome(worker.consumeSlowly(items, Infinity));
    while (state.produced < 20) await tick();
    child.kill('SIGKILL');
    expect((await consuming as { error: unknown }).error).toBeInstanceOf(ConnectionClosedError);
    for (let i = 0; i < 100 && !state.finished; i++) await tick();
    expect(state.finished).toBe(true);
    expect(rpc.protocol.streamCounts.producing).toBe(0);
  });
});
