import type { CancellationToken } from '../base/cancellation';
import { reportError } from '../base/errors';
import { Emitter, Event, EventMultiplexer } from '../base/event';
import { DisposableStore, toDisposable, type IDisposable } from '../base/lifecycle';
import { ChannelClient } from './ChannelClient';
import { ChannelServer } from './ChannelServer';
import { MessagePassingLink } from './MessagePassingLink';
import { getDelayedChannel } from './routing';
import type {
  Client,
  ClientConnectionEvent,
  Connection,
  IChannel,
  IChannelServer,
  IClientRouter,
  IConnectionHub,
  IIPCLogger,
  IMessagePassingProtocol,
  IRoutingChannelClient,
  IServerChannel,
} from './types';
import { supportUsing } from '../../common/lifecycle';

/** A router answered with a client that is not (or no longer) connected to this server. */
export class UnknownClientError extends Error {
  override name = 'UnknownClientError';
}

/**
 * Serves its channels to every client that connects, and calls the channels clients serve, picked by a router
 * or a filter. Each client's first message is its context.
 */
export class IPCServer<TContext = string>
  implements IChannelServer<TContext>, IRoutingChannelClient<TContext>, IConnectionHub<TContext>, IDisposable
{
  /** dispose(), for `using`. */
  declare readonly [Symbol.dispose]: () => void;
  private readonly channels = new Map<string, IServerChannel<TContext>>();
  // Keyed by what routers hand back, so a routed client finds its connection without a cast.
  private readonly live = new Map<Client<TContext>, { connection: Connection<TContext>; link: MessagePassingLink }>();
  private readonly pending = new Set<MessagePassingLink>();
  private readonly addEmitter = new Emitter<Connection<TContext>>();
  private readonly removeEmitter = new Emitter<Connection<TContext>>();
  private readonly errorEmitter = new Emitter<Error>();
  private readonly disposables = new DisposableStore();

  readonly onDidAddConnection: Event<Connection<TContext>> = this.addEmitter.event;
  readonly onDidRemoveConnection: Event<Connection<TContext>> = this.removeEmitter.event;
  /** Connections refused (a first message that is not a context) and messages dropped as malformed. */
  readonly onError: Event<Error> = this.errorEmitter.event;

  /**
   * @param maxUnsentBytes fdpipe's, not VS Code's: unsent bytes a connection may hold for its client before the
   *   server stops reading that client, until it has drained to half (only over protocols that can tell, such as
   *   ipc.net's over a socket). Default: no bound; ipc.net's Server sets 64 MiB.
   */
  constructor(
    onDidClientConnect: Event<ClientConnectionEvent>,
    private readonly ipcLogger: IIPCLogger | null = null,
    private readonly timeoutDelay?: number,
    private readonly maxUnsentBytes?: number,
  ) {
    this.disposables.add(onDidClientConnect(({ protocol, onDidClientDisconnect }) => this.accept(protocol, onDidClientDisconnect)));
  }

  get connections(): Connection<TContext>[] {
    return [...this.live.values()].map((entry) => entry.connection);
  }

  private accept(protocol: IMessagePassingProtocol, onDidClientDisconnect: Event<void>): void {
    const link = MessagePassingLink.forServerConnection(
      protocol,
      {
        onDidDisconnect: onDidClientDisconnect,
        timeoutDelay: this.timeoutDelay,
        onError: (error) => reportError(this.errorEmitter, error),
        maxUnsentBytes: this.maxUnsentBytes,
      },
      (link, ctx) => this.add(protocol, link, ctx),
    );
    link.retain(); // the server's own hold, until the connection goes
    if (!this.isLive(link)) this.pending.add(link);
    // A live connection goes when its RPC core closes (see add()), which comes after this.
    link.channel.onClose(() => this.isLive(link) || this.remove(link));
    if (link.channel.isClosed) this.remove(link);
  }

  private isLive(link: MessagePassingLink): boolean {
    for (const entry of this.live.values()) if (entry.link === link) return true;
    return false;
  }

  private add(protocol: IMessagePassingProtocol, link: MessagePassingLink, ctx: unknown): void {
    this.pending.delete(link);
    // The context is whatever the client said it is: VS Code's IPCServer trusts it the same way.
    const clientCtx = ctx as TContext;
    const channelServer = new ChannelServer<TContext>(protocol, clientCtx, this.ipcLogger, this.timeoutDelay);
    const channelClient = new ChannelClient(protocol, this.ipcLogger);
    for (const [name, channel] of this.channels) channelServer.registerChannel(name, channel);
    const connection: Connection<TContext> = { channelServer, channelClient, ctx: clientCtx };
    this.live.set(connection, { connection, link });
    // Once the core has closed, what the client sent before it went has been handled, even what the core held
    // back for maxUnsentBytes: only then does the connection go.
    link.rpc.onClose(() => this.remove(link));
    this.addEmitter.fire(connection);
    if (link.channel.isClosed) this.remove(link);
  }

  private remove(link: MessagePassingLink): void {
    if (this.pending.delete(link)) {
      link.release();
      return;
    }
    for (const [client, entry] of this.live) {
      if (entry.link !== link) continue;
      this.live.delete(client);
      entry.connection.channelServer.dispose();
      entry.connection.channelClient.dispose();
      link.release();
      this.removeEmitter.fire(entry.connection);
      return;
    }
  }

  /**
   * A channel of the connected clients. With a router, each call and subscription goes to the client it picks.
   * With a filter, a call goes to a random matching client (waiting for one if none is connected), and an event
   * merges the event of every matching client, following clients as they come and go.
   */
  getChannel<T extends IChannel>(channelName: string, router: IClientRouter<TContext>): T;
  getChannel<T extends IChannel>(channelName: string, clientFilter: (client: Client<TContext>) => boolean): T;
  getChannel<T extends IChannel>(
    channelName: string,
    routerOrClientFilter: IClientRouter<TContext> | ((client: Client<TContext>) => boolean),
  ): T {
    const channel: IChannel = {
      call: <R>(command: string, arg?: unknown, cancellationToken?: CancellationToken): Promise<R> => {
        let client: Promise<Client<TContext>>;
        if (typeof routerOrClientFilter === 'function') {
          const matching = this.connections.filter(routerOrClientFilter);
          client = matching.length
            ? Promise.resolve(matching[Math.floor(Math.random() * matching.length)])
            : Event.toPromise(Event.filter(this.onDidAddConnection, routerOrClientFilter));
        } else {
          client = routerOrClientFilter.routeCall(this, command, arg, cancellationToken);
        }
        return getDelayedChannel(client.then((c) => this.channelOf(c, channelName))).call<R>(command, arg, cancellationToken);
      },
      listen: <E>(event: string, arg?: unknown): Event<E> => {
        if (typeof routerOrClientFilter === 'function') {
          return this.multicastEvent<E>(channelName, routerOrClientFilter, event, arg);
        }
        const routed = routerOrClientFilter.routeEvent(this, event, arg).then((c) => this.channelOf(c, channelName));
        return getDelayedChannel(routed).listen<E>(event, arg);
      },
    };
    return channel as T;
  }

  private channelOf(client: Client<TContext>, channelName: string): IChannel {
    const entry = this.live.get(client);
    if (!entry) throw new UnknownClientError('The router picked a client that is not connected to this server');
    return entry.connection.channelClient.getChannel(channelName);
  }

  private multicastEvent<E>(
    channelName: string,
    filter: (client: Client<TContext>) => boolean,
    eventName: string,
    arg: unknown,
  ): Event<E> {
    let store: DisposableStore | undefined;
    const emitter: Emitter<E> = new Emitter<E>({
      onWillAddFirstListener: () => {
        // Owned by the server while someone listens, so its dispose() ends the subscriptions too.
        store = this.disposables.add(new DisposableStore());
        const multiplexer = store.add(new EventMultiplexer<E>());
        const perConnection = new Map<Connection<TContext>, IDisposable>();
        const add = (connection: Connection<TContext>) => {
          const event = connection.channelClient.getChannel(channelName).listen<E>(eventName, arg);
          perConnection.set(connection, multiplexer.add(event));
        };
        const remove = (connection: Connection<TContext>) => {
          perConnection.get(connection)?.dispose();
          perConnection.delete(connection);
        };
        this.connections.filter(filter).forEach(add);
        Event.filter(this.onDidAddConnection, filter)(add, undefined, store);
        this.onDidRemoveConnection(remove, undefined, store);
        multiplexer.event((e) => emitter.fire(e), undefined, store);
        store.add(toDisposable(() => perConnection.clear()));
      },
      onDidRemoveLastListener: () => {
        if (!store) return;
        this.disposables.deleteAndLeak(store);
        store.dispose();
        store = undefined;
      },
    });
    return emitter.event;
  }

  registerChannel(channelName: string, channel: IServerChannel<TContext>): void {
    this.channels.set(channelName, channel);
    for (const { connection } of this.live.values()) connection.channelServer.registerChannel(channelName, channel);
  }

  /** Stops accepting clients and closes every connection: the clients' pending calls are cancelled. */
  dispose(): void {
    this.disposables.dispose();
    const entries = [...this.live.values()];
    this.live.clear();
    for (const { connection, link } of entries) {
      connection.channelServer.dispose();
      connection.channelClient.dispose();
      link.close();
    }
    for (const link of this.pending) link.close();
    this.pending.clear();
    this.channels.clear();
    this.addEmitter.dispose();
    this.removeEmitter.dispose();
    this.errorEmitter.dispose();
  }
}

supportUsing(IPCServer.prototype);
