import { EventEmitter } from 'events';
import {
  Callee,
  InMemoryChannel,
  Invoker,
  MessageEndpointChannel,
  RpcProtocol,
  type ChannelCloseEvent,
  type Event,
} from '../src';
import * as wire from '../src/rpc/protocol/wire';
import { gate } from './helpers/eventInvoke';
import { settle, until } from './helpers/wait';

// A protocol ends (dispose, a Goodbye) while the channel stays open, and another starts on it: nothing of the old
// one may leak into the new one, in either direction.
describe('a new protocol on a channel that had one', () => {
  test('a serving side started again is called again: it says hello, so the caller stops treating it as gone', async () => {
    const [a, b] = InMemoryChannel.createPair();
    const invoker = new Invoker(a);
    let callee = new Callee(b).register({ ping: () => 'pong' }).listen();
    expect(await invoker.invoke('ping')).toBe('pong');
    callee.destroy();
    callee = new Callee(b).register({ ping: () => 'pong v2' }).listen();
    await settle();
    expect(await invoker.invoke('ping')).toBe('pong v2');
    invoker.destroy();
    callee.destroy();
  });

  test("a late reply to the old protocol's call never answers a call of the new one", async () => {
    const [a, b] = InMemoryChannel.createPair();
    const slowStarted = gate();
    const slowResult = gate<string>();
    const callee = new Callee(b)
      .register({
        slow: () => {
          slowStarted.open();
          return slowResult.promise;
        },
        fast: () => 'fast',
      })
      .listen();
    const first = new Invoker(a);
    first.invoke('slow').catch(() => {});
    await slowStarted.promise;
    first.destroy();
    const second = new Invoker(a);
    const fast = second.invoke('fast');
    // The old call's reply goes out while the new call (which may well have the same id) is pending.
    slowResult.open('slow');
    expect(await fast).toBe('fast');
    second.destroy();
    callee.destroy();
  });

  test('a reply already on its way when the caller disposed is not taken by the next protocol', async () => {
    const [a, b] = InMemoryChannel.createPair();
    const first = new RpcProtocol(a);
    let second: Promise<unknown> | undefined;
    const server = new RpcProtocol(b);
    server.setRequestHandler((method) => {
      if (method === 'x') {
        first.dispose();
        second = new RpcProtocol(a).sendRequest('y');
      }
      return `${method}-result`;
    });
    first.sendRequest('x').catch(() => {});
    await until(() => second !== undefined, 'the second request');
    expect(await second).toBe('y-result');
    server.dispose();
  });
});

describe('shutting down, whatever the services do', () => {
  test('a served subscription whose dispose throws is reported, and the rest still ends and closes', async () => {
    const [a, b] = InMemoryChannel.createPair();
    const server = new RpcProtocol(b);
    const client = new RpcProtocol(a);
    const reported: Error[] = [];
    server.onError((error) => reported.push(error));
    const brokenEvent: Event<unknown> = () => ({
      dispose() {
        throw new Error('dispose failed');
      },
    });
    let aborted = false;
    server.registerTarget('svc', {
      listen: () => brokenEvent,
      call: (_method, args) =>
        new Promise(() => (args[0] as AbortSignal).addEventListener('abort', () => (aborted = true))),
    });
    client.listen('svc', 'onX')(() => {});
    client.request('svc', 'work', [], { signal: new AbortController().signal }).catch(() => {});
    await settle();
    const closed: ChannelCloseEvent[] = [];
    server.onClose((event) => closed.push(event));
    a.close();
    await until(() => closed.length === 1, 'the server to close');
    expect({ closed: closed.length, aborted }).toEqual({ closed: 1, aborted: true });
    expect(reported.map((error) => error.message)).toEqual(['dispose failed']);
  });

  test('a result whose then() throws rejects the call instead of leaving it waiting', async () => {
    const [a, b] = InMemoryChannel.createPair();
    const server = new RpcProtocol(b);
    server.setRequestHandler(() => ({
      then() {
        throw new Error('then failed');
      },
    }));
    const caller = new RpcProtocol(a);
    await expect(caller.sendRequest('m')).rejects.toThrow('then failed');
    caller.dispose();
    server.dispose();
  });
});

describe('the caller side costs nothing it does not need', () => {
  test('the caller part of a remote stack starts at the caller, not inside RpcProtocol', async () => {
    const [a, b] = InMemoryChannel.createPair();
    const server = new RpcProtocol(b);
    server.registerTarget('svc', {
      call: () => {
        throw new Error('boom');
      },
    });
    const caller = new RpcProtocol(a, { captureCallerStack: true });
    const error = (await caller.request('svc', 'm', []).catch((e: unknown) => e)) as Error;
    const callerPart = String(error.stack).split('was called from:')[1];
    expect(callerPart).toContain('rpc-restart.test');
    expect(callerPart).not.toMatch(/RpcProtocol\.request/);
    caller.dispose();
    server.dispose();
  });

  test('a call with a timeout that succeeds builds no label for messages', async () => {
    const [a, b] = InMemoryChannel.createPair();
    const server = new RpcProtocol(b);
    server.setRequestHandler(() => 1);
    const caller = new RpcProtocol(a);
    const labelOf = jest.spyOn(wire, 'labelOf');
    for (let i = 0; i < 10; i++) await caller.sendRequest('m', [], { timeout: 1000 });
    expect(labelOf).toHaveBeenCalledTimes(0);
    labelOf.mockRestore();
    caller.dispose();
    server.dispose();
  });
});

describe('an endpoint whose send takes the callback second', () => {
  test('a failed send closes the channel', async () => {
    class GoneEndpoint extends EventEmitter {
      send(_message: unknown, callback?: (error: Error | null) => void): boolean {
        if (typeof callback === 'function') setImmediate(() => callback(new Error('EPIPE')));
        return false;
      }
    }
    const channel = new MessageEndpointChannel(new GoneEndpoint());
    const closed = new Promise<ChannelCloseEvent>((resolve) => channel.onClose(resolve));
    channel.getWriteBuffer().writeUint8(1).commit();
    expect((await closed).reason).toMatch(/EPIPE/);
  });
});
