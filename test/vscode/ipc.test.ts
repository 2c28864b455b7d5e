import {
  BufferReader,
  BufferWriter,
  CancellationError,
  CancellationToken,
  CancellationTokenSource,
  DeserializeError,
  Event,
  IPCClient,
  MalformedContextError,
  NotAClientError,
  StaticRouter,
  VSBuffer,
  deserialize,
  getDelayedChannel,
  getNextTickChannel,
  serialize,
  type Client,
  type IChannel,
  type IDisposable,
  type IServerChannel,
  ChannelClient,
  ChannelServer,
} from '../../src/vscode';
import { RpcProtocolError, ServiceNotFoundError } from '../../src/rpc/errors';
import { TestChannel, TestChannelClient, TestIPCServer, TestService, collect, protocolPair, turns } from './helpers';

describe('vscode face: one to one', () => {
  let server: TestIPCServer;
  let service: TestService;
  let client: ReturnType<TestIPCServer['createConnection']>;
  let ipc: TestChannelClient;

  beforeEach(() => {
    service = new TestService();
    server = new TestIPCServer();
    server.registerChannel('testchannel', new TestChannel(service));
    client = server.createConnection('client1');
    ipc = new TestChannelClient(client.getChannel('testchannel'));
  });

  afterEach(() => {
    client.dispose();
    server.dispose();
    service.dispose();
  });

  test('the protocol pair delivers what is sent, the same buffer', async () => {
    const [a, b] = protocolPair();
    const sent = VSBuffer.alloc(0);
    a.send(sent);
    expect(await Event.toPromise(b.onMessage)).toBe(sent);
  });

  test('a call succeeds', async () => {
    await expect(ipc.marco()).resolves.toBe('polo');
  });

  test('a call fails with the error the server threw', async () => {
    await expect(ipc.error('nice error')).rejects.toMatchObject({ message: 'nice error' });
  });

  test('a call with a cancelled token rejects with Canceled and never reaches the server', async () => {
    const error = await ipc.neverCompleteCT(CancellationToken.Cancelled).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CancellationError);
    expect(error).toMatchObject({ name: 'Canceled', message: 'Canceled' });
    await turns();
    expect(service.cancelledOnServer).toEqual([]);
  });

  test('cancelling right after the call (same tick) rejects with Canceled', async () => {
    const source = new CancellationTokenSource();
    const call = ipc.neverCompleteCT(source.token);
    source.cancel();
    await expect(call).rejects.toBeInstanceOf(CancellationError);
  });

  test('cancelling later rejects with Canceled and cancels the token the server got', async () => {
    const source = new CancellationTokenSource();
    const call = ipc.neverCompleteCT(source.token);
    await turns();
    source.cancel();
    await expect(call).rejects.toMatchObject({ message: 'Canceled' });
    await turns();
    expect(service.cancelledOnServer).toEqual(['neverCompleteCT']);
  });

  test('events reach the listener, and only while it listens', async () => {
    const messages: string[] = [];
    const subscription = ipc.onPong((m) => messages.push(m));
    await turns();
    expect(messages).toEqual([]);
    service.ping('hello');
    await turns();
    expect(messages).toEqual(['hello']);
    service.ping('world');
    await turns();
    expect(messages).toEqual(['hello', 'world']);
    subscription.dispose();
    service.ping('gone');
    await turns();
    expect(messages).toEqual(['hello', 'world']);
  });

  test('VSBuffers in arrays arrive as VSBuffers', async () => {
    await expect(ipc.buffersLength([VSBuffer.alloc(2), VSBuffer.alloc(3)])).resolves.toBe(5);
  });

  test('Node Buffers in arrays arrive as bytes', async () => {
    await expect(ipc.buffersLength([Buffer.alloc(2), Buffer.alloc(3)])).resolves.toBe(5);
  });

  test("the server channel is called with the client's context", async () => {
    await expect(ipc.whoAmI()).resolves.toBe('client1');
  });

  test('a call for a channel registered later waits for it', async () => {
    const later = new TestChannelClient(client.getChannel('later'));
    const call = later.marco();
    await turns();
    server.registerChannel('later', new TestChannel(service));
    await expect(call).resolves.toBe('polo');
  });

  test('a call for a channel never registered fails after the timeout delay', async () => {
    const quick = new TestIPCServer(20);
    const lonely = quick.createConnection('lonely');
    await expect(lonely.getChannel('nowhere').call('marco')).rejects.toBeInstanceOf(ServiceNotFoundError);
    lonely.dispose();
    quick.dispose();
  });

  test('disposing the client cancels its pending calls and ends its use', async () => {
    const pending = ipc.neverComplete();
    await turns();
    client.dispose();
    await expect(pending).rejects.toBeInstanceOf(CancellationError);
    await expect(ipc.marco()).rejects.toBeInstanceOf(CancellationError);
    expect(ipc.onPong).toBe(Event.None);
  });

  test('a delayed channel calls and listens once its channel comes; a next-tick channel calls on the next tick', async () => {
    let give!: (channel: IChannel) => void;
    const delayed = getDelayedChannel(new Promise<IChannel>((resolve) => (give = resolve)));
    const call = delayed.call<string>('marco');
    const pongs = collect(delayed.listen<string>('onPong'), 1);
    give(client.getChannel('testchannel'));
    await expect(call).resolves.toBe('polo');
    await turns();
    service.ping('late');
    await expect(pongs).resolves.toEqual(['late']);
    const nextTick = getNextTickChannel(client.getChannel('testchannel'));
    await expect(nextTick.call('marco')).resolves.toBe('polo');
    await expect(nextTick.call('whoAmI')).resolves.toBe('client1');
  });

  test('the server sees the client come and go', async () => {
    expect(server.connections.map((c) => c.ctx)).toEqual(['client1']);
    const removed = Event.toPromise(server.onDidRemoveConnection);
    client.dispose();
    expect((await removed).ctx).toBe('client1');
    expect(server.connections).toEqual([]);
  });

  test("disposing the server cancels the client's pending calls", async () => {
    const pending = ipc.neverComplete();
    await turns();
    server.dispose();
    await expect(pending).rejects.toBeInstanceOf(CancellationError);
  });
});

