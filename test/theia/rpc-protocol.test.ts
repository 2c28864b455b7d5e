import {
  AbortError,
  ConnectionClosedError,
  MethodNotFoundError,
  ServiceNotFoundError,
  ValueCodec,
  type ValueExtension,
} from '../../src';
import {
  CancellationToken,
  CancellationTokenSource,
  Emitter,
  ForwardingChannel,
  MsgPackMessageDecoder,
  MsgPackMessageEncoder,
  RpcProtocol,
  UnsupportedEncoderError,
  Uint8ArrayReadBuffer,
  Uint8ArrayWriteBuffer,
  type Channel,
  type ChannelCloseEvent,
  type MessageProvider,
  type NotificationEvent,
  type RequestHandler,
  type RpcMessageEncoder,
} from '../../src/theia';
import { next, settle, until } from '../helpers/wait';
import { linkedChannels, settled } from './helpers';

function pair(handler: RequestHandler, options: ConstructorParameters<typeof RpcProtocol>[2] = {}) {
  const { left, right } = linkedChannels('later');
  const server = new RpcProtocol(right, handler, options);
  const client = new RpcProtocol(left, undefined, { mode: 'clientOnly' });
  return { left, right, client, server };
}

/** A channel whose write buffers throw on commit, as a transport that cannot take more does. */
function refusingChannel(): ForwardingChannel {
  return new ForwardingChannel('full', () => {}, () => {
    const buffer = new Uint8ArrayWriteBuffer();
    buffer.onCommit(() => {
      throw new Error('Max disconnected buffer size exceeded');
    });
    return buffer;
  });
}

describe('Theia face: RpcProtocol over a failing transport', () => {
  it('rejects a request it could not send, instead of throwing', async () => {
    const protocol = new RpcProtocol(refusingChannel(), undefined, { mode: 'clientOnly' });
    let sent: Promise<unknown> | undefined;
    expect(() => (sent = protocol.sendRequest('testMethod', []))).not.toThrow();
    const result = await settled(sent!);
    expect(result.ok).toBe(false);
    expect(!result.ok && (result.error as Error).message).toContain('buffer size exceeded');
  });

  it('keeps no pending request after such a failure', async () => {
    const protocol = new RpcProtocol(refusingChannel(), undefined, { mode: 'clientOnly' });
    await settled(protocol.sendRequest('testMethod', []));
    expect(protocol.core.pendingCount).toBe(0);
  });
});

