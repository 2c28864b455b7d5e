import { fork, type ChildProcess } from 'child_process';
import { EventEmitter } from 'events';
import { join } from 'path';
import { MessageChannel, parentPort, Worker } from 'worker_threads';
import {
  BaseCalleeChannel,
  BaseInvokerChannel,
  Callee,
  forkWithChannel,
  InMemoryChannel,
  Invoker,
  RpcProtocol,
} from '../../src';
import * as eventInvoke from '../../src/event-invoke';
import { settled } from '../helpers/eventInvoke';
import { killAll } from '../helpers/processes';

// The article's examples as TypeScript under strict (this file is compiled by ts-jest and by `tsc -p
// tsconfig.json`): each compiles with no cast, and runs.

const articleDir = join(__dirname, '..', 'fixtures', 'event-invoke', 'article');

// Children a test forks, killed after it whatever happened, so a failing one leaves none behind.
const children = new Set<ChildProcess>();
afterEach(() => killAll(children));

test("the article's parent: new Invoker(fork(...)), names and arguments untyped", async () => {
  const invokerChannel = fork('./child.js', [], { cwd: articleDir });
  children.add(invokerChannel);
  const invoker = new Invoker(invokerChannel);
  const res1 = await invoker.invoke('sleep', 10);
  const res2 = await invoker.invoke('max', [1, 2, 3]);
  invoker.destroy();
  expect([res1, res2]).toEqual([undefined, 3]);
  await new Promise((resolve) => invokerChannel.once('exit', resolve));
});

test("the article's child: new Callee(process), functions registered as it writes them", () => {
  const calleeChannel = process;
  const callee = new Callee(calleeChannel);
  callee.register(async function sleep(ms) {
    return new Promise((resolve) => {
      setTimeout(resolve, ms);
    });
  });
  callee.register(function max(...args) {
    return Math.max(...args);
  });
  callee.listen();
  callee.destroy();
  expect(() => new Callee()).not.toThrow();
});

/** What PM2 gives the article's channels: a list of apps, and a way to send one of them data. */
interface Pm2Process {
  name: string;
  pm2_env: { pm_id: number };
}
interface Pm2Packet {
  id?: number;
  type?: string;
  topic?: string;
  data?: unknown;
}

/** PM2's API as the article's channels use it, delivering to in-process stand-ins for each app's `process`. */
class FakePm2 {
  readonly apps: Array<{ name: string; process: EventEmitter }> = [];

  list(callback: (error: Error | null, processes: Pm2Process[]) => void): void {
    setImmediate(() => callback(null, this.apps.map((app, pm_id) => ({ name: app.name, pm2_env: { pm_id } }))));
  }

  sendDataToProcessId(packet: Pm2Packet, callback: (error: Error | null, result?: unknown) => void): void {
    setImmediate(() => {
      this.apps[packet.id!].process.emit('message', { type: packet.type, topic: packet.topic, data: packet.data });
      callback(null);
    });
  }
}

const messageType = 'event-invoke';
const messageTopic = 'some topic';

class CalleeChannel extends BaseCalleeChannel {
  private readonly _onProcessMessage: (packet: Pm2Packet) => void;

  constructor(
    private readonly proc: EventEmitter,
    private readonly pm2: FakePm2,
  ) {
    super();
    this._onProcessMessage = this.onProcessMessage.bind(this);
    this.proc.on('message', this._onProcessMessage);
  }

  onProcessMessage(packet: Pm2Packet): void {
    if (packet.type !== messageType) {
      return;
    }
    this.emit('message', packet.data);
  }

  override send(data: unknown): void {
    this.pm2.list((err, processes) => {
      if (err) {
        throw err;
      }
      const list = processes.filter((p) => p.name === 'invoker');
      const pmId = list[0].pm2_env.pm_id;
      this.pm2.sendDataToProcessId({ id: pmId, type: messageType, topic: messageTopic, data }, (error) => {
        if (error) {
          throw error;
        }
      });
    });
  }

  override destroy(): void {
    this.proc.off('message', this._onProcessMessage);
  }
}

class InvokerChannel extends BaseInvokerChannel {
  private readonly _onProcessMessage: (packet: Pm2Packet) => void;

  constructor(
    private readonly proc: EventEmitter,
    private readonly pm2: FakePm2,
  ) {
    super();
    this._onProcessMessage = this.onProcessMessage.bind(this);
    this.proc.on('message', this._onProcessMessage);
  }

  onProcessMessage(packet: Pm2Packet): void {
    if (packet.type !== messageType) {
      return;
    }
    this.emit('message', packet.data);
  }

  override send(data: unknown): void {
    this.pm2.list((err, processes) => {
      if (err) {
        throw err;
      }
      const list = processes.filter((p) => p.name === 'callee');
      const pmId = list[0].pm2_env.pm_id;
      this.pm2.sendDataToProcessId({ id: pmId, type: messageType, topic: messageTopic, data }, (error) => {
        if (error) {
          throw error;
        }
      });
    });
  }

  override connect(): void {
    this.connected = true;
  }

  override disconnect(): void {
    this.connected = false;
  }

  override destroy(): void {
    this.proc.off('message', this._onProcessMessage);
  }
}

