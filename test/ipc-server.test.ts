import { fork, type ChildProcess } from 'child_process';
import { mkdtempSync, rmSync, statSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { MessageChannel, Worker } from 'worker_threads';
import {
  ChannelClient,
  ChannelServer,
  ConnectionClosedError,
  Emitter,
  HandshakeError,
  InMemoryChannel,
  IPCClient,
  listen,
  IPCServer,
  MessageTooLargeError,
  ProxyChannel,
  RpcProtocol,
  ServiceNotFoundError,
  StaticRouter,
  type Channel,
  type Connection,
  type Event,
  type IServerChannel,
} from '../src';
import { HELLO_LIMIT } from '../src/rpc/channels/handshake';
import { outcome, tick } from './helpers/rpc';

const clientScript = join(__dirname, 'fixtures', 'ipc-client.js');

interface ClientService {
  onTick: Event<string>;
  whoAmI(): string;
  received(): string[];
  pingServer(text: string): string;
  tick(count: number): number;
  hang(): Promise<never>;
}

/** A server with a `hub` channel: `ping` records who pinged, `onBroadcast` reaches every listening client. */
function hubServer(options = {}) {
  const server = new IPCServer<string>(options);
  const broadcast = new Emitter<string>();
  const pings: Array<[string, unknown]> = [];
  server.registerChannel('hub', {
    async call(ctx, command, arg) {
      if (command !== 'ping') throw new Error(`no command ${command}`);
      pings.push([ctx, arg]);
      return `pong to ${ctx}`;
    },
    listen(_ctx, event) {
      if (event !== 'onBroadcast') throw new Error(`no event ${event}`);
      return broadcast.event as Event<any>;
    },
  });
  return { server, broadcast, pings };
}

async function warningsDuring(body: () => Promise<void>): Promise<string[]> {
  const spy = jest.spyOn(process, 'emitWarning').mockImplementation(() => {});
  try {
    await body();
    await tick();
    return spy.mock.calls.map(([warning]) => String(warning));
  } finally {
    spy.mockRestore();
  }
}

/** Polls `condition`; the limit (well inside the test's own) only turns a hang into a readable failure. */
async function until(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 3000; i++) {
    if (condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`gave up waiting for ${what}`);
}

/** Resolves once the server has `count` connections, woken by its own events: children may start slowly. */
function connectionCount(server: IPCServer<string>, count: number): Promise<void> {
  return new Promise((resolve) => {
    const check = () => {
      if (server.connections.length !== count) return;
      added.dispose();
      removed.dispose();
      resolve();
    };
    const added = server.onDidAddConnection(check);
    const removed = server.onDidRemoveConnection(check);
    check();
  });
}

/** Resolves once every child has exited. */
function exited(children: readonly ChildProcess[]): Promise<unknown> {
  return Promise.all(
    children.map((child) =>
      child.exitCode !== null || child.signalCode !== null
        ? undefined
        : new Promise((resolve) => child.once('exit', resolve)),
    ),
  );
}

const clientOf = (connection: Connection<string>) =>
  ProxyChannel.toService<ClientService>(connection.channelClient.getChannel('client'));

describe('IPCServer with real clients', () => {
  let dir: string;
  const children: ChildProcess[] = [];
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'fdpipe-'));
  });
  afterEach(() => {
    for (const child of children.splice(0)) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  test('8 clients (4 forked, 4 over a Unix socket): broadcast, pings, joins and leaves, events follow', async () => {
    const { server, broadcast, pings } = hubServer();
    const socketPath = join(dir, 'hub.sock');
    await server.listen(socketPath);
    expect(statSync(socketPath).mode & 0o777).toBe(0o600);

    for (let i = 0; i < 4; i++) children.push(server.fork(clientScript, [`forked-${i}`, 'parent']).child);
    for (let i = 0; i < 4; i++) children.push(fork(clientScript, [`socket-${i}`, 'socket', socketPath]));
    await connectionCount(server, 8);

    // Events of every client merged into one, following clients as they come and go.
    const ticks: string[] = [];
    const tickWaiters: Array<() => void> = [];
    const merged = server.getChannel('client', () => true).listen<string>('onTick')((t) => {
      ticks.push(t);
      for (const wake of tickWaiters.splice(0)) wake();
    });
    const ticksReach = async (count: number) => {
      while (ticks.length < count) await new Promise<void>((resolve) => tickWaiters.push(resolve));
    };

    // Each client subscribed to onBroadcast when it connected; a call answered proves the subscription is in.
    for (const connection of server.connections) await clientOf(connection).whoAmI();
    broadcast.fire('hello everyone');
    for (const connection of server.connections) {
      const client = clientOf(connection);
      expect(await client.received()).toEqual(['hello everyone']);
      expect(await client.pingServer('hi')).toBe(`pong to ${connection.ctx}`);
      await client.tick(1);
    }
    expect(pings.map(([ctx]) => ctx).sort()).toEqual(server.connections.map((c) => c.ctx).sort());
    await ticksReach(8);

    // Two leave (one killed, one over the socket), one joins.
    const leaving = server.connections.filter((c) => c.ctx === 'forked-0' || c.ctx === 'socket-0');
    children.find((c) => c.spawnargs.includes('forked-0'))!.kill('SIGKILL');
    children.find((c) => c.spawnargs.includes('socket-0'))!.kill('SIGKILL');
    await connectionCount(server, 6);
    expect(leaving.every((c) => c.isClosed)).toBe(true);
    children.push(fork(clientScript, ['socket-new', 'socket', socketPath]));
    await connectionCount(server, 7);

    ticks.length = 0;
    for (const connection of server.connections) await clientOf(connection).tick(1);
    await ticksReach(7);
    expect(ticks.some((t) => t.startsWith('socket-new'))).toBe(true);
    expect(ticks.some((t) => t.startsWith('forked-0') || t.startsWith('socket-0'))).toBe(false);

    // A router picks one client by context.
    expect(await server.getChannel('client', new StaticRouter((ctx) => ctx === 'forked-2')).call('whoAmI', [])).toBe(
      'forked-2',
    );
    merged.dispose();
    server.dispose();
    await exited(children);
  }, 180_000); // nine children start on a machine that may be busy: waits on events, with time to spare

  test('a client that dies has its connection removed and the calls to it rejected', async () => {
    const { server } = hubServer();
    const { child, connection } = server.fork(clientScript, ['doomed', 'parent']);
    children.push(child);
    const removed = new Promise<Connection<string>>((resolve) => server.onDidRemoveConnection(resolve));
    const client = clientOf(await connection);
    expect(await client.whoAmI()).toBe('doomed');
    const pending = outcome(client.hang());
    child.kill('SIGKILL');
    expect(await removed).toBe(await connection);
    expect(((await pending) as any).error).toBeInstanceOf(ConnectionClosedError);
    expect(server.connections).toHaveLength(0);
    server.dispose();
  });

  test('a worker thread connects over a MessagePort', async () => {
    const { server } = hubServer();
    const { port1, port2 } = new MessageChannel();
    const accepted = server.acceptPort(port1);
    const worker = new Worker(clientScript, { workerData: { name: 'thread-1', port: port2 }, transferList: [port2] });
    try {
      const connection = await accepted;
      expect(connection.ctx).toBe('thread-1');
      expect(await clientOf(connection).pingServer('from a thread')).toBe('pong to thread-1');
    } finally {
      server.dispose();
      await worker.terminate();
    }
  });

  test('TCP listens on 127.0.0.1 by default', async () => {
    const { server } = hubServer();
    const listener = await server.listen(0);
    expect((listener.server.address() as { address: string }).address).toBe('127.0.0.1');
    const client = await IPCClient.connect(listener.port!, 'tcp-client');
    expect(await client.getChannel('hub').call('ping', 'x')).toBe('pong to tcp-client');
    client.dispose();
    server.dispose();
  });

  test('with a token, a client without it is refused with a clear error; a forked child gets it', async () => {
    const { server } = hubServer({ token: 'sesame' });
    const errors: Error[] = [];
    server.onError((e) => errors.push(e));
    const socketPath = join(dir, 'secure.sock');
    await server.listen(socketPath);
    const refused = await outcome(IPCClient.connect(socketPath, 'intruder', { token: 'wrong' }));
    expect((refused as any).error).toBeInstanceOf(HandshakeError);
    expect((refused as any).error.message).toContain('the server refused the connection: The client presented a wrong token');
    expect((refused as any).error.message).toContain('FDPIPE_TOKEN');
    const noToken = await outcome(IPCClient.connect(socketPath, 'intruder'));
    expect((noToken as any).error).toBeInstanceOf(HandshakeError);
    expect((noToken as any).error.message).toContain('The client presented no token, and this server requires one');
    expect((noToken as any).error.message).toContain('IPCServer.fork() gets it in FDPIPE_TOKEN');
    expect(errors.map((e) => e.message)).toEqual([
      expect.stringContaining('wrong token'),
      expect.stringContaining('no token'),
    ]);
    expect(errors.length).toBe(2);
    expect(server.connections).toHaveLength(0);

    const { child, connection } = server.fork(clientScript, ['trusted', 'parent']);
    children.push(child);
    expect((await connection).ctx).toBe('trusted');
    const good = await IPCClient.connect(socketPath, 'friend', { token: 'sesame' });
    expect(await good.getChannel('hub').call('ping')).toBe('pong to friend');
    good.dispose();
    server.dispose();
  });

  test('a client reconnecting with the same context replaces its old connection', async () => {
    const { server } = hubServer();
    const socketPath = join(dir, 're.sock');
    await server.listen(socketPath);
    const first = await IPCClient.connect(socketPath, 'same');
    const firstClosed = new Promise((resolve) => first.onDidClose(resolve));
    const second = await IPCClient.connect(socketPath, 'same');
    await firstClosed;
    expect(server.connections).toHaveLength(1);
    expect(await second.getChannel('hub').call('ping')).toBe('pong to same');
    second.dispose();
    server.dispose();
  });

  test('a context that cannot be keyed is refused at the handshake, and nothing is left open', async () => {
    const server = new IPCServer<unknown>({
      contextKey: (ctx) => {
        if (ctx === 'bad') throw new Error('no key for you');
        return String(ctx);
      },
    });
    const errors: Error[] = [];
    server.onError((e) => errors.push(e));
    const socketPath = join(dir, 'keys.sock');
    await server.listen(socketPath);
    const refused = await outcome(IPCClient.connect(socketPath, 'bad'));
    expect((refused as any).error).toBeInstanceOf(HandshakeError);
    expect((refused as any).error.message).toContain('no key for you');
    expect(server.connections).toHaveLength(0);
    server.dispose();
  });

  test('a context is read before its client is welcomed: only plain values are decoded, anything else is refused', async () => {
    const server = new IPCServer<unknown>();
    const errors: Error[] = [];
    server.onError((e) => errors.push(e));
    const socketPath = join(dir, 'plain.sock');
    await server.listen(socketPath);
    const plain = { id: 10, name: 'w', tags: ['a', 'b'], rows: [{ x: 1 }, { x: 2 }], none: null, off: false, n: -0.5 };
    const client = await IPCClient.connect(socketPath, plain);
    expect(server.connections.map((c) => c.ctx)).toEqual([plain]);
    for (const [ctx, what] of [
      [{ id: 10n }, 'a bigint'],
      [['ok', new Set([1, 2])], 'a Set'],
      [{ deep: [{ m: new Map([[1, 2]]) }] }, 'a Map'],
      [new Date(0), 'a Date'],
    ] as const) {
      const refused = await outcome(IPCClient.connect(socketPath, ctx));
      expect((refused as any).error).toBeInstanceOf(HandshakeError);
      expect((refused as any).error.message).toMatch(
        new RegExp(`context, read before the client is welcomed, was refused: ${what} where only strings, numbers`),
      );
    }
    expect(errors).toHaveLength(4);
    expect(server.connections).toHaveLength(1);
    client.dispose();
    server.dispose();
  });

  test('before its hello, a connection may not announce a large frame', async () => {
    const { server } = hubServer();
    const errors: Error[] = [];
    server.onError((e) => errors.push(e));
    const socketPath = join(dir, 'big.sock');
    await server.listen(socketPath);
    const { createConnection } = await import('net');
    const socket = createConnection(socketPath);
    const closed = new Promise((resolve) => socket.on('close', resolve));
    socket.on('error', () => {});
    socket.on('connect', () => socket.write(Buffer.from([0x10, 0, 0, 0]))); // 256 MiB announced
    await closed;
    await until(() => errors.length > 0, 'the refusal');
    // One report per stranger: the refused handshake, with the channel's own error as its cause.
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(HandshakeError);
    expect(errors[0].message).toContain('closed before its hello');
    expect(errors[0].cause).toBeInstanceOf(MessageTooLargeError);
    expect(server.connections).toHaveLength(0);
    server.dispose();
  });

  test('strangers cannot fill stderr: with onError each refusal goes there and never to stderr, without it one warning per kind', async () => {
    async function strangers(server: IPCServer<string>, socketPath: string, count: number): Promise<void> {
      await server.listen(socketPath);
      const { createConnection } = await import('net');
      await Promise.all(
        Array.from({ length: count }, (_, i) => {
          const socket = createConnection(socketPath);
          socket.on('error', () => {});
          socket.resume(); // reads the refusal, and so sees the server's end
          // Oversized announcements, and hellos with a wrong token.
          const hello = Buffer.from([0, 0, 0, 13, 0xf0, 8, ...Buffer.from('fdpipe/3'), 1, 0x78, 0xc1]);
          socket.on('connect', () => socket.write(i % 2 === 0 ? Buffer.from([0x10, 0, 0, 0]) : hello));
          return new Promise((resolve) => socket.on('close', resolve));
        }),
      );
    }
    const heard = new IPCServer<string>({ token: 'secret' });
    const errors: Error[] = [];
    heard.onError((e) => errors.push(e));
    const warnings = await warningsDuring(async () => {
      await strangers(heard, join(dir, 'heard.sock'), 10);
      await until(() => errors.length === 10, 'ten refusals');
    });
    expect(warnings).toEqual([]);
    expect(errors.filter((e) => e.cause instanceof MessageTooLargeError)).toHaveLength(5);
    expect(errors.filter((e) => /The client presented a wrong token/.test(e.message))).toHaveLength(5);
    heard.dispose();

    const unheard = new IPCServer<string>({ token: 'secret' });
    const quiet = await warningsDuring(async () => {
      await strangers(unheard, join(dir, 'unheard.sock'), 10);
      await tick();
    });
    expect(quiet).toHaveLength(2);
    expect(quiet).toEqual(expect.arrayContaining([
      expect.stringMatching(/^fdpipe: HandshakeError: The connection closed before its hello: .* \(further ones like it are not warned about: add an onError listener to hear each one\)$/),
      expect.stringMatching(/^fdpipe: HandshakeError: The client presented a wrong token/),
    ]));
    unheard.dispose();
  });

  test('a disposed listener stops listening and releases its connection listener on the server', async () => {
    const listener = await listen(join(dir, 'release.sock'));
    const before = listener.server.listenerCount('connection');
    expect(before).toBeGreaterThan(0);
    listener.dispose();
    expect(listener.server.listening).toBe(false);
    expect(listener.server.listenerCount('connection')).toBe(before - 1);
    listener.dispose();
  });

  test('a client gives up on a server that never answers its hello', async () => {
    const { createServer } = await import('net');
    const sockets: import('net').Socket[] = [];
    const silent = createServer((socket) => sockets.push(socket));
    const socketPath = join(dir, 'silent.sock');
    await new Promise<void>((resolve) => silent.listen(socketPath, resolve));
    const result = await outcome(IPCClient.connect(socketPath, 'patient', { handshakeTimeout: 100 }));
    expect((result as any).error).toBeInstanceOf(HandshakeError);
    expect((result as any).error.message).toContain('did not welcome');
    for (const socket of sockets) socket.destroy();
    silent.close();
  });

  test('1000 connect/disconnect cycles leave no connection, no growing listener count, no heap growth', async () => {
    const { server } = hubServer();
    const socketPath = join(dir, 'cycles.sock');
    const listener = await server.listen(socketPath);
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on('warning', onWarning);
    const removedAll = () => server.connections.length === 0;
    const gc = globalGc();
    const cycle = async (i: number) => {
      const client = await IPCClient.connect(socketPath, `cycle-${i}`);
      await client.getChannel('hub').call('ping');
      client.dispose();
    };
    for (let i = 0; i < 100; i++) await cycle(i);
    await until(removedAll, 'warm-up connections to go');
    gc();
    const heapBefore = process.memoryUsage().heapUsed;
    const listenersBefore = listener.server.listenerCount('connection');
    for (let i = 100; i < 1100; i++) await cycle(i);
    await until(removedAll, 'all connections to go');
    await tick();
    gc();
    const heapGrowth = process.memoryUsage().heapUsed - heapBefore;
    process.off('warning', onWarning);
    expect(server.connections).toHaveLength(0);
    expect(listener.server.listenerCount('connection')).toBe(listenersBefore);
    expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning')).toEqual([]);
    // A leak of even 10 KiB a connection would be 10 MB here.
    expect(heapGrowth).toBeLessThan(8 * 1024 * 1024);
    server.dispose();
  });
});

