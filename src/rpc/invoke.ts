import type { Channel } from '../channel/Channel';
import { MessageEndpointChannel, type MessageEndpoint } from '../channel/MessageEndpointChannel';
import type { Disposable } from '../common/lifecycle';
import { MethodNotFoundError } from './errors';
import { RpcProtocol } from './RpcProtocol';

type Connectable = Channel | MessageEndpoint | RpcProtocol;

function isChannel(value: Connectable): value is Channel {
  return typeof (value as Channel).getWriteBuffer === 'function' && typeof (value as Channel).onMessage === 'function';
}

/**
 * Every Invoker and Callee on one channel or message endpoint shares one RpcProtocol, started by the first and
 * ended by the last one destroyed. Over an endpoint, this face also owns the channel adapted from it, and closing
 * that removes its listeners from the endpoint (a `process.on('message')` listener would otherwise keep a child
 * alive). A protocol passed in is shared as it is and never ended here.
 */
const shared = new WeakMap<object, { protocol: RpcProtocol; users: number }>();

interface Lease {
  protocol: RpcProtocol;
  release(): void;
}

function lease(target: Connectable): Lease {
  if (target instanceof RpcProtocol) return { protocol: target, release() {} };
  let entry = shared.get(target);
  if (!entry || entry.protocol.isDisposed) {
    const channel = isChannel(target) ? target : new MessageEndpointChannel(target);
    entry = { protocol: new RpcProtocol(channel), users: 0 };
    shared.set(target, entry);
  }
  const mine = entry;
  mine.users++;
  let released = false;
  return {
    protocol: mine.protocol,
    release() {
      if (released) return;
      released = true;
      if (--mine.users > 0) return;
      if (shared.get(target) === mine) shared.delete(target);
      mine.protocol.dispose();
      if (!isChannel(target)) mine.protocol.channel.close();
    },
  };
}

export interface InvokerOptions {
  /** Milliseconds before each invoke() rejects with TimeoutError. Default: none. */
  timeout?: number;
}

type AnyFunction = (...args: never[]) => unknown;

/**
 * Calls functions that a Callee registered on the other side, by name: `await invoker.invoke('max', 1, 2, 3)`.
 * Works over a Channel or a message endpoint (ChildProcess, process, Worker, parentPort, MessagePort).
 */
export class Invoker implements Disposable {
  private readonly protocol: RpcProtocol;
  private readonly lease: Lease;
  private destroyed = false;

  constructor(
    target: Connectable,
    private readonly options: InvokerOptions = {},
  ) {
    this.lease = lease(target);
    this.protocol = this.lease.protocol;
  }

  /** Calls `name` with `args`; an AbortSignal as the last argument cancels the call. */
  invoke<R = unknown>(name: string, ...args: unknown[]): Promise<R> {
    if (this.destroyed) return Promise.reject(new Error(`invoke('${name}') on a destroyed Invoker`));
    const last = args[args.length - 1];
    const signal = last instanceof AbortSignal ? last : undefined;
    if (signal) args = args.slice(0, -1);
    return this.protocol.sendRequest(name, args, { signal, timeout: this.options.timeout }) as Promise<R>;
  }

  /** Stops invoking. Over a message endpoint, the last Invoker or Callee destroyed closes the connection. */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.lease.release();
  }

  dispose(): void {
    this.destroy();
  }
}

/**
 * Serves functions by name to an Invoker on the other side. Register, then listen(): calls that arrive before
 * listen() wait (for the connection's service wait, 1 s by default) rather than fail.
 */
export class Callee implements Disposable {
  private readonly functions = new Map<string, AnyFunction>();
  private readonly protocol: RpcProtocol;
  private readonly lease: Lease;
  private registration: Disposable | undefined;

  constructor(target: Connectable) {
    this.lease = lease(target);
    this.protocol = this.lease.protocol;
  }

  /** Registers `fn` under its own name, or under `name`. */
  register(fn: AnyFunction): this;
  register(name: string, fn: AnyFunction): this;
  register(nameOrFn: string | AnyFunction, maybeFn?: AnyFunction): this {
    const name = typeof nameOrFn === 'string' ? nameOrFn : nameOrFn.name;
    const fn = typeof nameOrFn === 'string' ? maybeFn : nameOrFn;
    if (typeof fn !== 'function') throw new TypeError(`register('${name}') needs a function`);
    if (!name) throw new TypeError('register(fn) needs a named function, or register(name, fn)');
    this.functions.set(name, fn);
    return this;
  }

  /** Starts answering the other side's invoke() calls. */
  listen(): this {
    if (!this.registration) {
      this.registration = this.protocol.setRequestHandler((method, args) => {
        const fn = this.functions.get(method);
        if (!fn) throw new MethodNotFoundError(`No function named '${method}' is registered with the Callee`);
        return (fn as (...a: unknown[]) => unknown)(...args);
      });
    }
    return this;
  }

  /** Stops answering and forgets the functions. Over a message endpoint, the last one destroyed closes it. */
  destroy(): void {
    this.registration?.dispose();
    this.registration = undefined;
    this.functions.clear();
    this.lease.release();
  }

  dispose(): void {
    this.destroy();
  }
}