describe('vscode face: serialize and deserialize', () => {
  const roundTrip = (value: unknown) => {
    const writer = new BufferWriter();
    serialize(writer, value);
    return deserialize(new BufferReader(writer.buffer));
  };

  test('numbers round-trip, integers and not', () => {
    const input = [0, 1, -1, 12345, -12345, 42.6, 123412341234, 2 ** 31 - 1, -(2 ** 31)];
    expect(roundTrip(input)).toEqual(input);
  });

  test('strings, undefined, nested arrays, objects and buffers round-trip', () => {
    const value = ['héllo', undefined, [1, ['x']], { a: 1, b: [true, null] }, ''];
    expect(roundTrip(value)).toEqual(value);
    const buffers = roundTrip([VSBuffer.fromString('vs'), Buffer.from('node')]) as [VSBuffer, Buffer];
    expect(buffers[0]).toBeInstanceOf(VSBuffer);
    expect(buffers[0].toString()).toBe('vs');
    expect(Buffer.isBuffer(buffers[1])).toBe(true);
    expect(buffers[1].toString()).toBe('node');
  });

  test('truncated or unknown data throws DeserializeError', () => {
    const writer = new BufferWriter();
    serialize(writer, 'a longer string');
    const whole = writer.buffer;
    expect(() => deserialize(new BufferReader(whole.slice(0, 5)))).toThrow(DeserializeError);
    expect(() => deserialize(new BufferReader(VSBuffer.fromByteArray([99])))).toThrow(DeserializeError);
    expect(() => deserialize(new BufferReader(VSBuffer.alloc(0)))).toThrow(DeserializeError);
  });
});

