import { AbortError, MethodNotFoundError } from '../../src';
import {
  CancellationTokenSource,
  JsonRpcProxyFactory,
  ResponseError,
  RpcConnectionHandler,
  RpcProtocol,
  RpcProxyFactory,
  type CancellationToken,
  type RpcProxy,
  type RpcServer,
} from '../../src/theia';
import { next, settle, until } from '../helpers/wait';
import { linkedChannels, settled } from './helpers';

class Server {
  calls: string[] = [];
  sawCancel = false;
  doStuff(arg: string): Promise<string> {
    this.calls.push(arg);
    return Promise.resolve(`done: ${arg}`);
  }
  throwsAtOnce(_a: string): Promise<string> {
    throw new Error('threw at once');
  }
  rejects(_a: string): Promise<string> {
    return Promise.reject(new Error('rejected later'));
  }
  refuses(): Promise<void> {
    throw new ResponseError(403, 'refused', { resource: 'x' });
  }
  wait(token: CancellationToken): Promise<string> {
    return new Promise((resolve) =>
      token.onCancellationRequested(() => {
        this.sawCancel = true;
        resolve('saw cancel');
      }),
    );
  }
}

class Client {
  notes: string[] = [];
  notifyThat(note: string): void {
    this.notes.push(note);
  }
  onDidChange(what: string): void {
    this.notes.push(`changed ${what}`);
  }
}

function connect() {
  const { left, right } = linkedChannels('later');
  const server = new Server();
  const client = new Client();
  const serverSide = new RpcProxyFactory<Client>(server);
  serverSide.listen(right);
  const clientSide = new RpcProxyFactory<Server>(client);
  clientSide.listen(left);
  return { left, right, server, client, toServer: clientSide.createProxy(), toClient: serverSide.createProxy() };
}

