import { EventEmitter } from 'events';
import { Duplex, Readable, Stream, Transform, Writable } from 'stream';
import { Event } from '../common/event';
import { MethodNotFoundError } from './errors';
import { iterableCall } from './protocol/streams/iterableCall';
import type { StreamingCall, StreamItem } from './streamTypes';
import type { NotSendable, Received, SendableParameters } from './valueTypes';
import type { RemoteEvent, RpcProtocol, RpcTarget } from './RpcProtocol';

/** `onSomething`: a service member of that name is an event, never a callable method. */
export function isEventName(name: string): boolean {
  return name.length > 2 && name.charCodeAt(0) === 111 /* o */ && name.charCodeAt(1) === 110 /* n */ &&
    name[2] >= 'A' && name[2] <= 'Z';
}

// Prototypes whose members belong to the platform, not to the service: a service class that extends
// EventEmitter must not let the other side call emit() or removeAllListeners().
const platformPrototypes = new Set<object>([
  Object.prototype,
  Function.prototype,
  EventEmitter.prototype,
  EventTarget.prototype,
  Stream.prototype,
  Readable.prototype,
  Writable.prototype,
  Duplex.prototype,
  Transform.prototype,
]);
const nativeSource = /\{\s*\[native code\]\s*\}\s*$/;

/** Object.prototype, Node's emitters and streams, or the prototype of a built-in class (Map, Array, Error, …). */
function isPlatformPrototype(holder: object): boolean {
  if (platformPrototypes.has(holder)) return true;
  const ctor = Object.getOwnPropertyDescriptor(holder, 'constructor')?.value;
  return typeof ctor === 'function' && ctor.prototype === holder && nativeSource.test(Function.prototype.toString.call(ctor));
}

/**
 * Finds the member `name` on the service itself or its class chain, stopping at the first platform prototype, so
 * nothing every object inherits (constructor, __proto__, toString, hasOwnProperty, __defineGetter__, …) and
 * nothing from a built-in base class (EventEmitter's emit, Map's clear, …) is reachable from the other side.
 * Getters are not run.
 */
export function findOwnMember(service: object, name: string): PropertyDescriptor | undefined {
  for (
    let holder: object | null = service;
    holder !== null && (holder === service || !isPlatformPrototype(holder));
    holder = Object.getPrototypeOf(holder)
  ) {
    const descriptor = Object.getOwnPropertyDescriptor(holder, name);
    if (descriptor) return descriptor;
  }
  return undefined;
}

/** Serves one object's methods and `onX` events under a name. */
export class ServiceTarget implements RpcTarget {
  // Only names that were found are cached, so a peer sending made-up names cannot grow this map.
  private readonly methods = new Map<string, (...args: unknown[]) => unknown>();

  constructor(
    readonly name: string,
    readonly service: object,
  ) {}

  call(method: string, args: unknown[]): unknown {
    let fn = this.methods.get(method);
    if (!fn) {
      const descriptor = method === 'constructor' || isEventName(method) ? undefined : findOwnMember(this.service, method);
      if (!descriptor || typeof descriptor.value !== 'function') {
        throw new MethodNotFoundError(`The service '${this.name}' has no method '${method}'`);
      }
      fn = descriptor.value as (...args: unknown[]) => unknown;
      this.methods.set(method, fn);
    }
    return fn.apply(this.service, args);
  }

  listen(event: string): Event<unknown> {
    if (!isEventName(event)) {
      throw new MethodNotFoundError(
        `The service '${this.name}' has no event '${event}': events are named onX${describeEvents(this.service)}`,
      );
    }
    const descriptor = findOwnMember(this.service, event);
    const value = descriptor && ('value' in descriptor ? descriptor.value : descriptor.get?.call(this.service));
    if (typeof value !== 'function') {
      throw new MethodNotFoundError(`The service '${this.name}' has no event '${event}'${describeEvents(this.service)}`);
    }
    // Bound, so an event written as a method (`onTick(listener) { return this.ticks.event(listener); }`) works.
    const service = this.service;
    return (listener, disposables) => (value as Event<unknown>).call(service, listener, disposables);
  }
}

/** `(its events: 'onA', 'onB')`, for the message about an event it does not have; getters are not run. */
function describeEvents(service: object): string {
  const names = new Set<string>();
  for (
    let holder: object | null = service;
    holder !== null && (holder === service || !isPlatformPrototype(holder));
    holder = Object.getPrototypeOf(holder)
  ) {
    for (const name of Object.getOwnPropertyNames(holder)) if (isEventName(name)) names.add(name);
  }
  if (names.size === 0) return ' (it has no events)';
  return ` (its events: ${[...names].slice(0, 20).map((n) => `'${n}'`).join(', ')})`;
}

