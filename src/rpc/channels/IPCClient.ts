import { AbstractChannel } from '../../channel/AbstractChannel';
import { debug, debugEnabled } from '../../common/debug';
import type { Channel, ChannelCloseEvent, WriteOptions } from '../../channel/Channel';
import { IPCChannel } from '../../channel/IPCChannel';
import { connect, connectPersistent, type ChannelAddress, type ConnectOptions } from '../../channel/net';
import type { ClientSessionOptions } from '../../channel/session/ClientSession';
import { SessionChannel, type SessionHealthEvent } from '../../channel/session/SessionChannel';
import { MessagePortChannel } from '../../channel/MessagePortChannel';
import { Event } from '../../common/event';
import { DisposableStore, toDisposable, type Disposable, supportUsing } from '../../common/lifecycle';
import type { WriteBuffer } from '../../buffer/WriteBuffer';
import type { MessagePort } from 'worker_threads';
import { ValueCodec } from '../codec';
import type { RpcProtocolOptions } from '../RpcProtocol';
import { Connection } from './Connection';
import { HandshakeError, REJECT, sendHello, WELCOME } from './handshake';
import { TOKEN_ENV } from './IPCServer';
import type { IChannel, IServerChannel } from './types';

export interface IPCClientOptions {
  /** The server's shared secret. Default: the FDPIPE_TOKEN environment variable, if set. */
  token?: string;
  /** How long to wait for the server's welcome before giving up, in ms. Default 5000. */
  handshakeTimeout?: number;
  /** Options for the connection's RpcProtocol. */
  rpc?: RpcProtocolOptions;
}

/** IPCClient.connect()'s options: the client's, the socket's, and whether to keep a session across drops. */
export interface IPCConnectOptions extends IPCClientOptions, ConnectOptions {
  /**
   * Keep the connection through dropped sockets: reconnect (with backoff) and resume, calls and events in flight
   * carried over. The server must listen with { persistent: true }. Options tune it (reconnect, keepAliveMs…).
   */
  persistent?: boolean | ClientSessionOptions;
}

/**
 * The client's view of the base channel once the handshake is under way: the server's verdict (the first
 * message) is taken out here, so the RPC protocol only ever sees RPC messages. A refusal closes the connection
 * with the server's reason.
 */
class AfterHandshakeChannel extends AbstractChannel {
  private verdict: 'waiting' | 'welcome' = 'waiting';
  private readonly store = new DisposableStore();
  readonly welcomed: Promise<void>;

  constructor(
    private readonly base: Channel,
    handshakeTimeout: number,
  ) {
    super();
    let welcome!: () => void;
    let refuse!: (error: Error) => void;
    this.welcomed = new Promise<void>((resolve, reject) => {
      welcome = resolve;
      refuse = reject;
    });
    this.welcomed.catch(() => {}); // the same reason reaches onClose and pending calls
    const refuseWith = (reason: string) => {
      if (debugEnabled) debug('handshake: %s', reason);
      const error = new HandshakeError(reason);
      refuse(error);
      this.store.dispose();
      this.fireClose({ kind: 'error', reason, error });
      base.close();
    };
    const timer = setTimeout(
      () => refuseWith(`the server did not welcome this client within ${handshakeTimeout} ms`),
      handshakeTimeout,
    );
    this.store.add(toDisposable(() => clearTimeout(timer)));
    this.store.add(
      base.onMessage((read) => {
        const reader = read();
        if (this.verdict === 'welcome') {
          this.fireMessage(reader.sliceAtReadPosition());
          return;
        }
        const type = reader.remaining > 0 ? reader.readUint8() : -1;
        if (type === WELCOME) {
          this.verdict = 'welcome';
          if (debugEnabled) debug('handshake: the server welcomed this client');
          clearTimeout(timer);
          welcome();
          return;
        }
        let why = 'the server did not answer the hello';
        if (type === REJECT) {
          try {
            why = `the server refused the connection: ${reader.readString()}`;
          } catch {
            why = 'the server refused the connection';
          }
        }
        refuseWith(why);
      }),
    );
    this.store.add(base.onError((error) => this.fireError(error)));
    this.store.add(base.onDrain(() => this.fireDrain()));
    this.store.add(
      base.onClose((event: ChannelCloseEvent) => {
        refuse(new HandshakeError(`The connection closed before the server welcomed it: ${event.reason}`));
        this.store.dispose();
        this.fireClose(event);
      }),
    );
  }