describe('vscode face: one to many', () => {
  test('every client gets the events of the server channel', async () => {
    const service = new TestService();
    const server = new TestIPCServer();
    server.registerChannel('channel', new TestChannel(service));
    const client1 = server.createConnection('client1');
    const client2 = server.createConnection('client2');
    const got: string[] = [];
    client1.getChannel('channel').listen<string>('onPong')((m) => got.push(`1:${m}`));
    client2.getChannel('channel').listen<string>('onPong')((m) => got.push(`2:${m}`));
    await turns();
    service.ping('hello');
    await turns();
    expect(got.sort()).toEqual(['1:hello', '2:hello']);
    client1.dispose();
    client2.dispose();
    server.dispose();
  });

  test('a filtered event merges the clients that match, following them as they come and go', async () => {
    const server = new TestIPCServer();
    const services = new Map<string, TestService>();
    const connect = (id: string) => {
      const client = server.createConnection(id);
      const service = new TestService();
      services.set(id, service);
      client.registerChannel('channel', new TestChannel(service));
      return client;
    };
    const client1 = connect('client1');
    const pings: string[] = [];
    const seen: Client<string>[] = [];
    const channel = server.getChannel('channel', (c) => (seen.push(c), c.ctx !== 'ignored'));
    const subscription = new TestChannelClient(channel).onPong((m) => pings.push(m));
    await turns();
    services.get('client1')!.ping('hello 1');
    await turns();
    expect(pings).toEqual(['hello 1']);

    const client2 = connect('client2');
    const ignored = connect('ignored');
    await turns();
    services.get('client2')!.ping('hello 2');
    services.get('ignored')!.ping('not for us');
    await turns();
    expect(pings).toEqual(['hello 1', 'hello 2']);
    // The filter is given the connection, as in VS Code: it has channels as well as a ctx.
    expect(seen.some((c) => 'channelClient' in c)).toBe(true);

    client1.dispose();
    services.get('client1')!.ping('hello 1 again');
    await turns();
    services.get('client2')!.ping('hello again 2');
    await turns();
    expect(pings).toEqual(['hello 1', 'hello 2', 'hello again 2']);

    subscription.dispose();
    client2.dispose();
    ignored.dispose();
    server.dispose();
  });

  test('a StaticRouter sends each call to the client whose context matches', async () => {
    const server = new TestIPCServer();
    const clients = ['a', 'b'].map((id) => {
      const client = server.createConnection(id);
      client.registerChannel('channel', new TestChannel(new TestService()));
      return client;
    });
    const toB = new TestChannelClient(server.getChannel('channel', new StaticRouter((ctx) => ctx === 'b')));
    await expect(toB.whoAmI()).resolves.toBe('b');
    clients.forEach((c) => c.dispose());
    server.dispose();
  });

  test('a StaticRouter waits for a matching client to connect', async () => {
    const server = new TestIPCServer();
    const toLate = new TestChannelClient(server.getChannel('channel', new StaticRouter((ctx) => ctx === 'late')));
    const call = toLate.whoAmI();
    await turns();
    const client = server.createConnection('late');
    client.registerChannel('channel', new TestChannel(new TestService()));
    await expect(call).resolves.toBe('late');
    client.dispose();
    server.dispose();
  });

  test('a filtered call waits for a matching client, then goes to it', async () => {
    const server = new TestIPCServer();
    const channel: IChannel = server.getChannel('channel', (c) => c.ctx === 'w');
    const call = channel.call<string>('whoAmI');
    const client = server.createConnection('w');
    client.registerChannel('channel', new TestChannel(new TestService()));
    await expect(call).resolves.toBe('w');
    client.dispose();
    server.dispose();
  });
});

