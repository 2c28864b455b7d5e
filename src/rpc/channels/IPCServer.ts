import { timingSafeEqual } from 'crypto';
import { debug, debugEnabled } from '../../common/debug';
import type { MessagePort } from 'worker_threads';
import type { Channel } from '../../channel/Channel';
import { forkWithChannel, type ForkedWorker, type ForkWithChannelOptions } from '../../channel/fork';
import { MessagePortChannel } from '../../channel/MessagePortChannel';
import type { ModulePath } from '../../channel/modulePath';
import {
  listen,
  listenPersistent,
  type ChannelAddress,
  type ChannelListener,
  type ListenOptions,
  type SessionListener,
} from '../../channel/net';
import type { SessionAcceptorOptions } from '../../channel/session/SessionAcceptor';
import { Emitter, type Event } from '../../common/event';
import { DisposableStore, toDisposable, type Disposable, supportAwaitUsing, supportUsing } from '../../common/lifecycle';
import { reportRepeatable, reportTo, warnUnhandled } from '../../common/warn';
import { ValueCodec } from '../codec';
import type { RpcProtocolOptions } from '../RpcProtocol';
import { Connection } from './Connection';
import { HandshakeError, HELLO_LIMIT, readHello, sendReject, sendWelcome } from './handshake';
import { multicastEvent } from './multicast';
import { NoMatchingClientError, StaticRouter, type IClientRouter, type IConnectionHub } from './routers';
import type { IChannel, IServerChannel } from './types';

/** The environment variable through which IPCServer.fork hands its token to a child. */
export const TOKEN_ENV = 'FDPIPE_TOKEN';

/** IPCServer.listen()'s options: a socket's, and whether its clients keep sessions across dropped sockets. */
export interface IPCListenOptions extends ListenOptions {
  /**
   * Clients connect with IPCClient.connect(…, { persistent: true }) and keep their connection through dropped
   * sockets: calls, replies and events in flight are carried over. Options tune the sessions (graceMs, keepAliveMs…).
   */
  persistent?: boolean | SessionAcceptorOptions;
}

export interface IPCServerOptions<TContext> {
  /** A shared secret every client must present in its hello; connections without it are closed. */
  token?: string;
  /** How long a new connection may take to say hello, in ms. Default 5000. */
  handshakeTimeout?: number;
  /**
   * Identity of a client for replacement: a client connecting with the key of a live connection replaces it.
   * Default: the context itself if it is a string or number, else its JSON.
   */
  contextKey?: (ctx: TContext) => string;
  /** Options for each connection's RpcProtocol. */
  rpc?: RpcProtocolOptions;
  /**
   * Unsent bytes a connection may hold for its client (over a socket or pipe) before this server stops reading
   * the client's requests, until it has read half of them: a client that sends and never reads cannot make the
   * server queue replies without bound. Default 64 MiB; Infinity for no bound.
   */
  maxUnsentBytes?: number;
  /**
   * On dispose() and close(), how long a connection gets to write what it still holds for its client before its
   * socket is destroyed, in ms. Default 3000.
   */
  closeGrace?: number;
}

/** IPCServerOptions.maxUnsentBytes's default. */
export const DEFAULT_MAX_UNSENT_BYTES = 64 * 1024 * 1024;
/** IPCServerOptions.closeGrace's default, in ms. */
export const DEFAULT_CLOSE_GRACE = 3000;

// Typed, so the string '1' and the number 1 are different clients. A context is read before its client is
// welcomed, so it holds only plain values (see readHello), which JSON tells apart.
const defaultContextKey = (ctx: unknown) =>
  typeof ctx === 'string'
    ? `s:${ctx}`
    : `j:${JSON.stringify(ctx, (_key, value: unknown) => (typeof value === 'bigint' ? `${value}n` : value)) ?? 'undefined'}`;

/**
 * Many client connections, each with a context naming the client, services this side serves to all of them,
 * and services each client serves back. Clients come from forked children, from Unix sockets or TCP ports, from
 * worker threads, or any Channel given to accept().
 */
export class IPCServer<TContext = string> implements IConnectionHub<TContext>, Disposable {
  /** dispose(), for `using`. */
  declare readonly [Symbol.dispose]: () => void;
  /** close(), for `await using`. */
  declare readonly [Symbol.asyncDispose]: () => Promise<void>;
  private readonly live = new Map<string, Connection<TContext>>();
  private readonly channels = new Map<string, IServerChannel<TContext>>();
  // The emitters, channel registrations and listeners: released last on dispose, after the connections have gone
  // (so onDidRemoveConnection hears each one). Declared before the emitters, which register with it as they are made.
  private readonly store = new DisposableStore();
  private readonly pendingHandshakes = new Set<Channel>();
  private readonly listeners = new Set<ChannelListener | SessionListener>();
  private readonly codec: ValueCodec;
  private readonly contextKey: (ctx: TContext) => string;
  private disposed = false;
  /** Kinds of refused handshake already warned about, when there is no onError listener. */
  private readonly warned = new Set<string>();

