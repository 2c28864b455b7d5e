import { EventEmitter } from 'events';
import { createServer, type Socket } from 'net';
import { MessageTooLargeError } from '../../src/common/errors';
import { MalformedFrameError } from '../../src/pipe/errors';
import { CancellationError, Event, VSBuffer, type IServerChannel } from '../../src/vscode';
import {
  Client,
  NodeSocket,
  Protocol,
  SOCKET_END_TIMEOUT_MS,
  Server,
  connect,
  createRandomIPCHandle,
  serve,
} from '../../src/vscode/ipc.net';
import { TestChannel, TestChannelClient, TestService, collect } from './helpers';

/**
 * One end of a fake wire: an EventEmitter with write() and destroy() and nothing else (no end()), as VS Code's
 * tests fake sockets. Writes reach the other end on a later turn, cut into chunks of `chunkSize` bytes.
 */
class FakeWireEnd extends EventEmitter {
  other!: FakeWireEnd;
  destroyCount = 0;
  constructor(private readonly chunkSize: number) {
    super();
  }
  write(data: Buffer, callback?: (error?: Error | null) => void): boolean {
    if (!Buffer.isBuffer(data)) throw new Error('Invalid data');
    const copy = Buffer.from(data);
    setImmediate(() => {
      for (let i = 0; i < copy.length; i += this.chunkSize) this.other.emit('data', copy.subarray(i, i + this.chunkSize));
      callback?.();
    });
    return true;
  }
  destroy(): void {
    this.destroyCount++;
    this.emit('close', false);
  }
}

function fakeWire(chunkSize = 1 << 20): [Socket, Socket, FakeWireEnd, FakeWireEnd] {
  const a = new FakeWireEnd(chunkSize);
  const b = new FakeWireEnd(chunkSize);
  a.other = b;
  b.other = a;
  // NodeSocket takes a net.Socket; these fakes have the part of it that NodeSocket uses.
  return [a as unknown as Socket, b as unknown as Socket, a, b];
}

/** Resolves once the server has a connection (its client's context has arrived). */
async function connected(server: Server): Promise<void> {
  if (server.connections.length === 0) await Event.toPromise(server.onDidAddConnection);
}

function nextMessage(protocol: Protocol): Promise<VSBuffer> {
  return Event.toPromise(protocol.onMessage);
}

