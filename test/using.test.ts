import type { ChildProcess } from 'child_process';
import { mkdtempSync, rmSync } from 'fs';
import { createConnection } from 'net';
import { tmpdir } from 'os';
import { join } from 'path';
import {
  AbstractChannel,
  BinaryMessagePipe,
  ChannelListener,
  ChannelMultiplexer,
  DisposableStore,
  Emitter,
  ForkedWorker,
  IPCChannel,
  IPCClient,
  IPCServer,
  InMemoryChannel,
  RpcPeer,
  RpcProtocol,
  Uint8ArrayWriteBuffer,
  forkWithChannel,
  listen,
  Event,
  type IServerChannel,
} from '../src';
import { Callee, Invoker } from '../src/event-invoke';
import * as theia from '../src/theia';
import * as vscode from '../src/vscode';
import { Client as CpClient } from '../src/vscode/ipc.cp';
import { NodeSocket } from '../src/vscode/ipc.net';
import { IpcMainAcceptor } from '../src/vscode/electron';
import { linkedChannels } from './theia/helpers';
import { isRunning, killAll } from './helpers/processes';
import { createMemoryDuplexPair } from './helpers/streams';

// The hub that test/fixtures/ipc-client.js listens to (its onBroadcast); without one, that child warns after 1 s.
const quietHub: IServerChannel<string> = {
  call: () => Promise.reject(new Error('no commands here')),
  listen: <T>() => Event.None as Event<T>,
};
const fixture = (name: string) => join(__dirname, 'fixtures', name);
const children = new Set<ChildProcess>();
afterEach(() => killAll(children));

function tracked<T extends { child: ChildProcess }>(worker: T): T {
  children.add(worker.child);
  return worker;
}

/** What connecting to a socket path gives: 'connected', or the error code. */
function tryConnect(path: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = createConnection(path);
    socket.once('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
  });
}