  private readonly addEmitter = this.store.add(new Emitter<Connection<TContext>>({ onListenerError: warnUnhandled }));
  private readonly removeEmitter = this.store.add(
    new Emitter<Connection<TContext>>({ onListenerError: warnUnhandled }),
  );
  private readonly errorEmitter = this.store.add(new Emitter<Error>({ onListenerError: warnUnhandled }));
  readonly onDidAddConnection: Event<Connection<TContext>> = this.addEmitter.event;
  readonly onDidRemoveConnection: Event<Connection<TContext>> = this.removeEmitter.event;
  /** Connections refused at the handshake, and other errors that concern no single call. */
  readonly onError: Event<Error> = this.errorEmitter.event;

  constructor(private readonly options: IPCServerOptions<TContext> = {}) {
    this.codec = options.rpc?.codec ?? new ValueCodec();
    this.contextKey = options.contextKey ?? defaultContextKey;
  }

  get connections(): readonly Connection<TContext>[] {
    return [...this.live.values()];
  }

  /** Serves `channel` as `name` on every connection, present and future. */
  registerChannel(name: string, channel: IServerChannel<TContext>): Disposable {
    if (this.channels.has(name)) throw new Error(`A channel named '${name}' is already registered`);
    this.channels.set(name, channel);
    const perConnection = new Map<Connection<TContext>, Disposable>();
    const register = (connection: Connection<TContext>) =>
      perConnection.set(connection, connection.channelServer.registerChannel(name, channel));
    for (const connection of this.live.values()) register(connection);
    const added = this.onDidAddConnection(register);
    const removed = this.onDidRemoveConnection((connection) => perConnection.delete(connection));
    return this.store.add(
      toDisposable(() => {
        added.dispose();
        removed.dispose();
        for (const registration of perConnection.values()) registration.dispose();
        perConnection.clear();
        if (this.channels.get(name) === channel) this.channels.delete(name);
      }),
    );
  }

  /**
   * A channel named `name` on clients picked by `router`. Calls go to the connection the router picks; events,
   * when the router is a context filter or a StaticRouter, are merged from every matching client as they come
   * and go.
   */
  getChannel<T extends IChannel = IChannel>(
    name: string,
    router: IClientRouter<TContext> | ((ctx: TContext) => boolean),
  ): T {
    const routing = typeof router === 'function' ? new StaticRouter(router) : router;
    const channel: IChannel = {
      call: async <R>(command: string, arg?: unknown, signal?: AbortSignal): Promise<R> => {
        let connection: Connection<TContext>;
        try {
          connection = await routing.routeCall(this, command, arg);
        } catch (error) {
          throw this.explainRouting(error, name, command);
        }
        return connection.channelClient.getChannel(name).call<R>(command, arg, signal);
      },
      listen: <E>(event: string, arg?: unknown): Event<E> => {
        if (routing instanceof StaticRouter) {
          return multicastEvent(this, routing.filter, (c) => c.channelClient.getChannel(name).listen<E>(event, arg));
        }
        return routedEvent<TContext, E>(this, routing, name, event, arg, (error) =>
          warnUnhandled(this.explainRouting(error, name, event)),
        );
      },
    };
    return channel as T;
  }