describe('vscode face: Protocol over a socket', () => {
  test('reads what the other side writes, bytes exactly', async () => {
    const [a, b] = fakeWire();
    const left = new Protocol(new NodeSocket(a));
    const right = new Protocol(new NodeSocket(b));
    const first = nextMessage(right);
    left.send(VSBuffer.fromString('foobarfarboo'));
    expect((await first).toString()).toBe('foobarfarboo');
    const one = VSBuffer.alloc(1);
    one.writeUInt8(123, 0);
    const second = nextMessage(right);
    left.send(one);
    expect((await second).readUInt8(0)).toBe(123);
    left.dispose();
    right.dispose();
  });

  test('carries object data as JSON', async () => {
    const [a, b] = fakeWire();
    const left = new Protocol(new NodeSocket(a));
    const right = new Protocol(new NodeSocket(b));
    const data = { pi: Math.PI, foo: 'bar', more: true, data: 'Hello World'.split('') };
    const received = nextMessage(right);
    left.send(VSBuffer.fromString(JSON.stringify(data)));
    expect(JSON.parse((await received).toString())).toEqual(data);
    left.dispose();
    right.dispose();
  });

  test('messages cut into small chunks, and an empty one, arrive whole and in order', async () => {
    const [a, b] = fakeWire(3);
    const left = new Protocol(new NodeSocket(a));
    const right = new Protocol(new NodeSocket(b));
    const got: string[] = [];
    const all = new Promise<void>((resolve) =>
      right.onMessage((m) => {
        got.push(m.toString());
        if (got.length === 3) resolve();
      }),
    );
    left.send(VSBuffer.fromString('first message'));
    left.send(VSBuffer.alloc(0));
    left.send(VSBuffer.fromString('x'.repeat(100_000)));
    await all;
    expect(got).toEqual(['first message', '', 'x'.repeat(100_000)]);
    left.dispose();
    right.dispose();
  });

  test("disposing a protocol leaves the socket to its owner, even one without end()", async () => {
    const [a, , fake] = fakeWire();
    const socket = new NodeSocket(a);
    const protocol = new Protocol(socket);
    protocol.dispose();
    expect(fake.destroyCount).toBe(0);
    protocol.send(VSBuffer.fromString('after dispose')); // dropped, not thrown
    const client = Client.fromSocket(socket, 'fake');
    expect(() => client.dispose()).not.toThrow();
    expect(fake.destroyCount).toBe(1);
  });

  test("reads a pipe peer's fragmented messages whole, and reports a broken fragment sequence", async () => {
    const [a, b] = fakeWire(64 * 1024);
    const right = new Protocol(new NodeSocket(b));
    const messages: VSBuffer[] = [];
    right.onMessage((m) => messages.push(m));
    const error = new Promise<Error>((resolve) => right.onError(resolve));
    // What a BinaryMessagePipe writes for a 600 KiB message (fragments of 256 KiB) with a small one in between.
    const big = Buffer.alloc(600 * 1024, 3);
    const fragment = (first: boolean, from: number, to: number) => {
      const header = Buffer.alloc(first ? 16 : 12);
      header.writeUInt32BE(first ? 0xfffffffe : 0xfffffffd, 0);
      header.writeUInt32BE(9, 4);
      if (first) header.writeUInt32BE(big.length, 8);
      header.writeUInt32BE(to - from, first ? 12 : 8);
      return Buffer.concat([header, big.subarray(from, to)]);
    };
    const small = Buffer.from([0, 0, 0, 2, 1, 2]);
    const stray = Buffer.from([0xff, 0xff, 0xff, 0xfd, 0, 0, 0, 1, 0, 0, 0, 0]);
    const left = new NodeSocket(a);
    left.write(VSBuffer.wrap(Buffer.concat([fragment(true, 0, 262144), small, fragment(false, 262144, 524288)])));
    left.write(VSBuffer.wrap(Buffer.concat([fragment(false, 524288, big.length), stray])));
    const failure = await error;
    expect(failure).toBeInstanceOf(MalformedFrameError);
    expect(messages.map((m) => m.byteLength)).toEqual([2, big.length]);
    expect(Buffer.from(messages[1].buffer).equals(big)).toBe(true);
    right.dispose();
  });

  test('a message over the limit is reported, and reading stops', async () => {
    const [a, b] = fakeWire();
    const left = new Protocol(new NodeSocket(a));
    const right = new Protocol(new NodeSocket(b), 16);
    const error = new Promise<Error>((resolve) => right.onError(resolve));
    const messages: VSBuffer[] = [];
    right.onMessage((m) => messages.push(m));
    left.send(VSBuffer.alloc(17));
    expect(await error).toBeInstanceOf(MessageTooLargeError);
    expect(messages).toEqual([]);
    left.dispose();
    right.dispose();
  });
});

describe('vscode face: NodeSocket end and close', () => {
  afterEach(() => jest.useRealTimers());

  test("destroys the socket when 'close' does not follow the other side's end in time", () => {
    jest.useFakeTimers();
    const fake = new FakeWireEnd(1);
    const protocol = new Protocol(new NodeSocket(fake as unknown as Socket));
    let disposed = 0;
    protocol.onDidDispose(() => disposed++);
    fake.emit('end');
    expect(disposed).toBe(0);
    jest.advanceTimersByTime(SOCKET_END_TIMEOUT_MS - 1);
    expect(disposed).toBe(0);
    jest.advanceTimersByTime(1);
    expect(disposed).toBe(1);
    expect(fake.destroyCount).toBe(1);
    protocol.dispose();
  });

  test("a 'close' after the end cancels that destroy, and writes after the end are dropped", () => {
    jest.useFakeTimers();
    const fake = new FakeWireEnd(1);
    const written: unknown[] = [];
    fake.write = (data: Buffer) => (written.push(data), true);
    const socket = new NodeSocket(fake as unknown as Socket);
    fake.emit('end');
    socket.write(VSBuffer.fromString('too late'));
    fake.emit('close', false);
    jest.advanceTimersByTime(SOCKET_END_TIMEOUT_MS * 2);
    expect(fake.destroyCount).toBe(0);
    expect(written).toEqual([]);
    socket.dispose();
  });

  test('an EPIPE while writing is not reported; other write errors are', () => {
    const fake = new FakeWireEnd(1);
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.message);
    process.on('warning', onWarning);
    const emitWarning = jest.spyOn(process, 'emitWarning').mockImplementation((w: string | Error) => {
      warnings.push(String(w));
    });
    try {
      let fail: Error = Object.assign(new Error('broken pipe'), { code: 'EPIPE' });
      fake.write = (_data: Buffer, callback?: (error?: Error | null) => void) => (callback?.(fail), true);
      const socket = new NodeSocket(fake as unknown as Socket);
      socket.write(VSBuffer.fromString('a'));
      fake.emit('error', fail);
      expect(warnings).toEqual([]);
      fail = new Error('disk on fire');
      socket.write(VSBuffer.fromString('b'));
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toContain('disk on fire');
      socket.dispose();
    } finally {
      emitWarning.mockRestore();
      process.off('warning', onWarning);
    }
  });
});