test("the article's custom channels: subclasses of BaseCalleeChannel and BaseInvokerChannel", async () => {
  const pm2 = new FakePm2();
  const invokerProcess = new EventEmitter();
  const calleeProcess = new EventEmitter();
  pm2.apps.push({ name: 'invoker', process: invokerProcess }, { name: 'callee', process: calleeProcess });

  const callee = new Callee(new CalleeChannel(calleeProcess, pm2));
  callee.register(async function sleep(ms) {
    return new Promise((resolve) => {
      setTimeout(resolve, ms);
    });
  });
  callee.register(function max(...args) {
    return Math.max(...args);
  });
  callee.listen();

  const channel = new InvokerChannel(invokerProcess, pm2);
  channel.connect();
  const invoker = new Invoker(channel);
  expect(await invoker.invoke('sleep', 10)).toBeUndefined();
  expect(await invoker.invoke('max', [1, 2, 3])).toBe(3);
  invoker.destroy();
  callee.destroy();
  expect(channel.connected).toBe(false);
  expect(invokerProcess.listenerCount('message') + calleeProcess.listenerCount('message')).toBe(0);
});

interface MathApi {
  max(...values: number[]): number;
  sleep(ms: number): Promise<void>;
  pair(label: string, count: number): string;
  sum(values: number[]): number;
  greet(name?: string): string;
  none(): 'none';
}

test('an API map types names, arguments and results, by the argument rule', async () => {
  const [a, b] = InMemoryChannel.createPair();
  const callee = new Callee(b).register({
    max: (...values: number[]) => Math.max(...values),
    sleep: async (ms: number) => void (await new Promise((resolve) => setTimeout(resolve, ms))),
    pair: (label: string, count: number) => `${label}×${count}`,
    sum: (values: number[]) => values.reduce((x, y) => x + y, 0),
    greet: (name = 'you') => `hello ${name}`,
    none: () => 'none' as const,
  });
  callee.listen();
  const invoker = new Invoker<MathApi>(a);

  const max: number = await invoker.invoke('max', [1, 5, 2]);
  const slept: void = await invoker.invoke('sleep', 1);
  const paired: string = await invoker.invoke('pair', ['x', 3]);
  const summed: number = await invoker.invoke('sum', [[1, 2, 3]]);
  const greeted: string = await invoker.invoke('greet');
  const none: 'none' = await invoker.invoke('none', undefined, { timeout: 100 });
  expect([max, slept, paired, summed, greeted, none]).toEqual([5, undefined, 'x×3', 6, 'hello you', 'none']);
  expect(await invoker.invoke('sleep', [1])).toBeUndefined();

  invoker.destroy();
  callee.destroy();
});

test('a subclass may make `connected` a field, and a JavaScript one a getter', async () => {
  class AlwaysConnected extends BaseInvokerChannel {
    override connected = true;
  }
  expect(new AlwaysConnected().connected).toBe(true);

  // As event-invoke's own custom channel does, in JavaScript: the base defines no field that would hide the getter.
  const state = { up: false };
  const WithGetter = class extends BaseInvokerChannel {
    override disconnect(): void {
      state.up = false;
    }
  };
  Object.defineProperty(WithGetter.prototype, 'connected', { get: () => state.up });
  const channel = new WithGetter();
  const invoker = new Invoker(channel);
  expect((await settled(invoker.invoke('anything'))).error.message).toMatch(/^channel is not connected/);
  state.up = true;
  expect(channel.connected).toBe(true);
  invoker.destroy();
  expect(state.up).toBe(false);
});

/** Never run, only compiled: each call fails the build if it compiles. */
export function refusedByTheCompiler(invoker: Invoker<MathApi>): void {
  // @ts-expect-error not a function of the API
  void invoker.invoke('nope');
  // @ts-expect-error sum takes one array: it goes wrapped, or it would be spread
  void invoker.invoke('sum', [1, 2, 3]);
  // @ts-expect-error sleep takes a number
  void invoker.invoke('sleep', 'long');
  // @ts-expect-error pair needs its arguments
  void invoker.invoke('pair');
  // @ts-expect-error max's result is a number
  void invoker.invoke('max', [1]).then((result: string) => result);
}

/**
 * Never run, only compiled: Node's own endpoints are taken as they are under strict. (Run, `new Invoker(process)`
 * and destroy() would disconnect Jest's own worker.)
 */
export function nodeEndpoints(): Array<Invoker | Callee> {
  const worker = new Worker(__filename);
  return [
    new Invoker(process),
    new Invoker(fork('./child.js')),
    new Invoker(worker),
    new Invoker(parentPort!),
    new Invoker(new MessageChannel().port1),
    new Callee(process),
    new Callee(worker),
    new Callee(parentPort!),
    new Callee(new MessageChannel().port2),
  ];
}

test("fdpipe's channels and a protocol are taken as they are", async () => {
  const { child, channel } = forkWithChannel(join(__dirname, '..', 'fixtures', 'callee.js'), [], {
    env: { ...process.env, FDPIPE_CALLEE_FD4: '1' },
  });
  children.add(child);
  const overFd4 = new Invoker(channel);
  const [a, b] = InMemoryChannel.createPair();
  const callee = new Callee(b).register(function ping() {
    return 'pong';
  });
  callee.listen();
  const overProtocol = new Invoker(new RpcProtocol(a));
  expect(await overFd4.invoke('max', [1, 2])).toBe(2);
  expect(await overProtocol.invoke('ping')).toBe('pong');
  overFd4.destroy();
  overProtocol.destroy();
  callee.destroy();
  channel.close();
  await new Promise((resolve) => child.once('exit', resolve));
});

test('the subpath fdpipe/event-invoke exports the whole face', () => {
  expect(eventInvoke.Invoker).toBe(Invoker);
  expect(eventInvoke.Callee).toBe(Callee);
  expect(eventInvoke.BaseInvokerChannel).toBe(BaseInvokerChannel);
  expect(eventInvoke.BaseCalleeChannel).toBe(BaseCalleeChannel);
  expect(typeof eventInvoke.TimeoutError).toBe('function');
  expect(typeof eventInvoke.currentCallSignal).toBe('function');
});
