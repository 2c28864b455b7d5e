import {
  ConnectionClosedError,
  Emitter,
  InMemoryChannel,
  MethodNotFoundError,
  RpcPeer,
  ServiceNotFoundError,
  type Event,
} from '../src';
import { outcome, tick } from './helpers/rpc';

interface Calculator {
  onResult: Event<number>;
  max(...values: number[]): number;
  divide(a: number, b: number): Promise<number>;
  label: string;
}

class CalculatorService {
  private readonly results = new Emitter<number>();
  readonly onResult = this.results.event;
  label = 'not a method';
  listenerCount = () => this.results.listenerCount;

  max(...values: number[]): number {
    const result = Math.max(...values);
    this.results.fire(result);
    return result;
  }

  async divide(a: number, b: number): Promise<number> {
    if (b === 0) throw new RangeError('division by zero');
    return a / b;
  }
}

function peers(options = {}): [RpcPeer, RpcPeer] {
  const [a, b] = InMemoryChannel.createPair();
  return [new RpcPeer(a, options), new RpcPeer(b, options)];
}

describe('typed services', () => {
  test('a proxy calls the exposed object and returns promises of its results', async () => {
    const [server, client] = peers();
    server.expose('calc', new CalculatorService());
    const calc = client.proxy<Calculator>('calc');
    expect(await calc.max(1, 7, 3)).toBe(7);
    expect(await calc.divide(9, 3)).toBe(3);
    await expect(calc.divide(1, 0)).rejects.toThrow('division by zero');
  });

  test('awaiting a proxy does not treat it as a promise', async () => {
    const [, client] = peers();
    const calc = client.proxy<Calculator>('calc');
    expect(await Promise.resolve(calc)).toBe(calc);
  });

  test.each([
    'constructor',
    '__proto__',
    'toString',
    'hasOwnProperty',
    '__defineGetter__',
    'valueOf',
    'isPrototypeOf',
    'label',
    'doesNotExist',
  ])('%s cannot be called remotely: method-not-found', async (name) => {
    const [server, client] = peers();
    server.expose('calc', new CalculatorService());
    // Asked for directly: the proxy itself keeps Object.prototype names local.
    const result = await outcome(client.protocol.request('calc', name, []));
    expect(result.ok).toBe(false);
    expect((result as any).error).toBeInstanceOf(MethodNotFoundError);
    expect((result as any).error.message).toContain(`'${name}'`);
  });

  test('a plain object service exposes its own functions only', async () => {
    const [server, client] = peers();
    server.expose('obj', { hello: (name: string) => `hi ${name}`, count: 3 });
    const obj = client.proxy<{ hello(name: string): string; count(): number }>('obj');
    expect(await obj.hello('there')).toBe('hi there');
    expect((await outcome(obj.count())).ok).toBe(false);
  });

  test('a call to a service exposed a little later waits for it', async () => {
    const [server, client] = peers();
    const calc = client.proxy<Calculator>('calc');
    const call = calc.max(4, 5);
    await new Promise((resolve) => setTimeout(resolve, 30));
    server.expose('calc', new CalculatorService());
    expect(await call).toBe(5);
  });

  test('a call to a service never exposed rejects after the configured wait', async () => {
    const [, client] = peers({ serviceWaitTimeout: 40 });
    const result = await outcome(client.proxy<Calculator>('missing').max(1));
    expect((result as any).error).toBeInstanceOf(ServiceNotFoundError);
    expect((result as any).error.message).toContain("'missing'");
  });

  test('events subscribe with the first listener and unsubscribe with the last', async () => {
    const [server, client] = peers();
    const service = new CalculatorService();
    server.expose('calc', service);
    const calc = client.proxy<Calculator>('calc');
    const first: number[] = [];
    const second: number[] = [];
    const a = calc.onResult((v) => first.push(v));
    const b = calc.onResult((v) => second.push(v));
    await tick();
    expect(service.listenerCount()).toBe(1);
    await calc.max(1, 2);
    await tick();
    expect(first).toEqual([2]);
    expect(second).toEqual([2]);
    a.dispose();
    await calc.max(3);
    await tick();
    expect(first).toEqual([2]);
    expect(second).toEqual([2, 3]);
    b.dispose();
    await tick();
    expect(service.listenerCount()).toBe(0);
  });

  test('subscriptions end when the connection closes', async () => {
    const [server, client] = peers();
    const service = new CalculatorService();
    server.expose('calc', service);
    client.proxy<Calculator>('calc').onResult(() => {});
    await tick();
    expect(service.listenerCount()).toBe(1);
    client.protocol.channel.close();
    await tick();
    expect(service.listenerCount()).toBe(0);
  });

  test('an AbortSignal as the last argument cancels through the proxy', async () => {
    const [server, client] = peers();
    let seen: AbortSignal | undefined;
    server.expose('work', {
      run: (_n: number, signal: AbortSignal) => {
        seen = signal;
        return new Promise(() => {});
      },
    });
    const work = client.proxy<{ run(n: number, signal?: AbortSignal): Promise<void> }>('work');
    const controller = new AbortController();
    const call = outcome(work.run(1, controller.signal));
    await tick();
    controller.abort();
    expect((await call).ok).toBe(false);
    await tick();
    expect(seen?.aborted).toBe(true);
  });

  test('exposing two services under one name is refused', () => {
    const [server] = peers();
    server.expose('x', {});
    expect(() => server.expose('x', {})).toThrow("'x' is already exposed");
  });
});

