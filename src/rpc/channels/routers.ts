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