describe('vscode face: peer to peer and bad input', () => {
  test("two IPCClients call each other's channels", async () => {
    const [a, b] = protocolPair();
    const left = new IPCClient(a, 'left');
    const right = new IPCClient(b, 'right');
    left.registerChannel('channel', new TestChannel(new TestService()));
    right.registerChannel('channel', new TestChannel(new TestService()));
    await expect(right.getChannel('channel').call('whoAmI')).resolves.toBe('left');
    await expect(left.getChannel('channel').call('whoAmI')).resolves.toBe('right');
    left.dispose();
    right.dispose();
  });

  test("a client reports the malformed messages it gets on onError, VS Code's event with thisArgs", async () => {
    const [a, b] = protocolPair();
    const client = new IPCClient(a, 'c');
    const sink = { errors: [] as Error[] };
    const subscriptions: IDisposable[] = [];
    client.onError(function (this: typeof sink, e: Error) {
      this.errors.push(e);
    }, sink, subscriptions);
    b.onMessage(() => {}); // the peer's context, which this raw end does not use
    b.send(VSBuffer.fromByteArray([0xee]));
    await turns();
    expect(sink.errors).toHaveLength(1);
    expect(sink.errors[0]).toBeInstanceOf(RpcProtocolError);
    subscriptions.forEach((s) => s.dispose());
    client.dispose();
  });

  test('a connection whose first message is not a context is refused and reported', async () => {
    const server = new TestIPCServer();
    const errors: Error[] = [];
    server.onError((e) => errors.push(e));
    const raw = server.connectRaw();
    raw.protocol.send(VSBuffer.fromString('hello?'));
    await turns();
    expect(errors[0]).toBeInstanceOf(NotAClientError);
    expect(server.connections).toEqual([]);
    server.dispose();
  });

  test('a bad first message already waiting when the server starts listening is refused and reported too', async () => {
    const server = new TestIPCServer();
    const errors: Error[] = [];
    server.onError((e) => errors.push(e));
    const added: unknown[] = [];
    server.onDidAddConnection((c) => added.push(c.ctx));
    server.connectRaw((protocol) => protocol.send(VSBuffer.fromByteArray([0xc7, 5, 99])));
    await turns();
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(MalformedContextError);
    expect(added).toEqual([]);
    expect(server.connections).toEqual([]);
    server.dispose();
  });

  test('a malformed message after the context is dropped and reported; the connection goes on', async () => {
    const service = new TestService();
    const server = new TestIPCServer();
    server.registerChannel('channel', new TestChannel(service));
    const errors: Error[] = [];
    server.onError((e) => errors.push(e));
    const raw = server.connectRaw();
    const client = new IPCClient(raw.protocol, 'c');
    const channel = new TestChannelClient(client.getChannel('channel'));
    await expect(channel.marco()).resolves.toBe('polo');
    // Straight onto the wire, as a broken peer would write it: no listener may throw for it.
    raw.protocol.send(VSBuffer.fromByteArray([0xee, 1, 2]));
    raw.protocol.send(VSBuffer.alloc(0));
    await turns();
    expect(errors).toHaveLength(2);
    expect(errors.every((e) => e instanceof RpcProtocolError)).toBe(true);
    await expect(channel.whoAmI()).resolves.toBe('c');
    client.dispose();
    raw.disconnect();
    server.dispose();
    service.dispose();
  });
});

describe('vscode face: dispose twice', () => {
  const echo: IServerChannel<string> = {
    call: async (_ctx, _command, arg) => arg,
    listen: () => Event.None,
  };

  test('disposing a ChannelServer again leaves the ChannelClient that shares its protocol working', async () => {
    const [a, b] = protocolPair();
    const serverB = new ChannelServer(b, 'b');
    serverB.registerChannel('echo', echo);
    const serverA = new ChannelServer(a, 'a');
    const clientA = new ChannelClient(a);
    serverA.dispose();
    serverA.dispose();
    await expect(clientA.getChannel('echo').call('x', 1)).resolves.toBe(1);
    clientA.dispose();
    serverB.dispose();
  });

  test('disposing an IPCClient again leaves a ChannelClient that shares its protocol working', async () => {
    const [a, b] = protocolPair();
    const serverB = new ChannelServer(b, 'b');
    serverB.registerChannel('echo', echo);
    const ipcClient = new IPCClient(a, 'a');
    const other = new ChannelClient(a);
    ipcClient.dispose();
    ipcClient.dispose();
    await expect(other.getChannel('echo').call('x', 2)).resolves.toBe(2);
    other.dispose();
    serverB.dispose();
  });
});
