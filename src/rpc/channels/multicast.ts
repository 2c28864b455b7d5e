import { Emitter, type Event } from '../../common/event';
import { DisposableStore, type Disposable } from '../../common/lifecycle';
import { warnUnhandled } from '../../common/warn';
import type { Connection } from './Connection';
import type { IConnectionHub } from './routers';

/**
 * One event made of the same event on every connection whose context passes `filter`, following connections as
 * they come and go. Nothing is subscribed on any connection until the merged event has a listener, and all of it
 * is released when the last listener goes.
 */
export function multicastEvent<TContext, T>(
  hub: IConnectionHub<TContext>,
  filter: (ctx: TContext) => boolean,
  eventOf: (connection: Connection<TContext>) => Event<T>,
): Event<T> {
  let store: DisposableStore | undefined;
  const perConnection = new Map<Connection<TContext>, Disposable>();
  const emitter: Emitter<T> = new Emitter<T>({
    onListenerError: warnUnhandled,
    onFirstListener: () => {
      store = new DisposableStore();
      const add = (connection: Connection<TContext>) => {
        if (connection.isClosed || perConnection.has(connection) || !filter(connection.ctx)) return;
        perConnection.set(connection, eventOf(connection)((e) => emitter.fire(e)));
      };
      for (const connection of hub.connections) add(connection);
      store.add(hub.onDidAddConnection(add));
      store.add(
        hub.onDidRemoveConnection((connection) => {
          perConnection.get(connection)?.dispose();
          perConnection.delete(connection);
        }),
      );
    },
    onLastListenerRemoved: () => {
      store?.dispose();
      store = undefined;
      for (const subscription of perConnection.values()) subscription.dispose();
      perConnection.clear();
    },
  });
  return emitter.event;
}