type RemoteMember<K extends string, V> = K extends `on${Capitalize<string>}`
  ? V extends Event<infer E>
    ? RemoteEvent<Received<E>>
    : never
  : V extends (...args: infer A) => infer R
    ? RemoteMethod<A, R>
    : never;

/**
 * A method as the caller sees it: arguments that can cross, the result as it arrives. One whose result cannot
 * cross at all (a function, a symbol…) is NotSendable rather than callable: calling it would only ever fail.
 */
type RemoteMethod<A extends unknown[], R> = [Awaited<R>] extends [AsyncIterable<unknown>]
  ? (...args: SendableParameters<A>) => StreamingCall<Received<StreamItem<Awaited<R>>>>
  : [ResultProblem<Received<Awaited<R>>>] extends [never]
    ? (...args: SendableParameters<A>) => Promise<Received<Awaited<R>>>
    : NotSendable<`the result of this method: ${ResultProblem<Received<Awaited<R>>>}`>;

/** Why a received result cannot be had at all; never when it can (any, never and unknown included). */
type ResultProblem<T> = 0 extends 1 & T ? never : [T] extends [never] ? never : [T] extends [NotSendable<infer Why>] ? Why : never;

/**
 * The other side's view of a service T: each method returns a promise of its result, each `onX: Event<E>` stays
 * an event you can listen to (its `onError` hears why a subscription failed there), and other members are left
 * out. A method that returns a stream (an async generator, AsyncIterable, Readable or ReadableStream) returns a
 * StreamingCall: `for await` it directly, or await the RemoteStream. Put `signal?: AbortSignal` last in a
 * method's parameters to make it cancellable.
 */
export type Remote<T> = {
  readonly [K in keyof T as K extends string ? ([RemoteMember<K, T[K]>] extends [never] ? never : K) : never]:
    K extends string ? RemoteMember<K, T[K]> : never;
};

export interface ProxyOptions {
  /** Timeout for each call through this proxy, in ms. Default: the connection's. */
  timeout?: number;
}

const localNames = new Set(['then', 'toJSON', ...Object.getOwnPropertyNames(Object.prototype)]);

/**
 * A proxy whose `onX` members are events and whose other members are methods; an AbortSignal as a method's last
 * argument is taken out and passed on separately. Shared by typed services and ProxyChannel.toService.
 */
export function createMemberProxy<T>(
  call: (method: string, args: unknown[], signal: AbortSignal | undefined) => Promise<unknown>,
  listen: (event: string) => Event<unknown>,
): Remote<T> {
  const members = new Map<string, unknown>();
  const handler: ProxyHandler<object> = {
    get(_target, property) {
      // `then` must stay undefined or `await proxy` would treat the proxy as a promise; toJSON, toString and the
      // other Object.prototype names stay local, so logging or serializing a proxy sends nothing.
      if (typeof property !== 'string') return undefined;
      if (localNames.has(property)) return (Object.prototype as Record<string, unknown>)[property];
      let member = members.get(property);
      if (member === undefined) {
        member = isEventName(property)
          ? withOnError(listen(property))
          : (...args: unknown[]) => {
              const last = args[args.length - 1];
              return iterableCall(
                last instanceof AbortSignal
                  ? call(property, args.slice(0, -1), last)
                  : call(property, args, undefined),
              );
            };
        members.set(property, member);
      }
      return member;
    },
    set() {
      return false;
    },
  };
  return new Proxy(Object.create(null) as object, handler) as Remote<T>;
}

/** An event that tells no failures (a channel's that is not one connection's) still has an `onError`. */
function withOnError(event: Event<unknown>): Event<unknown> {
  if (!('onError' in event)) Object.defineProperty(event, 'onError', { value: Event.None });
  return event;
}

/** A typed stand-in for the service exposed as `name` on the other side of `protocol`. */
export function createServiceProxy<T>(protocol: RpcProtocol, name: string, options: ProxyOptions = {}): Remote<T> {
  const timeout = options.timeout;
  const noSignal = timeout === undefined ? undefined : { timeout };
  return createMemberProxy<T>(
    (method, args, signal) =>
      protocol.request(name, method, args, signal ? { signal, timeout } : noSignal),
    (event) => protocol.listen(name, event),
  );
}