describe('using: resources whose disposal is synchronous', () => {
  test('channels, a pipe, a multiplexer, a protocol, a peer, a store and an emitter end with their block', () => {
    const [forProtocol, protocolPeer] = InMemoryChannel.createPair();
    const [forPeer] = InMemoryChannel.createPair();
    const [forMux, muxPeer] = InMemoryChannel.createPair();
    const [stream] = createMemoryDuplexPair();
    const heard: number[] = [];
    let held: { pipe: BinaryMessagePipe; protocol: RpcProtocol; peer: RpcPeer; store: DisposableStore; sub?: unknown };
    {
      using pipe = new BinaryMessagePipe(stream);
      using mux = new ChannelMultiplexer(forMux);
      using protocol = new RpcProtocol(forProtocol);
      using peer = new RpcPeer(forPeer);
      using store = new DisposableStore();
      using emitter = new Emitter<number>();
      using channel = protocolPeer;
      store.add(emitter.event((n) => heard.push(n)));
      emitter.fire(1);
      expect([pipe.isClosed, protocol.isDisposed, channel.isClosed, mux.base.isClosed]).toEqual([false, false, false, false]);
      held = { pipe, protocol, peer, store };
    }
    expect(held.pipe.isClosed).toBe(true);
    expect(stream.writableEnded).toBe(true);
    expect(held.protocol.isDisposed).toBe(true);
    expect(held.peer.protocol.isDisposed).toBe(true);
    expect(held.store.isDisposed).toBe(true);
    expect(protocolPeer.isClosed).toBe(true);
    // The multiplexer's disposal leaves its base open: the base is not the multiplexer's to close.
    expect(forMux.isClosed).toBe(false);
    expect(muxPeer.isClosed).toBe(false);
    expect(heard).toEqual([1]);
    forMux.close();
  });

  test('a listener: its address is free again as soon as the block ends', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fdpipe-using-'));
    const path = join(dir, 'listen.sock');
    try {
      {
        using listener = await listen(path);
        expect(await tryConnect(path)).toBe('connected');
        expect(listener.server.listening).toBe(true);
      }
      expect(await tryConnect(path)).not.toBe('connected');
      // Listening there again needs no waiting.
      using again = await listen(path);
      expect(again.server.listening).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('an IPCClient over a socket closes its connection, and the server hears of it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fdpipe-using-'));
    try {
      await using server = new IPCServer();
      server.registerChannel('hub', quietHub);
      await server.listen(join(dir, 'hub.sock'));
      const removed = new Promise<string>((resolve) => server.onDidRemoveConnection((c) => resolve(c.ctx)));
      let client: IPCClient | undefined;
      {
        using connected = await IPCClient.connect(join(dir, 'hub.sock'), 'short-lived');
        client = connected;
        expect(server.connections.map((c) => c.ctx)).toEqual(['short-lived']);
      }
      expect(client.isClosed).toBe(true);
      expect(await removed).toBe('short-lived');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('await using: resources whose closing means waiting', () => {
  test('a forked worker: the block ends once the child has exited', async () => {
    let worker: ForkedWorker | undefined;
    {
      await using forked = tracked(forkWithChannel(fixture('echo-worker.js')));
      worker = forked;
      const echoed = new Promise<string>((resolve) => forked.channel.onMessage((read) => resolve(read().readString())));
      forked.channel.getWriteBuffer().writeString('hello').commit();
      expect(await echoed).toBe('hello');
    }
    expect(worker.channel.isClosed).toBe(true);
    // It left by itself when its channel closed: exit code 0, not a signal.
    expect([worker.child.exitCode, worker.child.signalCode]).toEqual([0, null]);
    expect(await worker.close()).toEqual({ code: 0, signal: null });
  });

  test('a worker that stays after its channel closes is killed once the grace period is over', async () => {
    const worker = tracked(forkWithChannel(fixture('echo-worker.js'), ['', 'stay']));
    await new Promise<void>((resolve) => worker.child.once('spawn', () => resolve()));
    expect(await worker.close(100)).toEqual({ code: null, signal: 'SIGKILL' });
    expect(worker.channel.isClosed).toBe(true);
  });

  test('an IPCServer: listeners and connections closed, a forked client gone', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fdpipe-using-'));
    const path = join(dir, 'hub.sock');
    let listener: ChannelListener | undefined;
    let child: ChildProcess | undefined;
    try {
      {
        await using server = new IPCServer();
        server.registerChannel('hub', quietHub);
        listener = await server.listen(path);
        await using worker = tracked(server.fork(fixture('ipc-client.js'), ['forked', 'parent']));
        child = worker.child;
        expect((await worker.connection).ctx).toBe('forked');
      }
      // The worker went first (declared last), then the server; each waited for what it owned.
      expect(child.exitCode !== null || child.signalCode !== null).toBe(true);
      expect(listener.server.listening).toBe(false);
      expect(await tryConnect(path)).not.toBe('connected');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('using in the faces', () => {
  test('event-invoke: an Invoker ends with its block, and so does a Callee', async () => {
    const [a, b] = InMemoryChannel.createPair();
    const callee = new Callee(b);
    callee.register(function twice(n: number) {
      return n * 2;
    });
    callee.listen();
    let invoker: Invoker | undefined;
    {
      using inBlock = new Invoker(a);
      invoker = inBlock;
      expect(await inBlock.invoke('twice', [21])).toBe(42);
    }
    await expect(invoker.invoke('twice', [1])).rejects.toThrow(/this Invoker was destroyed/);
    {
      using served = callee;
      void served;
    }
    // Destroyed, the Callee has stopped serving on its channel: a new Invoker's call hears so.
    using second = new Invoker(a);
    await expect(second.invoke('twice', [1])).rejects.toThrow(/the other side stopped its RPC protocol/);
    a.close();
  });

  test('theia: a channel, a multiplexer and a protocol', async () => {
    const forMux = linkedChannels();
    const forProtocol = linkedChannels();
    let closed = '';
    forMux.right.onClose((event) => (closed = event.reason));
    let held: { multiplexer: theia.ChannelMultiplexer; protocol: theia.RpcProtocol } | undefined;
    {
      using channel = forMux.left;
      using multiplexer = new theia.ChannelMultiplexer(channel);
      using protocol = new theia.RpcProtocol(forProtocol.left, undefined);
      held = { multiplexer, protocol };
    }
    expect(closed).toBe('left closed');
    await expect(held.multiplexer.open('later')).rejects.toThrow();
    await expect(held.protocol.sendRequest('m', [])).rejects.toThrow();
  });

  test('vscode: a cp Client kills its child when its block ends', async () => {
    let pid = 0;
    {
      using client = new CpClient(fixture('vscode-test-app.js'), { serverName: 'TestServer' });
      pid = await client.getChannel('test').call<number>('pid');
      expect(isRunning(pid)).toBe(true);
    }
    while (isRunning(pid)) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(isRunning(pid)).toBe(false);
  });
});

describe('every resource class has the members, calling the method that releases it', () => {
  const sync: Array<[string, { prototype: object }]> = [
    ['AbstractChannel', AbstractChannel],
    ['IPCChannel', IPCChannel],
    ['InMemoryChannel', InMemoryChannel],
    ['BinaryMessagePipe', BinaryMessagePipe],
    ['ChannelMultiplexer', ChannelMultiplexer],
    ['RpcProtocol', RpcProtocol],
    ['RpcPeer', RpcPeer],
    ['IPCServer', IPCServer],
    ['IPCClient', IPCClient],
    ['ChannelListener', ChannelListener],
    ['DisposableStore', DisposableStore],
    ['Emitter', Emitter],
    ['Uint8ArrayWriteBuffer', Uint8ArrayWriteBuffer],
    ['event-invoke Invoker', Invoker],
    ['event-invoke Callee', Callee],
    ['theia AbstractChannel', theia.AbstractChannel],
    ['theia IPCChannel', theia.IPCChannel],
    ['theia ChannelMultiplexer', theia.ChannelMultiplexer],
    ['theia RpcProtocol', theia.RpcProtocol],
    ['theia DisposableCollection', theia.DisposableCollection],
    ['theia BinaryMessagePipe', theia.BinaryMessagePipe],
    ['vscode IPCServer', vscode.IPCServer],
    ['vscode IPCClient', vscode.IPCClient],
    ['vscode ChannelServer', vscode.ChannelServer],
    ['vscode ChannelClient', vscode.ChannelClient],
    ['vscode ChannelProtocol', vscode.ChannelProtocol],
    ['vscode Disposable', vscode.Disposable],
    ['vscode DisposableStore', vscode.DisposableStore],
    ['vscode Emitter', vscode.Emitter],
    ['vscode CancellationTokenSource', vscode.CancellationTokenSource],
    ['vscode ipc.cp Client', CpClient],
    ['vscode ipc.net NodeSocket', NodeSocket],
    ['vscode electron IpcMainAcceptor', IpcMainAcceptor],
  ];
  test.each(sync)('%s: [Symbol.dispose] calls dispose()', (_name, type) => {
    const dispose = (type.prototype as Record<symbol, unknown>)[Symbol.dispose];
    expect(typeof dispose).toBe('function');
    const calls: string[] = [];
    (dispose as (this: unknown) => void).call({ dispose: () => calls.push('dispose') });
    expect(calls).toEqual(['dispose']);
  });

  const async: Array<[string, { prototype: object }]> = [
    ['ForkedWorker', ForkedWorker],
    ['IPCServer', IPCServer],
    ['ChannelListener', ChannelListener],
  ];
  test.each(async)('%s: [Symbol.asyncDispose] waits for close()', async (_name, type) => {
    const asyncDispose = (type.prototype as Record<symbol, unknown>)[Symbol.asyncDispose];
    expect(typeof asyncDispose).toBe('function');
    let finish!: () => void;
    const closing = new Promise<void>((resolve) => (finish = resolve));
    let settled = false;
    const result = (asyncDispose as (this: unknown) => Promise<void>).call({ close: () => closing }).then(() => {
      settled = true;
    });
    await new Promise((resolve) => setImmediate(resolve));
    expect(settled).toBe(false);
    finish();
    await result;
    expect(settled).toBe(true);
  });
});