  override get needsDrain(): boolean {
    return this.base.needsDrain;
  }

  get maxIncomingSize(): number | undefined {
    return this.base.maxIncomingSize;
  }

  limitOutgoing(maxBytes: number): void {
    this.base.limitOutgoing?.(maxBytes);
  }

  getWriteBuffer(options?: WriteOptions): WriteBuffer {
    return this.base.getWriteBuffer(options);
  }

  protected doClose(): void {
    this.store.dispose();
    this.base.close();
  }
}

/**
 * A client of an IPCServer: it introduces itself with a context, then calls the server's channels and serves
 * its own to the server, over one connection.
 */
export class IPCClient<TContext = string> implements Disposable {
  /** dispose(), for `using`. */
  declare readonly [Symbol.dispose]: () => void;
  private readonly connection: Connection<TContext>;
  /** Resolves when the server has accepted this client; rejects with HandshakeError if it refused. */
  readonly ready: Promise<void>;
  /** Fires once, when the connection closes (the server went away, refused us, or dispose()). */
  readonly onDidClose: Event<ChannelCloseEvent>;
  /**
   * A persistent connection's health: the socket lost and back, the server unresponsive (silent while this side
   * was free to listen). Never fires on other connections.
   */
  readonly onDidChangeHealth: Event<SessionHealthEvent>;

  /** Connects to an IPCServer listening on a Unix socket path, named pipe or TCP port; resolves once accepted. */
  static async connect<TContext>(
    address: ChannelAddress,
    ctx: TContext,
    options: IPCConnectOptions = {},
  ): Promise<IPCClient<TContext>> {
    const { token, rpc, handshakeTimeout, persistent, ...connectOptions } = options;
    const channel = persistent
      ? await connectPersistent(address, { ...connectOptions, ...(persistent === true ? {} : persistent) })
      : await connect(address, connectOptions);
    const client = new IPCClient(channel, ctx, { token, rpc, handshakeTimeout });
    // A transport error before the welcome (a TLS alert, say) is what the rejection reports: not a warning too.
    const quiet = client.connection.channel.onError(() => {});
    try {
      await client.ready;
    } catch (error) {
      client.dispose();
      throw error;
    } finally {
      quiet.dispose();
    }
    return client;
  }

  /** In a worker forked by IPCServer.fork: connects over fd 4, with the token from the environment. */
  static fromParent<TContext>(ctx: TContext, options: IPCClientOptions = {}): IPCClient<TContext> {
    // Taken out of the environment, so the worker's own children do not inherit the secret.
    const token = options.token ?? process.env[TOKEN_ENV];
    delete process.env[TOKEN_ENV];
    return new IPCClient(new IPCChannel(), ctx, { ...options, token });
  }

  /** In a worker thread: connects over a MessagePort whose other end the server passed to acceptPort(). */
  static fromPort<TContext>(port: MessagePort, ctx: TContext, options: IPCClientOptions = {}): IPCClient<TContext> {
    return new IPCClient(new MessagePortChannel(port), ctx, options);
  }

  constructor(
    readonly channel: Channel,
    readonly ctx: TContext,
    options: IPCClientOptions = {},
  ) {
    const codec = options.rpc?.codec ?? new ValueCodec();
    try {
      sendHello(channel, codec, ctx, options.token ?? process.env[TOKEN_ENV] ?? '');
    } catch (error) {
      // A context that can't be encoded: the connection is useless, and this client's to release.
      channel.close();
      throw error;
    }
    const gated = new AfterHandshakeChannel(channel, options.handshakeTimeout ?? 5000);
    this.ready = gated.welcomed;
    this.connection = new Connection(gated, ctx, { ...options.rpc, codec });
    this.onDidClose = this.connection.onDidClose;
    this.onDidChangeHealth = channel instanceof SessionChannel ? channel.onDidChangeHealth : Event.None;
  }

  get isClosed(): boolean {
    return this.connection.isClosed;
  }

  getChannel<T extends IChannel = IChannel>(name: string): T {
    return this.connection.channelClient.getChannel<T>(name);
  }

  /** Serves `channel` as `name` to the server. */
  registerChannel(name: string, channel: IServerChannel<TContext>): Disposable {
    return this.connection.channelServer.registerChannel(name, channel);
  }

  /** Closes the connection; the server removes it. */
  dispose(): void {
    this.connection.dispose();
  }
}

supportUsing(IPCClient.prototype);
