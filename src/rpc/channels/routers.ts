import type { Event } from '../../common/event';
import type { Connection } from './Connection';

/** What a router sees of a server: its live connections and their comings and goings. */
export interface IConnectionHub<TContext> {
  readonly connections: readonly Connection<TContext>[];
  readonly onDidAddConnection: Event<Connection<TContext>>;
  readonly onDidRemoveConnection: Event<Connection<TContext>>;
}

/** Picks the connection a call or an event subscription goes to. */
export interface IClientRouter<TContext> {
  routeCall(hub: IConnectionHub<TContext>, command: string, arg?: unknown): Promise<Connection<TContext>>;
  routeEvent(hub: IConnectionHub<TContext>, event: string, arg?: unknown): Promise<Connection<TContext>>;
}

/** No connection matched the router within its wait. */
export class NoMatchingClientError extends Error {
  override name = 'NoMatchingClientError';
  /** Set when IPCServer.getChannel() routed: the channel, the call or event, and the contexts connected then. */
  channel?: string;
  command?: string;
  connectedContexts?: readonly unknown[];

  /**
   * `error`, told with what the router could not know: which channel and call it routed, and who was connected.
   * `error` itself becomes the cause.
   */
  static explain(error: NoMatchingClientError, channel: string, command: string, contexts: readonly unknown[]): NoMatchingClientError {
    const shown = contexts.slice(0, 10).map(describeContext).join(', ');
    const connected =
      contexts.length === 0
        ? 'no client is connected'
        : `connected: ${shown}${contexts.length > 10 ? ` and ${contexts.length - 10} more` : ''}`;
    const explained = new NoMatchingClientError(
      `${error.message}, for '${command}' on channel '${channel}' (${connected}). Check the router's filter ` +
        `against these contexts, or make sure the client has connected before calling`,
      { cause: error },
    );
    explained.channel = channel;
    explained.command = command;
    explained.connectedContexts = contexts;
    return explained;
  }
}

function describeContext(ctx: unknown): string {
  if (typeof ctx === 'string') return `'${ctx}'`;
  let text: string;
  try {
    text = JSON.stringify(ctx) ?? String(ctx);
  } catch {
    text = String(ctx);
  }
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/**
 * Routes to the first connection whose context passes `filter`, waiting up to `timeout` ms (default 1000) for
 * one to connect. Through IPCServer.getChannel, listening with a StaticRouter merges the events of every matching
 * connection instead.
 */
export class StaticRouter<TContext = string> implements IClientRouter<TContext> {
  constructor(
    readonly filter: (ctx: TContext) => boolean,
    private readonly timeout = 1000,
  ) {}

  routeCall(hub: IConnectionHub<TContext>): Promise<Connection<TContext>> {
    return this.route(hub);
  }

  routeEvent(hub: IConnectionHub<TContext>): Promise<Connection<TContext>> {
    return this.route(hub);
  }

  private route(hub: IConnectionHub<TContext>): Promise<Connection<TContext>> {
    const found = hub.connections.find((connection) => this.filter(connection.ctx));
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        subscription.dispose();
        reject(new NoMatchingClientError(`No connected client matched the router within ${this.timeout} ms`));
      }, this.timeout);
      const subscription = hub.onDidAddConnection((connection) => {
        if (!this.filter(connection.ctx)) return;
        clearTimeout(timer);
        subscription.dispose();
        resolve(connection);
      });
    });
  }
}
