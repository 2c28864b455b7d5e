import { InMemoryChannel, RemoteStream, StreamError } from '../src';
import { Callee, Invoker } from '../src/event-invoke';
import { DisposableStore, Emitter as VsEmitter, ProxyChannel, type Event, type IServerChannel } from '../src/vscode';
import { RpcProtocol as TheiaRpcProtocol } from '../src/theia';
import { TestIPCServer } from './vscode/helpers';
import { linkedChannels } from './theia/helpers';
import { outcome } from './helpers/rpc';

async function* numbers(n: number) {
  for (let i = 0; i < n; i++) yield i;
}

async function collect<T>(stream: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of stream) items.push(item);
  return items;
}

async function sum(values: AsyncIterable<number>): Promise<number> {
  let total = 0;
  for await (const value of values) total += value;
  return total;
}

describe('streams through every face', () => {
  test('event-invoke: a Callee function returns a stream and takes one, over an fdpipe channel', async () => {
    const [a, b] = InMemoryChannel.createPair();
    const callee = new Callee(a).register({ numbers, sum }).listen();
    const invoker = new Invoker<{ numbers: typeof numbers; sum: typeof sum }>(b);
    const stream = (await invoker.invoke('numbers', 5)) as unknown as RemoteStream<number>;
    expect(stream).toBeInstanceOf(RemoteStream);
    expect(await collect(stream)).toEqual([0, 1, 2, 3, 4]);
    expect(await invoker.invoke('sum', [numbers(11)])).toBe(55);
    invoker.destroy();
    callee.destroy();
  });

  test('event-invoke over packets (Node IPC) refuses a stream argument with a clear error', async () => {
    const { port1, port2 } = new MessageChannel();
    const callee = new Callee(port1).register({ sum }).listen();
    const invoker = new Invoker(port2);
    const result = await outcome(invoker.invoke('sum', [numbers(3)]));
    expect((result as { error: Error }).error.message).toMatch(/event-invoke packets cannot carry streams/);
    invoker.destroy();
    callee.destroy();
    port1.close();
    port2.close();
  });

  test('VS Code: a server channel’s call returns a stream, its events carry one, and ProxyChannel reads it', async () => {
    const fired = new VsEmitter<AsyncIterable<number>>();
    const channel: IServerChannel<string> = {
      call: async <T>(_ctx: string, command: string, arg?: unknown): Promise<T> => {
        if (command === 'numbers') return numbers(arg as number) as T;
        if (command === 'sum') return (await sum(arg as AsyncIterable<number>)) as T;
        throw new Error(`no ${command}`);
      },
      listen: <T>(_ctx: string, event: string): Event<T> => {
        if (event === 'onStream') return fired.event as unknown as Event<T>;
        throw new Error(`no ${event}`);
      },
    };
    const server = new TestIPCServer();
    server.registerChannel('streams', channel);
    server.registerChannel('service', ProxyChannel.fromService({ numbers }, new DisposableStore()));
    const client = server.createConnection('client1');
    const remote = client.getChannel('streams');
    expect(await collect(await remote.call<AsyncIterable<number>>('numbers', 3))).toEqual([0, 1, 2]);
    expect(await remote.call('sum', numbers(5))).toBe(10);
    const received: AsyncIterable<number>[] = [];
    const listening = remote.listen<AsyncIterable<number>>('onStream')((stream) => received.push(stream));
    for (let i = 0; i < 5 && received.length === 0; i++) {
      fired.fire(numbers(2));
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(await collect(received[0])).toEqual([0, 1]);
    listening.dispose();
    const service = ProxyChannel.toService<{ numbers(n: number): AsyncIterable<number> }>(client.getChannel('service'));
    const seen: number[] = [];
    for await (const value of service.numbers(4)) seen.push(value);
    expect(seen).toEqual([0, 1, 2, 3]);
    client.dispose();
    server.dispose();
  });

  test('Theia: a request handler returns a stream, and takes one', async () => {
    const { left, right } = linkedChannels('later');
    const server = new TheiaRpcProtocol(right, async (method, args) => {
      if (method === 'numbers') return numbers(args[0]);
      if (method === 'sum') return sum(args[0]);
      throw new Error(method);
    });
    const client = new TheiaRpcProtocol(left, undefined, { mode: 'clientOnly' });
    expect(await collect(await client.sendRequest<AsyncIterable<number>>('numbers', [4]))).toEqual([0, 1, 2, 3]);
    expect(await client.sendRequest('sum', [numbers(4)])).toBe(6);
    const stream = await client.sendRequest<AsyncIterable<number>>('numbers', [2]);
    await collect(stream);
    await expect(collect(stream)).rejects.toBeInstanceOf(StreamError);
    server.dispose?.();
    client.dispose?.();
  });
});
