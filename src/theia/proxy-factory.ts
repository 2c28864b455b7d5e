import { Emitter, type Event } from '../common/event';
import type { Disposable } from '../common/lifecycle';
import { warnUnhandled } from '../common/warn';
import { MethodNotFoundError } from '../rpc/errors';
import type { Channel } from './channel';
import { Deferred } from './deferred';
import { ResponseError } from './errors';
import { RpcProtocol, type RequestHandler } from './rpc-protocol';

/** A local object the other side calls through a proxy, and which can be told its client (the other side's). */
export type RpcServer<Client> = Disposable & {
  setClient(client: Client | undefined): void;
  getClient?(): Client | undefined;
};

export interface RpcConnectionEventEmitter {
  readonly onDidOpenConnection: Event<void>;
  readonly onDidCloseConnection: Event<void>;
}

/** The other side's T: call its methods, hear when the connection opens and closes. */
export type RpcProxy<T> = T & RpcConnectionEventEmitter;

/** Something that serves the connections made on `path`. */
export interface ConnectionHandler {
  readonly path: string;
  onConnection(connection: Channel): void;
}

export type RpcProtocolFactory = (channel: Channel, requestHandler: RequestHandler) => RpcProtocol;

const defaultRpcProtocolFactory: RpcProtocolFactory = (channel, requestHandler) =>
  new RpcProtocol(channel, requestHandler);

/** Serves each connection with a fresh factory, whose target `targetFactory` makes from the proxy to the other side. */
export class RpcConnectionHandler<T extends object> implements ConnectionHandler {
  constructor(
    readonly path: string,
    readonly targetFactory: (proxy: RpcProxy<T>) => unknown,
    readonly factoryConstructor: new () => RpcProxyFactory<T> = RpcProxyFactory,
  ) {}

  onConnection(connection: Channel): void {
    const factory = new this.factoryConstructor();
    const proxy = factory.createProxy();
    factory.target = this.targetFactory(proxy);
    factory.listen(connection);
  }
}

/**
 * Theia's RpcProxyFactory: exposes `target` to the other side of a channel, and makes proxies whose methods call
 * the other side's target. A method named `notify…` or `on…` is sent as a notification and resolves at once;
 * any other is a request. Calls made before listen() wait for the connection; after it closes, for the next one.
 */
export class RpcProxyFactory<T extends object> implements ProxyHandler<T> {
  protected readonly onDidOpenConnectionEmitter = new Emitter<void>({ onListenerError: warnUnhandled });
  protected readonly onDidCloseConnectionEmitter = new Emitter<void>({ onListenerError: warnUnhandled });
  protected rpcDeferred = new Deferred<RpcProtocol>();

  /** @param target the object the other side may call; without one, this side only calls. */
  constructor(
    public target?: unknown,
    protected rpcProtocolFactory: RpcProtocolFactory = defaultRpcProtocolFactory,
  ) {
    this.waitForConnection();
  }

  protected waitForConnection(): void {
    this.rpcDeferred = new Deferred<RpcProtocol>();
    this.rpcDeferred.promise.then((protocol) => {
      protocol.channel.onClose(() => {
        this.onDidCloseConnectionEmitter.fire();
        this.waitForConnection();
      });
      this.onDidOpenConnectionEmitter.fire();
    });
  }

  /** Starts an RpcProtocol on `channel`: calls waiting for a connection go out on it. */
  listen(channel: Channel): void {
    const protocol = this.rpcProtocolFactory(channel, (method, args) => this.onRequest(method, ...args));
    protocol.onNotification((event) => this.onNotification(event.method, ...event.args));
    this.rpcDeferred.resolve(protocol);
  }

  /** Runs a request on the target; what it throws or rejects with goes back through serializeError. */
  protected async onRequest(method: string, ...args: unknown[]): Promise<unknown> {
    try {
      if (this.target === undefined || this.target === null) throw new Error(`no target was set to handle ${method}`);
      return await callMethod(this.target, method, args);
    } catch (error) {
      throw this.serializeError(error);
    }
  }