describe('Theia face: RpcProtocol', () => {
  it('answers requests with what the handler returns, and rejects with what it throws', async () => {
    const { client } = pair(async (method, args) => {
      if (method === 'add') return args[0] + args[1];
      if (method === 'syncThrow') throw new TypeError('sync failure');
      return Promise.reject(new RangeError('async failure'));
    });
    await expect(client.sendRequest<number>('add', [2, 3])).resolves.toBe(5);
    await expect(client.sendRequest('syncThrow', [])).rejects.toThrow(TypeError);
    await expect(client.sendRequest('other', [])).rejects.toThrow('async failure');
  });

  it('gives notifications to onNotification, never to the request handler', async () => {
    const handler = jest.fn(async () => undefined);
    const { client, server } = pair(handler);
    const heard = next<NotificationEvent>(server.onNotification);
    client.sendNotification('changed', ['file.txt', 3]);
    expect(await heard).toEqual({ method: 'changed', args: ['file.txt', 3] });
    await settle();
    expect(handler).not.toHaveBeenCalled();
  });

  it("cancels a request through its token: the call rejects with AbortError, the handler's token fires", async () => {
    let served: CancellationToken | undefined;
    let heardCancel = false;
    const { client } = pair((_method, args) => {
      served = args[args.length - 1];
      served!.onCancellationRequested(() => (heardCancel = true));
      return new Promise(() => {});
    });
    const source = new CancellationTokenSource();
    const call = settled(client.sendRequest('long', ['job', source.token]));
    await until(() => served !== undefined, 'the handler to run');
    expect(CancellationToken.is(served)).toBe(true);
    expect(served!.isCancellationRequested).toBe(false);
    source.cancel();
    const result = await call;
    expect(!result.ok && result.error).toBeInstanceOf(AbortError);
    await until(() => heardCancel, 'the handler to hear the cancel');
    expect(served!.isCancellationRequested).toBe(true);
  });

  it('hands the handler a token only when the caller passed one', async () => {
    const seen: unknown[][] = [];
    const { client } = pair(async (_method, args) => void seen.push(args));
    await client.sendRequest('plain', [1]);
    await client.sendRequest('withToken', [1, new CancellationTokenSource().token]);
    expect(seen[0]).toEqual([1]);
    expect(seen[1]).toHaveLength(2);
    expect(CancellationToken.is(seen[1][1])).toBe(true);
  });

  it('does not run a request whose token was cancelled before it was sent', async () => {
    const handler = jest.fn(async () => 'ran');
    const { client } = pair(handler);
    await expect(client.sendRequest('m', [CancellationToken.Cancelled])).rejects.toThrow(AbortError);
    await settle();
    expect(handler).not.toHaveBeenCalled();
  });

  it('sendCancel(id) cancels the request Theia numbered id', async () => {
    const { client } = pair((method) => (method === 'first' ? Promise.resolve() : new Promise(() => {})));
    await client.sendRequest('first', []);
    const second = settled(client.sendRequest('second', [new CancellationTokenSource().token]));
    client.sendCancel(0); // the first request's id: long settled, so nothing happens
    client.sendCancel(1);
    const result = await second;
    expect(!result.ok && result.error).toBeInstanceOf(AbortError);
  });

  it('sends a notification with a token as a request, as Theia does', async () => {
    const requests: string[] = [];
    const notifications: string[] = [];
    const { client, server } = pair(async (method) => void requests.push(method));
    server.onNotification(({ method }) => notifications.push(method));
    client.sendNotification('progress', [new CancellationTokenSource().token]);
    await until(() => requests.length > 0, 'the request to be served');
    expect(requests).toEqual(['progress']);
    expect(notifications).toEqual([]);
  });

  it('clientOnly: refuses requests at once and ignores notifications, but calls out', async () => {
    const { left, right } = linkedChannels('later');
    const onlyCalls = new RpcProtocol(left, async () => 'never', { mode: 'clientOnly' });
    const serves = new RpcProtocol(right, async () => 'served', { mode: 'serverOnly' });
    const ignored = jest.fn();
    onlyCalls.onNotification(ignored);
    await expect(serves.sendRequest('toClient', [])).rejects.toThrow(ServiceNotFoundError);
    serves.sendNotification('toClient', []);
    await expect(onlyCalls.sendRequest('toServer', [])).resolves.toBe('served');
    expect(ignored).not.toHaveBeenCalled();
  });

  it('without a request handler, tells callers so', async () => {
    const { left, right } = linkedChannels('later');
    new RpcProtocol(right, undefined);
    const client = new RpcProtocol(left, undefined, { mode: 'clientOnly' });
    await expect(client.sendRequest('anything', [])).rejects.toThrow(MethodNotFoundError);
  });

  it('rejects pending requests with the reason when the other side closes', async () => {
    const { client, right } = pair(() => new Promise(() => {}));
    const call = settled(client.sendRequest('hang', []));
    await settle();
    right.close();
    const result = await call;
    expect(!result.ok && result.error).toBeInstanceOf(ConnectionClosedError);
    expect(!result.ok && (result.error as Error).message).toContain('right closed');
  });

  it('rejects pending requests when its channel is closed on this side, rather than leave them waiting', async () => {
    const { client, left } = pair(() => new Promise(() => {}));
    const call = settled(client.sendRequest('hang', []));
    await settle();
    left.close();
    expect((await call).ok).toBe(false);
  });

  it('dispose() rejects its own pending requests and those of the other side', async () => {
    const { client, server } = pair(() => new Promise(() => {}));
    const fromClient = settled(client.sendRequest('hang', []));
    const fromServer = settled(server.sendRequest('hang', []));
    await settle();
    server.dispose();
    expect((await fromServer).ok).toBe(false);
    expect((await fromClient).ok).toBe(false);
  });

  it('runs on the codec of the encoder and decoder it is given', async () => {
    class Celsius {
      constructor(readonly degrees: number) {}
    }
    const celsius: ValueExtension<Celsius> = {
      tag: 5,
      test: (value): value is Celsius => value instanceof Celsius,
      encode: (value, buffer) => void buffer.writeNumber(value.degrees),
      decode: (buffer) => new Celsius(buffer.readNumber()),
    };
    const codec = () => new ValueCodec({ extensions: [celsius] });
    const { left, right } = linkedChannels('later');
    const serverCodec = codec();
    new RpcProtocol(right, async (_m, [value]) => value, {
      encoder: new MsgPackMessageEncoder(serverCodec),
      decoder: new MsgPackMessageDecoder(serverCodec),
    });
    const encoder = new MsgPackMessageEncoder(codec());
    const client = new RpcProtocol(left, undefined, { mode: 'clientOnly', encoder });
    await expect(client.sendRequest('echo', [new Celsius(21)])).resolves.toEqual(new Celsius(21));
  });

  it('refuses an encoder it cannot run on, and an encoder and decoder with different codecs', () => {
    const { left } = linkedChannels();
    const foreign: RpcMessageEncoder = { cancel() {}, notification() {}, request() {}, replyOK() {}, replyErr() {} };
    expect(() => new RpcProtocol(left, undefined, { encoder: foreign })).toThrow(UnsupportedEncoderError);
    expect(
      () =>
        new RpcProtocol(left, undefined, {
          encoder: new MsgPackMessageEncoder(new ValueCodec()),
          decoder: new MsgPackMessageDecoder(new ValueCodec()),
        }),
    ).toThrow(UnsupportedEncoderError);
  });

  it('runs over a channel that implements Theia\'s interface without AbstractChannel', async () => {
    const ends = [0, 1].map(() => {
      const messages = new Emitter<MessageProvider>();
      const closes = new Emitter<ChannelCloseEvent>();
      return { messages, closes };
    });
    const plain = (self: number): Channel => ({
      onMessage: ends[self].messages.event,
      onClose: ends[self].closes.event,
      onError: new Emitter<unknown>().event,
      getWriteBuffer: () => {
        const buffer = new Uint8ArrayWriteBuffer();
        const deliver = (bytes: Uint8Array) => ends[1 - self].messages.fire(() => new Uint8ArrayReadBuffer(bytes));
        buffer.onCommit((bytes) => setImmediate(() => deliver(bytes)));
        return buffer;
      },
      close: () => ends[1 - self].closes.fire({ reason: 'closed' }),
    });
    new RpcProtocol(plain(1), async (method) => method.toUpperCase());
    const client = new RpcProtocol(plain(0), undefined, { mode: 'clientOnly' });
    await expect(client.sendRequest('shout', [])).resolves.toBe('SHOUT');
    const hanging = settled(client.sendRequest('shout', []));
    ends[0].closes.fire({ reason: 'server gone' });
    expect((await hanging).ok).toBe(false);
  });
});