describe('Theia face: RpcProxyFactory', () => {
  it('sends notify… methods as notifications and other methods as requests', async () => {
    const { client, toClient, toServer } = connect();
    await expect(toClient.notifyThat('hello')).resolves.toBeUndefined();
    await until(() => client.notes.length > 0, 'the notification');
    expect(client.notes).toEqual(['hello']);
    await expect(toServer.doStuff('foo')).resolves.toBe('done: foo');
  });

  it('sends on… methods as notifications too', async () => {
    const { client, toClient } = connect();
    await toClient.onDidChange('file');
    await until(() => client.notes.length > 0, 'the notification');
    expect(client.notes).toEqual(['changed file']);
  });

  it('rejects when the method throws at once', async () => {
    const { toServer } = connect();
    await expect(toServer.throwsAtOnce('a')).rejects.toThrow('threw at once');
  });

  it('rejects when the method returns a rejected promise', async () => {
    const { toServer } = connect();
    await expect(toServer.rejects('a')).rejects.toThrow('rejected later');
  });

  it('keeps a ResponseError whole, with the caller\'s stack', async () => {
    const { toServer } = connect();
    const result = await settled(toServer.refuses());
    const error = !result.ok ? result.error : undefined;
    expect(error).toBeInstanceOf(ResponseError);
    expect(error).toMatchObject({ code: 403, data: { resource: 'x' } });
    expect((error as Error).stack).toContain("Request 'refuses' failed");
  });

  it('passes a cancellation token through: cancelling rejects the call and the target\'s token fires', async () => {
    const { server, toServer } = connect();
    const source = new CancellationTokenSource();
    const call = settled(toServer.wait(source.token));
    await settle();
    source.cancel();
    const result = await call;
    expect(!result.ok && result.error).toBeInstanceOf(AbortError);
    await until(() => server.sawCancel, "the target's token to fire");
  });

  it('lets the other side call only the target\'s own and class methods', async () => {
    const { toServer } = connect();
    const proxy = toServer as unknown as { toString(): Promise<string>; hasOwnProperty(k: string): Promise<boolean> };
    await expect(proxy.toString()).rejects.toThrow(MethodNotFoundError);
    await expect(proxy.hasOwnProperty('calls')).rejects.toThrow(MethodNotFoundError);
  });

  it('without a target, rejects the other side\'s requests', async () => {
    const { left, right } = linkedChannels('later');
    new RpcProxyFactory<object>().listen(right);
    const factory = new RpcProxyFactory<Server>();
    factory.listen(left);
    await expect(factory.createProxy().doStuff('x')).rejects.toThrow('no target was set to handle doStuff');
  });

  it('holds calls made before listen() until the connection is there', async () => {
    const { left, right } = linkedChannels('later');
    new RpcProxyFactory<Client>(new Server()).listen(right);
    const factory = new RpcProxyFactory<Server>();
    const early = factory.createProxy().doStuff('early');
    await settle();
    factory.listen(left);
    await expect(early).resolves.toBe('done: early');
  });

  it('fires onDidOpen/CloseConnection, and after a close waits for the next connection', async () => {
    const factory = new RpcProxyFactory<Server>();
    const proxy = factory.createProxy();
    const opened = next(proxy.onDidOpenConnection);
    const first = linkedChannels('later');
    new RpcProxyFactory<Client>(new Server()).listen(first.right);
    factory.listen(first.left);
    await opened;
    const closed = next(proxy.onDidCloseConnection);
    first.right.close();
    await closed;
    const waiting = proxy.doStuff('after reconnect');
    const second = linkedChannels('later');
    new RpcProxyFactory<Client>(new Server()).listen(second.right);
    factory.listen(second.left);
    await expect(waiting).resolves.toBe('done: after reconnect');
  });

  it('setClient and getClient change and give the local target', async () => {
    const { left, right } = linkedChannels('later');
    const factory = new RpcProxyFactory<RpcServer<Client> & Server>();
    const proxy = factory.createProxy();
    const client = new Client();
    proxy.setClient(client);
    expect(proxy.getClient!()).toBe(client);
    factory.listen(left);
    const other = new RpcProxyFactory<Client>(new Server());
    other.listen(right);
    await other.createProxy().notifyThat('to the client set');
    await until(() => client.notes.length > 0, 'the notification');
  });

  it('is no promise and no JSON: awaiting or serializing a proxy sends nothing', async () => {
    const factory = new RpcProxyFactory<Server>();
    const proxy = factory.createProxy();
    expect(await Promise.resolve(proxy)).toBe(proxy);
    expect(JSON.stringify({ proxy })).toBe('{"proxy":{}}');
    expect((proxy as unknown as Record<symbol, unknown>)[Symbol.iterator]).toBeUndefined();
  });

  it('uses the RpcProtocol factory it is given', async () => {
    const { left, right } = linkedChannels('later');
    new RpcProxyFactory<Client>(new Server()).listen(right);
    const made: RpcProtocol[] = [];
    const factory = new RpcProxyFactory<Server>(undefined, (channel, handler) => {
      const protocol = new RpcProtocol(channel, handler);
      made.push(protocol);
      return protocol;
    });
    factory.listen(left);
    await factory.createProxy().doStuff('x');
    expect(made).toHaveLength(1);
  });

  it('RpcConnectionHandler serves each connection with a target made from the proxy to the other side', async () => {
    const { left, right } = linkedChannels('later');
    let toCaller: RpcProxy<Client> | undefined;
    const handler = new RpcConnectionHandler<Client>('/services/server', (proxy) => {
      toCaller = proxy;
      return new Server();
    });
    handler.onConnection(right);
    const caller = new Client();
    const callerSide = new JsonRpcProxyFactory<Server>(caller);
    callerSide.listen(left);
    await expect(callerSide.createProxy().doStuff('y')).resolves.toBe('done: y');
    await toCaller!.notifyThat('from the handler\'s target');
    await until(() => caller.notes.length > 0, 'the callback');
    expect(handler.path).toBe('/services/server');
  });
});

describe('Theia face: RpcProxyFactory targets that are not plain class instances', () => {
  interface Greeter {
    greet(name: string): Promise<string>;
  }

  function callThrough(target: object): RpcProxy<Greeter> {
    const { left, right } = linkedChannels('later');
    new RpcProxyFactory<object>(target).listen(right);
    const caller = new RpcProxyFactory<Greeter>();
    caller.listen(left);
    return caller.createProxy();
  }

  it('calls a method a Proxy target makes up on get, as Theia does (target[method](...args))', async () => {
    const relay = new Proxy<Record<string, unknown>>(
      {},
      { get: (_target, p) => (typeof p === 'string' ? (name: string) => `${p} ${name}` : undefined) },
    );
    await expect(callThrough(relay).greet('you')).resolves.toBe('greet you');
  });

  it('calls a method a getter gives', async () => {
    class Lazy {
      get greet(): (name: string) => string {
        return (name) => `hello ${name}`;
      }
    }
    await expect(callThrough(new Lazy()).greet('you')).resolves.toBe('hello you');
  });

  it('still refuses Object.prototype\'s members', async () => {
    const proxy = callThrough({}) as unknown as RpcProxy<{ hasOwnProperty(p: string): Promise<boolean> }>;
    await expect(proxy.hasOwnProperty('x')).rejects.toThrow(MethodNotFoundError);
  });
});