  /** Runs a notification on the target, if there is one; nobody waits for its outcome, so failures are warnings. */
  protected onNotification(method: string, ...args: unknown[]): void {
    if (this.target === undefined || this.target === null) return;
    const result = callMethod(this.target, method, args);
    if (result instanceof Promise) result.catch(warnUnhandled);
  }

  createProxy(): RpcProxy<T> {
    // A proxy's type is whatever its handler makes of it: T's members, as get() answers them.
    return new Proxy(Object.create(null) as T, this) as RpcProxy<T>;
  }

  /** A property of the proxy: the connection events, setClient/getClient, or a method calling the other side. */
  get(_target: T, p: PropertyKey, _receiver: unknown): unknown {
    if (p === 'setClient') return (client: unknown) => void (this.target = client);
    if (p === 'getClient') return () => this.target;
    if (p === 'onDidOpenConnection') return this.onDidOpenConnectionEmitter.event;
    if (p === 'onDidCloseConnection') return this.onDidCloseConnectionEmitter.event;
    // Not a method: `then` would make the proxy look like a promise to await, `toJSON` like JSON to serializers.
    if (p === 'then' || p === 'toJSON' || typeof p === 'symbol') return undefined;
    const method = String(p);
    const isNotify = this.isNotification(p);
    return (...args: unknown[]) => {
      const capturedError = new Error(`Request '${method}' failed`);
      return this.rpcDeferred.promise.then((connection) => {
        if (isNotify) {
          connection.sendNotification(method, args);
          return undefined;
        }
        return connection
          .sendRequest<unknown>(method, args)
          .catch((error: unknown) => Promise.reject(this.deserializeError(capturedError, error)));
      });
    };
  }

  /** `notify…` and `on…` methods are notifications: sent, not answered. */
  protected isNotification(p: PropertyKey): boolean {
    const name = String(p);
    return name.startsWith('notify') || name.startsWith('on');
  }

  /** What a failure of the target is sent as. Theia turns its ApplicationErrors into ResponseErrors here. */
  protected serializeError(e: unknown): unknown {
    return e;
  }

  /** What a failure from the other side is rejected with: a ResponseError gets the caller's stack, as in Theia. */
  protected deserializeError(capturedError: Error, e: unknown): unknown {
    if (e instanceof ResponseError) e.stack = capturedError.stack ?? '';
    return e;
  }
}

/**
 * Calls `target[method]`, looked up as Theia looks it up (own, inherited, a getter's, a Proxy's), except that
 * Object.prototype's members (toString, constructor, __defineGetter__, …) are not the target's methods, so the other
 * side cannot call them; a target's own method of the same name is.
 */
function callMethod(target: unknown, method: string, args: unknown[]): unknown {
  const reachable = (typeof target === 'object' && target !== null) || typeof target === 'function';
  if (reachable && method !== '__proto__') {
    const member: unknown = Reflect.get(target, method);
    const inherited =
      Object.prototype.hasOwnProperty.call(Object.prototype, method) &&
      member === (Object.prototype as Record<string, unknown>)[method];
    if (typeof member === 'function' && !inherited) return member.apply(target, args);
  }
  throw new MethodNotFoundError(`The target has no method '${method}'`);
}

/** @deprecated since Theia 1.39: RpcConnectionEventEmitter */
export type JsonRpcConnectionEventEmitter = RpcConnectionEventEmitter;
/** @deprecated since Theia 1.39: RpcServer */
export type JsonRpcServer<Client> = RpcServer<Client>;
/** @deprecated since Theia 1.39: RpcProxy */
export type JsonRpcProxy<T> = RpcProxy<T>;
/** @deprecated since Theia 1.39: RpcConnectionHandler */
export class JsonRpcConnectionHandler<T extends object> extends RpcConnectionHandler<T> {}
/** @deprecated since Theia 1.39: RpcProxyFactory */
export class JsonRpcProxyFactory<T extends object> extends RpcProxyFactory<T> {}