describe('what a service exposes', () => {
  test('methods of a platform base class (EventEmitter, Map) are not callable; the subclass own methods are', async () => {
    const { EventEmitter } = await import('events');
    class Jobs extends EventEmitter {
      count() {
        return this.listenerCount('job');
      }
    }
    const jobs = new Jobs();
    jobs.on('job', () => {});
    class Registry extends Map<string, number> {
      total() {
        return [...this.values()].reduce((a, b) => a + b, 0);
      }
    }
    const registry = new Registry([['a', 2]]);
    const [server, client] = peers();
    server.expose('jobs', jobs);
    server.expose('registry', registry);
    expect(await client.protocol.request('jobs', 'count', [])).toBe(1);
    for (const name of ['emit', 'removeAllListeners', 'on', 'setMaxListeners']) {
      expect(((await outcome(client.protocol.request('jobs', name, ['job']))) as any).error).toBeInstanceOf(
        MethodNotFoundError,
      );
    }
    expect(jobs.listenerCount('job')).toBe(1);
    expect(await client.protocol.request('registry', 'total', [])).toBe(2);
    expect((await outcome(client.protocol.request('registry', 'clear', []))).ok).toBe(false);
    expect(registry.size).toBe(1);
  });

  test('an event written as a method is called on its service', async () => {
    class Ticker {
      private readonly ticks = new Emitter<number>();
      onTick(listener: (n: number) => void) {
        return this.ticks.event(listener);
      }
      tick(n: number) {
        this.ticks.fire(n);
      }
    }
    const [server, client] = peers();
    server.expose('ticker', new Ticker());
    const ticker = client.proxy<{ onTick: Event<number>; tick(n: number): void }>('ticker');
    const seen: number[] = [];
    ticker.onTick((n) => seen.push(n));
    await tick();
    await ticker.tick(4);
    await tick();
    expect(seen).toEqual([4]);
  });

  test('an event that fires its current value while being subscribed gets it across', async () => {
    const [server, client] = peers();
    server.expose('state', {
      onValue: (listener: (v: string) => void) => {
        listener('current');
        return { dispose() {} };
      },
    });
    const seen: string[] = [];
    client.proxy<{ onValue: Event<string> }>('state').onValue((v) => seen.push(v));
    await tick();
    await tick();
    expect(seen).toEqual(['current']);
  });

  test('unsubscribing while the service is still awaited leaves no subscription behind', async () => {
    const [server, client] = peers();
    const service = new CalculatorService();
    const subscription = client.proxy<Calculator>('late').onResult(() => {});
    await tick();
    subscription.dispose();
    await tick();
    server.expose('late', service);
    await tick();
    expect(service.listenerCount()).toBe(0);
  });

  test('an error named like an Object.prototype member still rejects the call', async () => {
    const [server, client] = peers();
    server.expose('odd', {
      fail() {
        const error = new Error('odd name');
        error.name = 'toString';
        throw error;
      },
    });
    const result = await outcome(client.proxy<{ fail(): void }>('odd').fail());
    expect(result.ok).toBe(false);
    expect((result as any).error.message).toBe('odd name');
  });

  test('disposing one side rejects the other side calls to it', async () => {
    const [server, client] = peers();
    server.expose('calc', { hang: () => new Promise(() => {}) });
    const pending = outcome(client.proxy<{ hang(): Promise<void> }>('calc').hang());
    await tick();
    server.dispose();
    expect(((await pending) as any).error).toBeInstanceOf(ConnectionClosedError);
    expect(((await outcome(client.proxy<{ hang(): Promise<void> }>('calc').hang())) as any).error).toBeInstanceOf(
      ConnectionClosedError,
    );
  });

  test('after one side disposes, a new peer on the same channel is served again', async () => {
    const [a, b] = InMemoryChannel.createPair();
    const server = new RpcPeer(b);
    server.expose('svc', { ping: () => 'pong' });
    const first = new RpcPeer(a);
    expect(await first.proxy<{ ping(): string }>('svc').ping()).toBe('pong');
    first.dispose();
    await tick();
    const second = new RpcPeer(a);
    expect(await second.proxy<{ ping(): string }>('svc').ping()).toBe('pong');
  });
});