describe('IPCServer handshakes over any Channel', () => {
  /** Forwards to `inner`, recording every limit the server sets: a channel that says it can limit incoming frames. */
  function limitRecording(inner: Channel, limits: Array<number | undefined>): Channel {
    return {
      onMessage: inner.onMessage,
      onClose: inner.onClose,
      onError: inner.onError,
      onDrain: inner.onDrain,
      get isClosed() {
        return inner.isClosed;
      },
      get needsDrain() {
        return inner.needsDrain;
      },
      getWriteBuffer: () => inner.getWriteBuffer(),
      limitIncoming: (maxBytes) => void limits.push(maxBytes),
      close: () => inner.close(),
      dispose: () => inner.dispose(),
    };
  }

  /** Runs `body` with process warnings captured instead of printed; returns their messages. */
  test('limits incoming frames through the Channel contract until the hello has been accepted', async () => {
    const server = new IPCServer<string>();
    const [a, b] = InMemoryChannel.createPair();
    const limits: Array<number | undefined> = [];
    const accepted = server.accept(limitRecording(a, limits));
    expect(limits).toEqual([HELLO_LIMIT]);
    const client = new IPCClient(b, 'limited');
    await client.ready;
    expect((await accepted).ctx).toBe('limited');
    expect(limits).toEqual([HELLO_LIMIT, undefined]);
    client.dispose();
    server.dispose();
  });

  test('accepts a channel that cannot limit incoming frames', async () => {
    const server = new IPCServer<string>();
    const [a, b] = InMemoryChannel.createPair();
    expect((a as Channel).limitIncoming).toBeUndefined();
    const accepted = server.accept(a);
    const client = new IPCClient(b, 'plain');
    expect((await accepted).ctx).toBe('plain');
    client.dispose();
    server.dispose();
  });

  test('with no onError listener, a failed handshake becomes a process warning', async () => {
    const server = new IPCServer<string>();
    const warnings = await warningsDuring(async () => {
      const [a, b] = InMemoryChannel.createPair();
      const accepted = outcome(server.accept(a));
      b.close();
      expect(((await accepted) as any).error).toBeInstanceOf(HandshakeError);
    });
    expect(warnings).toEqual([expect.stringContaining('HandshakeError: The connection closed before its hello')]);
    server.dispose();
  });

  test("a handshake cut short by the server's dispose() rejects accept() and reports nothing", async () => {
    const server = new IPCServer<string>();
    const errors: Error[] = [];
    server.onError((error) => errors.push(error));
    const warnings = await warningsDuring(async () => {
      const [a] = InMemoryChannel.createPair();
      const accepted = outcome(server.accept(a));
      server.dispose();
      expect(((await accepted) as any).error).toBeInstanceOf(HandshakeError);
      expect(a.isClosed).toBe(true);
    });
    expect(warnings).toEqual([]);
    expect(errors).toEqual([]);
  });
});

