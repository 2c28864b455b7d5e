import { Event, Relay } from '../base/event';
import type { CancellationToken } from '../base/cancellation';
import type { Client, IChannel, IClientRouter, IConnectionHub } from './types';

/** Routes to the first client whose context passes `fn`, waiting for one to connect if none does yet. */
export class StaticRouter<TContext = string> implements IClientRouter<TContext> {
  constructor(private readonly fn: (ctx: TContext) => boolean | Promise<boolean>) {}

  routeCall(hub: IConnectionHub<TContext>): Promise<Client<TContext>> {
    return this.route(hub);
  }

  routeEvent(hub: IConnectionHub<TContext>): Promise<Client<TContext>> {
    return this.route(hub);
  }

  private async route(hub: IConnectionHub<TContext>): Promise<Client<TContext>> {
    for (;;) {
      for (const connection of hub.connections) {
        if (await this.fn(connection.ctx)) return connection;
      }
      await Event.toPromise(hub.onDidAddConnection);
    }
  }
}

/** A channel whose calls and subscriptions wait for `promise` to give the real one. */
export function getDelayedChannel<T extends IChannel>(promise: Promise<T>): T {
  const channel: IChannel = {
    call<R>(command: string, arg?: unknown, cancellationToken?: CancellationToken): Promise<R> {
      return promise.then((c) => c.call<R>(command, arg, cancellationToken));
    },
    listen<E>(event: string, arg?: unknown): Event<E> {
      const relay = new Relay<E>();
      promise.then(
        (c) => (relay.input = c.listen<E>(event, arg)),
        () => {}, // no channel will come: the event never fires
      );
      return relay.event;
    },
  };
  return channel as T;
}

/** A channel that makes its first calls and subscriptions on the next turn of the event loop. */
export function getNextTickChannel<T extends IChannel>(channel: T): T {
  let didTick = false;
  const nextTick = () => new Promise<void>((resolve) => setTimeout(resolve, 0)).then(() => void (didTick = true));
  const result: IChannel = {
    call<R>(command: string, arg?: unknown, cancellationToken?: CancellationToken): Promise<R> {
      if (didTick) return channel.call<R>(command, arg, cancellationToken);
      return nextTick().then(() => channel.call<R>(command, arg, cancellationToken));
    },
    listen<E>(event: string, arg?: unknown): Event<E> {
      if (didTick) return channel.listen<E>(event, arg);
      const relay = new Relay<E>();
      void nextTick().then(() => (relay.input = channel.listen<E>(event, arg)));
      return relay.event;
    },
  };
  return result as T;
}