describe('vscode face: serve and connect', () => {
  test('a client connects to a served handle and calls its channels; events flow', async () => {
    const handle = createRandomIPCHandle();
    const server = await serve(handle);
    const service = new TestService();
    server.registerChannel('test', new TestChannel(service));
    const client = await connect(handle, 'client1');
    const ipc = new TestChannelClient(client.getChannel('test'));
    await expect(ipc.marco()).resolves.toBe('polo');
    await expect(ipc.whoAmI()).resolves.toBe('client1');
    const pong = collect(ipc.onPong, 1);
    // The subscription and this call share the socket, in order: once answered, the server is subscribed.
    await expect(ipc.marco()).resolves.toBe('polo');
    service.ping('over the socket');
    await expect(pong).resolves.toEqual(['over the socket']);
    const removed = Event.toPromise(server.onDidRemoveConnection);
    client.dispose();
    expect((await removed).ctx).toBe('client1');
    server.dispose();
    service.dispose();
  });

  test('large messages go through a real socket whole', async () => {
    const handle = createRandomIPCHandle();
    const server = await serve(handle);
    const echo: IServerChannel<string> = {
      call: (_ctx, _command, arg) => Promise.resolve(arg),
      listen: () => Event.None,
    };
    server.registerChannel('echo', echo);
    const client = await connect(handle, 'big');
    const big = VSBuffer.alloc(8 * 1024 * 1024);
    for (let i = 0; i < big.byteLength; i += 4096) big.writeUInt8(i % 251, i);
    const back = await client.getChannel('echo').call<VSBuffer>('echo', big);
    expect(back).toBeInstanceOf(VSBuffer);
    expect(back.equals(big)).toBe(true);
    client.dispose();
    server.dispose();
  });

  test("everything a client sent before disposing reaches the server before the server sees it go", async () => {
    const handle = createRandomIPCHandle();
    const server = await serve(handle);
    const order: string[] = [];
    const recorder: IServerChannel<string> = {
      call: (_ctx, command) => {
        order.push(command);
        return new Promise(() => {}); // never answers: the client goes before it could
      },
      listen: () => Event.None,
    };
    server.registerChannel('recorder', recorder);
    const client = await connect(handle, 'leaving');
    await connected(server);
    const gone = new Promise<void>((resolve) => server.onDidRemoveConnection(() => (order.push('gone'), resolve())));
    const channel = client.getChannel('recorder');
    const calls = Array.from({ length: 50 }, (_, i) => channel.call(`call ${i}`).catch(() => 'cancelled'));
    client.dispose();
    await gone;
    expect(order).toEqual([...Array.from({ length: 50 }, (_, i) => `call ${i}`), 'gone']);
    await expect(Promise.all(calls)).resolves.toEqual(Array(50).fill('cancelled'));
    server.dispose();
  });

  test("disposing the server cancels its clients' pending calls and closes their sockets", async () => {
    const handle = createRandomIPCHandle();
    const server = await serve(handle);
    const never: IServerChannel<string> = { call: () => new Promise(() => {}), listen: () => Event.None };
    server.registerChannel('never', never);
    const client = await connect(handle, 'stranded');
    const closed = Event.toPromise(client.onDidDispose);
    const pending = client.getChannel('never').call('wait');
    await connected(server);
    server.dispose();
    await expect(pending).rejects.toBeInstanceOf(CancellationError);
    await closed;
    client.dispose();
  });

  test('a random IPC handle can be listened on', async () => {
    const handle = createRandomIPCHandle();
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(handle, () => resolve());
    });
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
});

describe('vscode face: a server that dies without a goodbye', () => {
  test("a call pending on a Client settles when the server's socket is destroyed", async () => {
    const handle = createRandomIPCHandle();
    const netServer = createServer();
    const accepted: Socket[] = [];
    netServer.on('connection', (socket) => accepted.push(socket));
    await new Promise<void>((resolve) => netServer.listen(handle, resolve));
    const server = new Server(netServer);
    server.registerChannel('slow', { call: () => new Promise(() => {}), listen: () => Event.None });
    const client = await connect(handle, 'c1');
    const call = client.getChannel('slow').call('never');
    while (accepted.length === 0) await new Promise((resolve) => setImmediate(resolve));
    for (const socket of accepted) socket.destroy(); // the server crashed: nobody says goodbye
    await expect(call).rejects.toBeInstanceOf(CancellationError);
    client.dispose();
    server.dispose();
  });
});
