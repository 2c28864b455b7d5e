// RequestOptions.streamWatcher: what a caller is told of its call's streams (the worker pool keeps a task's worker
// until they have ended).
import type { RemoteStream, StreamWatcher } from '../src';
import { protocolPair, tick } from './helpers/rpc';

/** Records what it is told, in order: an end with a failure as 'failed: ' and the error's name. */
function recorder(): StreamWatcher & { log: string[] } {
  const log: string[] = [];
  return {
    log,
    opened: () => log.push('opened'),
    ended: (failure) => log.push(failure ? `failed: ${(failure.error as Error).name}` : 'ended'),
  };
}

async function* failAfter(n: number): AsyncGenerator<number> {
  for (let i = 0; i < n; i++) yield i;
  throw new RangeError(`no more than ${n}`);
}

async function* upTo(n: number): AsyncGenerator<number> {
  for (let i = 0; i < n; i++) yield i;
}

function serve(): ReturnType<typeof protocolPair>[0] {
  const [client, server] = protocolPair();
  let kept: AsyncIterable<number> | undefined;
  server.registerTarget('svc', {
    call(method, args) {
      if (method === 'count') return upTo(args[0] as number);
      if (method === 'countThenFail') return failAfter(args[0] as number);
      if (method === 'add') return (args[0] as number) + (args[1] as number);
      if (method === 'keep') {
        kept = args[0] as AsyncIterable<number>;
        return 'kept';
      }
      if (method === 'readKept') {
        return (async () => {
          let total = 0;
          for await (const n of kept!) total += n;
          return total;
        })();
      }
      throw new Error(`no ${method}`);
    },
  });
  return client;
}

test('a stream in the reply is open from its arrival until it is read to its end', async () => {
  const client = serve();
  const watcher = recorder();
  const stream = (await client.request('svc', 'count', [3], { streamWatcher: watcher })) as RemoteStream<number>;
  expect(watcher.log).toEqual(['opened']);
  const items: number[] = [];
  for await (const n of stream) items.push(n);
  expect(items).toEqual([0, 1, 2]);
  expect(watcher.log).toEqual(['opened', 'ended']);
});

test('a consumer that leaves the stream ends it; a call without streams tells nothing', async () => {
  const client = serve();
  const watcher = recorder();
  const stream = (await client.request('svc', 'count', [1000], { streamWatcher: watcher })) as RemoteStream<number>;
  for await (const n of stream) if (n === 1) break;
  expect(watcher.log).toEqual(['opened', 'ended']);
  const plain = recorder();
  expect(await client.request('svc', 'add', [1, 2], { streamWatcher: plain })).toBe(3);
  expect(plain.log).toEqual([]);
});

test('a stream argument counts once the other side starts reading it, and ends when it is read', async () => {
  const client = serve();
  const watcher = recorder();
  expect(await client.request('svc', 'keep', [upTo(4)], { streamWatcher: watcher })).toBe('kept');
  await tick();
  // Not read yet: no work of the other side's.
  expect(watcher.log).toEqual([]);
  expect(await client.request('svc', 'readKept', [])).toBe(6);
  expect(watcher.log).toEqual(['opened', 'ended']);
});

test('streams cut with the connection end with a failure', async () => {
  const client = serve();
  const watcher = recorder();
  await client.request('svc', 'count', [1000], { streamWatcher: watcher });
  client.dispose();
  expect(watcher.log).toEqual(['opened', 'failed: ConnectionClosedError']);
});

test("a stream whose producer throws ends with the failure, in the reply and in the arguments", async () => {
  const client = serve();
  const watcher = recorder();
  const stream = (await client.request('svc', 'countThenFail', [2], { streamWatcher: watcher })) as RemoteStream<number>;
  const items: number[] = [];
  await expect(
    (async () => {
      for await (const n of stream) items.push(n);
    })(),
  ).rejects.toBeInstanceOf(RangeError);
  expect(items).toEqual([0, 1]);
  expect(watcher.log).toEqual(['opened', 'failed: RangeError']);

  const argument = recorder();
  expect(await client.request('svc', 'keep', [failAfter(1)], { streamWatcher: argument })).toBe('kept');
  await expect(client.request('svc', 'readKept', [])).rejects.toBeInstanceOf(RangeError);
  expect(argument.log).toEqual(['opened', 'failed: RangeError']);
});
