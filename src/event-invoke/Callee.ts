import { DisposableStore, toDisposable, type Disposable, supportUsing } from '../common/lifecycle';
import { warnUnhandled } from '../common/warn';
import { RpcProtocol } from '../rpc/RpcProtocol';
import { lease, type FunctionSource, type Lease } from './connections';
import type { EndpointListener } from '../channel/MessageEndpointChannel';
import { assertTarget, isChannel, isPeerGone, type EventInvokeTarget, type PacketEndpoint } from './endpoints';
import { AlreadyListenedError, ChannelNotConnectedError, RegisterError } from './errors';
import type { CalleeFunction, CalleeOptions, Registrable } from './types';

interface Listening {
  lease: Lease;
  serving: Disposable;
  listeners: DisposableStore;
}

/**
 * Serves functions by name to an Invoker on the other side, as event-invoke's Callee does: register them, then
 * listen(). A function receives exactly the arguments the caller sent (spread from its array); its result, or
 * what it throws, goes back. When the caller can cancel — its AbortSignal, its timeout, the connection closing —
 * currentCallSignal() inside the function gives the signal that says so.
 */
export class Callee {
  /** destroy(), for `using`. */
  declare readonly [Symbol.dispose]: () => void;
  private readonly functions = new Map<string, CalleeFunction>();
  private readonly channel: EventInvokeTarget;
  private readonly source: FunctionSource = { lookup: (name) => this.functions.get(name) };
  private listening: Listening | undefined;
  private listened = false;
  private destroyed = false;

  /** @param channel where calls come from; by default `process`, for a forked child serving its parent. */
  constructor(
    channel: EventInvokeTarget = process,
    private readonly options: CalleeOptions = {},
  ) {
    // event-invoke takes any missing channel, null included, as `process`.
    const target = channel ?? process;
    assertTarget(target);
    this.channel = target;
  }

  /**
   * Registers a named function under its name; an array of them; or the functions that are an object's values,
   * each under its own name (not its key), as event-invoke does. A later function of the same name replaces an
   * earlier one. Functions registered after listen() are served too.
   */
  register(functions: Registrable): this {
    if (typeof functions === 'function') {
      if (!functions.name) throw new RegisterError(functions, 'it has no name to be called by');
      this.functions.set(functions.name, functions);
    } else if (Array.isArray(functions)) {
      for (const fn of functions as readonly CalleeFunction[]) this.register(fn);
    } else if (typeof functions === 'object' && functions !== null) {
      const map = functions as { readonly [key: string]: CalleeFunction };
      for (const key of Object.keys(map)) this.register(map[key]);
    } else {
      const what = functions === null ? 'null' : String(functions);
      throw new RegisterError(functions, `${what} is not a named function, an array of them, or an object of them`);
    }
    return this;
  }

  /** Starts answering calls. @throws AlreadyListenedError the second time. */
  listen(): this {
    if (this.listened) throw new AlreadyListenedError();
    if (this.destroyed) throw new ChannelNotConnectedError('this Callee was destroyed');
    const shared = lease(this.channel);
    let serving: Disposable;
    try {
      serving = shared.serve(this.source);
    } catch (error) {
      shared.release();
      throw error;
    }
    this.listened = true;
    const listeners = new DisposableStore();
    listeners.add(shared.protocol.onError(this.report));
    if (shared.packets) {
      listeners.add(shared.packets.onError(this.report));
      // As event-invoke's Callee, it hears the endpoint's own 'error' events (a failed send, a child that could not
      // be spawned) and hands them to onError.
      const endpoint = this.channel as PacketEndpoint;
      const onEndpointError: EndpointListener = (error) => this.report(error);
      endpoint.on('error', onEndpointError);
      listeners.add(toDisposable(() => endpoint.removeListener('error', onEndpointError)));
    }
    this.listening = { lease: shared, serving, listeners };
    return this;
  }

  /**
   * Stops answering, forgets the functions and lets go of the channel; calls still running are answered with a
   * failure if no one else on this side keeps the connection. As event-invoke does, it then calls the channel's
   * destroy() where it has one (a custom channel). Safe to call more than once.
   */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.functions.clear();
    const listening = this.listening;
    this.listening = undefined;
    if (listening) {
      listening.listeners.dispose();
      listening.serving.dispose();
      listening.lease.release();
    }
    const channel = this.channel;
    if (channel instanceof RpcProtocol || isChannel(channel)) return;
    const endpoint = channel as { destroy?: () => void };
    try {
      if (typeof endpoint.destroy === 'function') endpoint.destroy();
    } catch (error) {
      warnUnhandled(error);
    }
  }

  dispose(): void {
    this.destroy();
  }

  /** Runs in listeners: an onError that throws becomes a warning, never an uncaught exception. */
  private readonly report = (error: unknown): void => {
    const onError = this.options.onError;
    if (!onError) {
      if (!isPeerGone(error)) warnUnhandled(error);
      return;
    }
    try {
      onError.call(this.options, error as Error);
    } catch (thrown) {
      warnUnhandled(thrown);
    }
  };
}

supportUsing(Callee.prototype);