  /**
   * Takes a new connection: waits for the client's hello, checks its token, then adds the connection (replacing a
   * live one with the same context key). Rejects, and closes the channel, if the handshake fails.
   */
  accept(channel: Channel): Promise<Connection<TContext>> {
    if (this.disposed) {
      channel.close();
      return Promise.reject(new Error('The IPCServer is disposed'));
    }
    this.pendingHandshakes.add(channel);
    // A stranger may not make this side allocate much before it has shown the token.
    channel.limitIncoming?.(HELLO_LIMIT);
    return new Promise<Connection<TContext>>((resolve, reject) => {
      const handshake = new DisposableStore();
      const fail = (error: Error) => {
        handshake.dispose();
        this.pendingHandshakes.delete(channel);
        // A handshake cut short by this server's own dispose() is no error to report; accept() still rejects.
        if (!this.disposed) this.reportStranger(error);
        reject(error);
      };
      // Until there is a connection to hear them, the channel's errors are the server's. The first (a hello over
      // HELLO_LIMIT, say) becomes the cause of the handshake's failure, reported once with it; later ones, also
      // after a failed handshake, are more of the same stranger's and reported no more. Welcome releases this.
      let channelError: Error | undefined;
      const strangerErrors = channel.onError((error) => (channelError ??= error));
      const withCause = () => (channelError ? { cause: channelError } : undefined);
      const timeout = this.options.handshakeTimeout ?? 5000;
      const timer = setTimeout(() => {
        fail(new HandshakeError(`The client did not say hello within ${timeout} ms`, withCause()));
        channel.close();
      }, timeout);
      handshake.add(toDisposable(() => clearTimeout(timer)));
      handshake.add(
        channel.onClose((event) =>
          fail(new HandshakeError(`The connection closed before its hello: ${event.reason}`, withCause())),
        ),
      );
      handshake.add(
        channel.onMessage((read) => {
          handshake.dispose();
          let ctx: TContext;
          let key: string;
          try {
            const hello = readHello(read(), this.codec);
            this.checkToken(hello.token);
            ctx = hello.readContext() as TContext;
            key = this.keyOf(ctx);
          } catch (error) {
            const reason = error instanceof HandshakeError ? error : new HandshakeError(String(error));
            if (debugEnabled) debug('handshake: refused a client: %s', reason.message);
            try {
              sendReject(channel, reason.message);
            } catch {
              // The client is gone already; closing is all there is to do.
            }
            channel.close();
            fail(reason);
            return;
          }
          if (debugEnabled) debug('handshake: welcomed client %s', key);
          try {
            sendWelcome(channel);
            channel.limitIncoming?.(undefined);
            strangerErrors.dispose();
            // Attached in this same callback, so the messages that follow the hello all reach the protocol.
            const connection = new Connection(channel, ctx, {
              ...this.options.rpc,
              maxUnsentBytes: this.options.maxUnsentBytes ?? this.options.rpc?.maxUnsentBytes ?? DEFAULT_MAX_UNSENT_BYTES,
              codec: this.codec,
            });
            this.pendingHandshakes.delete(channel);
            resolve(this.add(connection, key));
          } catch (error) {
            channel.close();
            fail(error instanceof Error ? error : new Error(String(error)));
          }
        }),
      );
    });
  }

  /**
   * Forks a worker (see forkWithChannel) that connects back with IPCClient.fromParent(ctx). `modulePath` is a
   * `file:` URL or a path; a relative path is resolved against the child's working directory (see ModulePath).
   */
  fork(
    modulePath: ModulePath,
    args: readonly string[] = [],
    options: ForkWithChannelOptions = {},
  ): ForkedWorker & { connection: Promise<Connection<TContext>> } {
    const env = { ...(options.env ?? process.env) };
    // Only this server's token goes to the child: never one this process inherited for a server of its own.
    if (this.options.token !== undefined) env[TOKEN_ENV] = this.options.token;
    else delete env[TOKEN_ENV];
    const worker = forkWithChannel(modulePath, args, { ...options, env });
    const connection = this.accept(worker.channel);
    connection.catch(() => {}); // reported through onError; a caller that awaits it sees the rejection too
    return Object.assign(worker, { connection });
  }

  /**
   * Accepts clients on a Unix socket path, Windows named pipe or TCP port; the listener is the server's. A TCP port
   * on an address other machines can reach wants `tls`, a token, or `insecure: true`.
   */
  listen(address: ChannelAddress, options: IPCListenOptions & { persistent: true | SessionAcceptorOptions }): Promise<SessionListener>;
  listen(address: ChannelAddress, options?: IPCListenOptions & { persistent?: false }): Promise<ChannelListener>;
  listen(address: ChannelAddress, options?: IPCListenOptions): Promise<ChannelListener | SessionListener>;
  async listen(address: ChannelAddress, options: IPCListenOptions = {}): Promise<ChannelListener | SessionListener> {
    const { persistent, ...listenOptions } = options;
    // A token keeps strangers out as TLS would (though only TLS keeps the traffic private).
    const socketOptions = { ...listenOptions, insecure: listenOptions.insecure || this.options.token !== undefined };
    if (persistent) {
      const sessions = persistent === true ? {} : persistent;
      const listener = await listenPersistent(address, { ...socketOptions, ...sessions });
      this.store.add(listener);
      this.listeners.add(listener);
      listener.onDidConnect((session) => void this.accept(session).catch(() => {}));
      listener.acceptor.onError((error) => this.reportError(error));
      return listener;
    }
    const listener = await listen(address, socketOptions);
    this.store.add(listener);
    this.listeners.add(listener);
    listener.onDidConnect((channel) => void this.accept(channel).catch(() => {}));
    return listener;
  }

