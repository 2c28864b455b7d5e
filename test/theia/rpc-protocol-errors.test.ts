import { ConnectionClosedError, EncodeError } from '../../src';
import { ResponseError, RpcProtocol, RpcProxyFactory, type RequestHandler } from '../../src/theia';
import { settle } from '../helpers/wait';
import { linkedChannels, settled } from './helpers';

function pair(handler: RequestHandler) {
  const { left, right } = linkedChannels('later');
  const server = new RpcProtocol(right, handler);
  const client = new RpcProtocol(left, undefined, { mode: 'clientOnly' });
  return { left, right, client, server };
}

/** What an HTTP client's error looks like: a message and a code, and the request it failed on, which cannot cross. */
function httpClientError(): Error {
  const request: Record<string, unknown> = { url: 'http://example.test/x', on: () => undefined };
  request.self = request;
  return Object.assign(new Error('Request failed with status code 404'), { code: 'ERR_BAD_REQUEST', status: 404, request });
}

describe("Theia face: a handler's error that holds what cannot be encoded", () => {
  // Theia sends an Error's name, message, stack, code and data; fdpipe's codec sends every property, and one that
  // cannot cross would otherwise replace the handler's error with the codec's EncodeError.
  it('reaches the caller with its message, name and the properties that can cross', async () => {
    const { client } = pair(async () => {
      throw httpClientError();
    });
    const result = await settled(client.sendRequest('fetch', []));
    expect(result.ok).toBe(false);
    const error = !result.ok && (result.error as Error & { code?: unknown; status?: unknown; request?: unknown });
    expect(error).toBeInstanceOf(Error);
    expect(error).not.toBeInstanceOf(EncodeError);
    expect(error && error.message).toBe('Request failed with status code 404');
    expect(error && error.code).toBe('ERR_BAD_REQUEST');
    expect(error && error.status).toBe(404);
    expect(error && error.request).toBeUndefined();
  });

  it('thrown at once, it is kept the same way, its class with it', async () => {
    const { client } = pair(() => {
      throw Object.assign(new TypeError('bad argument'), { callback: () => undefined });
    });
    const result = await settled(client.sendRequest('check', []));
    expect(!result.ok && result.error).toBeInstanceOf(TypeError);
    expect(!result.ok && (result.error as Error).message).toBe('bad argument');
  });

  it('a ResponseError keeps its class, code and message; data that cannot cross is left out', async () => {
    const { client } = pair(async () => {
      throw new ResponseError(409, 'conflict', { retry: () => undefined });
    });
    const result = await settled(client.sendRequest('save', []));
    const error = !result.ok && (result.error as ResponseError);
    expect(error).toBeInstanceOf(ResponseError);
    expect(error && [error.code, error.message, error.data]).toEqual([409, 'conflict', undefined]);
  });

  it('an error that can cross goes whole, as before', async () => {
    const { client } = pair(async () => {
      throw Object.assign(new RangeError('too far'), { limit: 3, cause: new Error('why') });
    });
    const result = await settled(client.sendRequest('go', []));
    const error = !result.ok && (result.error as RangeError & { limit?: number; cause?: Error });
    expect(error).toBeInstanceOf(RangeError);
    expect(error && [error.limit, error.cause?.message]).toEqual([3, 'why']);
  });

  it('a result that cannot be encoded still tells the caller why', async () => {
    const { client } = pair(async () => () => 'a function');
    await expect(client.sendRequest('give', [])).rejects.toThrow('cannot encode a function');
  });
});

describe('Theia face: notifications once the connection is gone', () => {
  // Theia's notifications are fire and forget: one written to a closed channel is lost without a word.
  it('sendNotification() after the channel was closed on this side drops the notification, without throwing', () => {
    const { left, client } = pair(async () => undefined);
    left.close();
    expect(() => client.sendNotification('changed', [])).not.toThrow();
  });

  it('and after the other side closed it', async () => {
    const { right, client } = pair(async () => undefined);
    right.close();
    await settle();
    expect(() => client.sendNotification('changed', [])).not.toThrow();
    // Requests still say what happened.
    await expect(client.sendRequest('ask', [])).rejects.toThrow(ConnectionClosedError);
  });

  it('a notification that cannot be encoded still throws', () => {
    const { client } = pair(async () => undefined);
    expect(() => client.sendNotification('changed', [() => undefined])).toThrow(EncodeError);
  });

  it("a proxy's notify…() after its channel was closed here resolves: no unhandled rejection", async () => {
    const { left, right } = linkedChannels('later');
    new RpcProxyFactory({ notifyThat: () => undefined, ask: async () => 'answer' }).listen(right);
    const factory = new RpcProxyFactory<{ notifyThat(note: string): void; ask(): Promise<string> }>();
    const proxy = factory.createProxy();
    factory.listen(left);
    await expect(proxy.ask()).resolves.toBe('answer');
    left.close();
    await expect(proxy.notifyThat('gone') as unknown as Promise<void>).resolves.toBeUndefined();
    await expect(proxy.ask()).rejects.toThrow(ConnectionClosedError);
  });
});