describe('ChannelServer and ChannelClient over one channel', () => {
  function pair() {
    const [a, b] = InMemoryChannel.createPair();
    const pa = new RpcProtocol(a, { serviceWaitTimeout: 100 });
    const pb = new RpcProtocol(b, { serviceWaitTimeout: 100 });
    return { server: new ChannelServer(pa, 'ctx-a'), client: new ChannelClient(pb), pa, pb };
  }

  const echo: IServerChannel<string> = {
    async call(ctx, command, arg) {
      return { ctx, command, arg };
    },
    listen() {
      throw new Error('no events');
    },
  };

  test('whenInitialized rejects when the connection closes first', async () => {
    const [a] = InMemoryChannel.createPair();
    const client = new ChannelClient(new RpcProtocol(a));
    const waiting = outcome(client.whenInitialized());
    a.close();
    expect(((await waiting) as any).error).toBeInstanceOf(ConnectionClosedError);
  });

  test('initialize handshake, calls with context, unregistered channels wait then fail', async () => {
    const { server, client } = pair();
    await client.whenInitialized();
    const early = client.getChannel('late').call('x', 1);
    await new Promise((resolve) => setTimeout(resolve, 20));
    server.registerChannel('late', echo);
    expect(await early).toEqual({ ctx: 'ctx-a', command: 'x', arg: 1 });
    const missing = await outcome(client.getChannel('never').call('x'));
    expect((missing as any).error).toBeInstanceOf(ServiceNotFoundError);
  });

  test('a cancellable call hands the server channel a live AbortSignal', async () => {
    const { server, client } = pair();
    let seen: AbortSignal | undefined;
    server.registerChannel('slow', {
      call(_ctx, _command, _arg, signal) {
        seen = signal;
        return new Promise(() => {});
      },
      listen() {
        throw new Error('no events');
      },
    });
    const controller = new AbortController();
    const call = outcome(client.getChannel('slow').call('wait', undefined, controller.signal));
    await tick();
    controller.abort();
    expect((await call).ok).toBe(false);
    await tick();
    expect(seen?.aborted).toBe(true);
  });

  test('ProxyChannel bridges a service with events to a typed proxy and back', async () => {
    const { server, client } = pair();
    const changes = new Emitter<number>();
    let value = 0;
    server.registerChannel(
      'counter',
      ProxyChannel.fromService({
        onDidChange: changes.event,
        add(n: number) {
          value += n;
          changes.fire(value);
          return value;
        },
      }),
    );
    const counter = ProxyChannel.toService<{ onDidChange: Event<number>; add(n: number): number; toString(): string }>(
      client.getChannel('counter'),
    );
    const seen: number[] = [];
    const subscription = counter.onDidChange((v) => seen.push(v));
    await tick();
    expect(await counter.add(2)).toBe(2);
    expect(await counter.add(3)).toBe(5);
    await tick();
    expect(seen).toEqual([2, 5]);
    subscription.dispose();
    // Object.prototype names stay local on the proxy, and the server refuses them if asked directly.
    expect(counter.toString).toBe(Object.prototype.toString);
    expect((await outcome(client.getChannel('counter').call('toString', []))).ok).toBe(false);
  });
});

function globalGc(): () => void {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const v8 = require('v8');
  v8.setFlagsFromString('--expose_gc');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('vm').runInNewContext('gc');
}
