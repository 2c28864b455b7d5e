import type { CancellationToken } from '../base/cancellation';
import { ErrorNoTelemetry } from '../base/errors';
import { Event } from '../base/event';
import type { DisposableStore } from '../base/lifecycle';
import { revive } from '../base/marshalling';
import { iterableCall } from '../../rpc/protocol/streams/iterableCall';
import { findOwnMember } from '../../rpc/services';
import type { IChannel, IServerChannel } from './types';

/**
 * Turns a service object into a server channel and a channel back into a service proxy: methods become calls
 * (their arguments as the call's one argument, an array), `onX` properties events, and `onDynamicX(arg)`
 * methods events that take an argument. Marshalled objects (`$mid`) are revived unless disabled.
 */
export namespace ProxyChannel {
  export interface IProxyOptions {
    /** Leaves marshalled objects as they arrive, without revive(). */
    disableMarshalling?: boolean;
  }

  export interface ICreateServiceChannelOptions extends IProxyOptions {}

  export interface ICreateProxyServiceOptions extends IProxyOptions {
    /** Passed as the first argument of every method call. */
    context?: unknown;
    /** Properties answered locally with these values instead of going to the other side. */
    properties?: Map<string, unknown>;
  }

  export function fromService<TContext>(
    service: unknown,
    disposables: DisposableStore,
    options?: ICreateServiceChannelOptions,
  ): IServerChannel<TContext> {
    const handler = service as Record<string, unknown>;
    const disableMarshalling = options?.disableMarshalling;
    // Events are buffered from now until the first remote listener, so what fires in between is not lost.
    const events = new Map<string, Event<unknown>>();
    const bufferedEvent = (name: string): Event<unknown> => {
      let event = events.get(name);
      if (!event) {
        event = Event.buffer(handler[name] as Event<unknown>, name, true, undefined, disposables);
        events.set(name, event);
      }
      return event;
    };
    for (const key in handler) {
      if (propertyIsEvent(key) && typeof handler[key] === 'function') bufferedEvent(key);
    }

    return {
      listen(_ctx: TContext, event: string, arg?: unknown): Event<unknown> {
        const target = handler[event];
        if (typeof target === 'function') {
          if (propertyIsDynamicEvent(event)) return target.call(handler, arg) as Event<unknown>;
          if (propertyIsEvent(event)) return bufferedEvent(event);
        }
        throw new ErrorNoTelemetry(`Event not found: ${event}`);
      },
      call(_ctx: TContext, command: string, args?: unknown, _token?: CancellationToken): Promise<unknown> {
        // The typed-service face's rule: the service's own and class methods, nothing of Object.prototype or of a
        // platform base class (an EventEmitter's emit), and no getter run to find out.
        const member = command === 'constructor' ? undefined : findOwnMember(handler, command);
        const target: unknown = member?.value;
        if (typeof target !== 'function') throw new ErrorNoTelemetry(`Method not found: ${command}`);
        const list = Array.isArray(args) ? args : [];
        if (!disableMarshalling) for (let i = 0; i < list.length; i++) list[i] = revive(list[i]);
        return Promise.resolve(target.apply(handler, list));
      },
    };
  }

  export function toService<T extends object>(channel: IChannel, options?: ICreateProxyServiceOptions): T {
    const disableMarshalling = options?.disableMarshalling;
    return new Proxy({} as T, {
      get(_target, propKey) {
        if (typeof propKey !== 'string') throw new ErrorNoTelemetry(`Property not found: ${String(propKey)}`);
        if (options?.properties?.has(propKey)) return options.properties.get(propKey);
        if (propertyIsDynamicEvent(propKey)) return (arg: unknown) => channel.listen(propKey, arg);
        if (propertyIsEvent(propKey)) return channel.listen(propKey);
        const call = async (args: unknown[]) => {
          const context = options?.context;
          const methodArgs = context === undefined || context === null ? args : [context, ...args];
          const result = await channel.call(propKey, methodArgs);
          return disableMarshalling ? result : revive(result);
        };
        // A method that returns a stream can be read with for await straight from the call.
        return (...args: unknown[]) => iterableCall(call(args));
      },
    });
  }

  function isUpperAsciiLetter(code: number): boolean {
    return code >= 65 && code <= 90;
  }

  function propertyIsEvent(name: string): boolean {
    return name.startsWith('on') && isUpperAsciiLetter(name.charCodeAt(2));
  }

  function propertyIsDynamicEvent(name: string): boolean {
    return name.startsWith('onDynamic') && isUpperAsciiLetter(name.charCodeAt(9));
  }
}