  /** Accepts a client in a worker thread on the other end of `port`. */
  acceptPort(port: MessagePort): Promise<Connection<TContext>> {
    return this.accept(new MessagePortChannel(port));
  }

  /**
   * Closes every connection and listener, at once: what `using` calls. The listening sockets' addresses are free
   * when it returns; the connections' last bytes may still be on their way out, for closeGrace at most.
   */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    const grace = this.options.closeGrace ?? DEFAULT_CLOSE_GRACE;
    for (const channel of [...this.pendingHandshakes]) {
      channel.close();
      channel.destroyAfter?.(grace);
    }
    this.pendingHandshakes.clear();
    for (const connection of [...this.live.values()]) {
      connection.dispose();
      connection.channel.destroyAfter?.(grace);
    }
    this.store.dispose();
  }

  /**
   * dispose(), then waits until every socket this server listened on or accepted has closed (their last bytes
   * written): what `await using` calls. Children from fork() are not waited for: each is its ForkedWorker's.
   */
  async close(): Promise<void> {
    const listeners = [...this.listeners];
    this.dispose();
    await Promise.all(listeners.map((listener) => listener.close()));
  }

  /** A router's NoMatchingClientError, told with the channel, the call and the contexts connected now. */
  private explainRouting(error: unknown, channel: string, command: string): unknown {
    if (!(error instanceof NoMatchingClientError) || error.channel !== undefined) return error;
    return NoMatchingClientError.explain(error, channel, command, this.connections.map((connection) => connection.ctx));
  }

  private keyOf(ctx: TContext): string {
    try {
      return this.contextKey(ctx);
    } catch (error) {
      throw new HandshakeError(`The client's context cannot be told apart from others: ${(error as Error).message}`);
    }
  }

  private add(connection: Connection<TContext>, key: string): Connection<TContext> {
    const previous = this.live.get(key);
    if (previous) {
      // Same client again (it reconnected): the new connection takes over and the old one is closed.
      this.live.delete(key);
      previous.dispose();
    }
    this.live.set(key, connection);
    connection.onDidClose(() => {
      if (this.live.get(key) === connection) this.live.delete(key);
      this.removeEmitter.fire(connection);
    });
    this.addEmitter.fire(connection);
    return connection;
  }

  private checkToken(token: string): void {
    const expected = this.options.token;
    if (expected === undefined) return;
    if (token === '') {
      throw new HandshakeError(
        `The client presented no token, and this server requires one: connection refused. A worker forked by ` +
          `IPCServer.fork() gets it in ${TOKEN_ENV} (IPCClient.fromParent() reads it there); another client passes ` +
          `the server's token as { token } to IPCClient.connect(), or sets ${TOKEN_ENV}`,
      );
    }
    const given = Buffer.from(token);
    const wanted = Buffer.from(expected);
    if (given.length !== wanted.length || !timingSafeEqual(given, wanted)) {
      throw new HandshakeError(
        `The client presented a wrong token: connection refused. Give it the token this server was made with, as ` +
          `{ token } or in ${TOKEN_ENV} (a worker forked by another IPCServer has that server's token)`,
      );
    }
  }

  private reportError(error: Error): void {
    reportTo(this.errorEmitter, error);
  }

  /** A refused handshake: through onError each time, or else one process warning per kind, never per client. */
  private reportStranger(error: Error): void {
    const cause = error.cause instanceof Error ? error.cause.name : '';
    reportRepeatable(this.errorEmitter, error, `${error.name} ${cause} ${error.message.split(':')[0]}`, this.warned);
  }
}

/**
 * An event of one routed client, subscribed once the first listener comes and the router has answered. Each
 * first listener starts a new generation; an answer that arrives for an older one (its listeners all left while
 * the router was deciding) subscribes nothing.
 */
function routedEvent<TContext, E>(
  hub: IConnectionHub<TContext>,
  router: IClientRouter<TContext>,
  name: string,
  event: string,
  arg: unknown,
  onRoutingError: (error: unknown) => void,
): Event<E> {
  let subscription: Disposable | undefined;
  let generation = 0;
  const emitter: Emitter<E> = new Emitter<E>({
    onListenerError: warnUnhandled,
    onFirstListener: () => {
      const mine = ++generation;
      router.routeEvent(hub, event, arg).then(
        (connection) => {
          if (mine !== generation) return;
          subscription = connection.channelClient.getChannel(name).listen<E>(event, arg)((e) => emitter.fire(e));
        },
        onRoutingError,
      );
    },
    onLastListenerRemoved: () => {
      generation++;
      subscription?.dispose();
      subscription = undefined;
    },
  });
  return emitter.event;
}

supportUsing(IPCServer.prototype);
supportAwaitUsing(IPCServer.prototype);
