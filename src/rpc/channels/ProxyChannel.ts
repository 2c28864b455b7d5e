import type { Event } from '../../common/event';
import { createMemberProxy, ServiceTarget, type Remote } from '../services';
import type { IChannel, IServerChannel } from './types';

/** Bridges channel services and the typed-service face: an object becomes a channel, a channel a typed proxy. */
export namespace ProxyChannel {
  /**
   * Serves an object's methods (called with `arg` as the argument list) and its `onX` events as a server
   * channel, with the same rules as RpcPeer.expose: nothing from Object.prototype, no non-function members.
   */
  export function fromService<TContext = string>(service: object, name = 'service'): IServerChannel<TContext> {
    const target = new ServiceTarget(name, service);
    return {
      call<T>(_ctx: TContext, command: string, arg?: unknown, signal?: AbortSignal): Promise<T> {
        const args = Array.isArray(arg) ? [...arg] : arg === undefined ? [] : [arg];
        if (signal) args.push(signal);
        try {
          return Promise.resolve(target.call(command, args) as T);
        } catch (error) {
          return Promise.reject(error);
        }
      },
      listen<T>(_ctx: TContext, event: string): Event<T> {
        return target.listen(event) as Event<T>;
      },
    };
  }

  /** A typed proxy over a channel made by fromService on the other side. */
  export function toService<T>(channel: IChannel): Remote<T> {
    return createMemberProxy<T>(
      (method, args, signal) => channel.call(method, args, signal),
      (event) => channel.listen(event),
    );
  }
}
