import { RpcProtocol } from '../rpc/RpcProtocol';
import { TimeoutError } from '../rpc/errors';
import { isRemoteError } from '../rpc/remoteError';
import { warnUnhandled } from '../common/warn';
import { spreadArguments } from './arguments';
import { lease, type Lease } from './connections';
import { isChannel, isConnected, type EventInvokeTarget, type SendingPacketEndpoint } from './endpoints';
import { ChannelNotConnectedError, InvalidMethodNameError, InvokerDestroyedError, invokeTimeoutError } from './errors';
import type { InvokeOptions, InvokeRest, InvokeResult, MethodName, UntypedApi } from './types';
import { supportUsing } from '../common/lifecycle';

const DEFAULT_OPTIONS: InvokeOptions = Object.freeze({ timeout: 3000 });
/** The longest delay a Node timer keeps; past it setTimeout fires at once, so such a timeout counts as none. */
const MAX_TIMEOUT = 0x7fffffff;
/** The reason destroy() aborts a call with, told apart from the caller's own signal. */
const DESTROYED = Symbol('destroyed');

/**
 * Calls functions that a Callee registered on the other side, by name, as event-invoke's Invoker does:
 * `await invoker.invoke('max', [1, 2, 3])`.
 *
 * Over a ChildProcess, `process`, a Worker, parentPort, a MessagePort or a custom channel it speaks event-invoke's
 * packets, so the other side may run event-invoke itself; over an fdpipe Channel (fd 4) or RpcProtocol, fdpipe's
 * binary protocol. Give `API` — an interface of the callee's functions — to have names, arguments and results
 * typed.
 */
export class Invoker<API extends object = UntypedApi> {
  /** destroy(), for `using`. */
  declare readonly [Symbol.dispose]: () => void;
  private readonly lease: Lease;
  /** One controller per call in flight: destroy() aborts them, which also tells an fdpipe callee to stop. */
  private readonly calls = new Set<AbortController>();
  private destroyed = false;

  /**
   * @param options for every call that passes none of its own. Without them: a 3000 ms timeout. Options given to
   *   invoke() replace these whole, as in event-invoke: `{ signal }` alone means no timeout.
   */
  constructor(
    private readonly channel: EventInvokeTarget,
    private readonly options: InvokeOptions = DEFAULT_OPTIONS,
  ) {
    this.lease = lease(channel);
  }

  /**
   * Calls `name` on the other side. `args` is the arguments as an array, or a single argument bare (one that is an
   * array itself goes wrapped: `[[1, 2]]`), or nothing. Always returns a promise: a bad name, a channel that is not
   * connected, a timeout and the remote function's failure all reject it.
   */
  invoke<K extends MethodName<API>>(name: K, ...rest: InvokeRest<API[K]>): Promise<InvokeResult<API[K]>> {
    const args: unknown = rest[0];
    const options = (rest[1] as InvokeOptions | undefined) ?? this.options;
    return this.call(name, args, options) as Promise<InvokeResult<API[K]>>;
  }

  /**
   * Rejects the calls still waiting ("rejected by destroy()") and lets go of the channel. As event-invoke does, it
   * then calls the channel's disconnect() and destroy() where it has them: a ChildProcess is disconnected, so a
   * child serving over Node's IPC can exit. An fdpipe Channel is left to its owner.
   */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    for (const controller of [...this.calls]) controller.abort(DESTROYED);
    this.lease.release();
    const channel = this.channel;
    if (channel instanceof RpcProtocol || isChannel(channel)) return;
    const endpoint = channel as SendingPacketEndpoint;
    try {
      // Disconnecting what is already disconnected makes a ChildProcess emit 'error'.
      if (typeof endpoint.disconnect === 'function' && endpoint.connected !== false) endpoint.disconnect();
      if (typeof endpoint.destroy === 'function') endpoint.destroy();
    } catch (error) {
      warnUnhandled(error);
    }
  }

  dispose(): void {
    this.destroy();
  }

  private async call(name: unknown, args: unknown, options: InvokeOptions): Promise<unknown> {
    if (typeof name !== 'string' || name === '') throw new InvalidMethodNameError(name);
    if (this.destroyed) throw new ChannelNotConnectedError('this Invoker was destroyed');
    const protocol = this.lease.protocol;
    if (!isConnected(this.channel) || this.lease.packets?.isClosed || protocol.isDisposed) {
      throw new ChannelNotConnectedError('it was never connected, or it is closed');
    }
    const controller = new AbortController();
    const signal = options.signal;
    const onAbort = () => controller.abort(signal!.reason);
    if (signal?.aborted) controller.abort(signal.reason);
    else signal?.addEventListener('abort', onAbort, { once: true });
    const ms = Number(options.timeout);
    const timeout = ms > 0 && ms <= MAX_TIMEOUT ? ms : undefined;
    this.calls.add(controller);
    try {
      return await protocol.sendRequest(name, spreadArguments(args), { signal: controller.signal, timeout });
    } catch (error) {
      throw explain(error, name, controller.signal, timeout);
    } finally {
      this.calls.delete(controller);
      signal?.removeEventListener('abort', onAbort);
    }
  }
}

supportUsing(Invoker.prototype);

/** The core's rejection, in event-invoke's words where event-invoke has some. */
function explain(error: unknown, name: string, signal: AbortSignal, timeout: number | undefined): unknown {
  // The core rejects an aborted call with the signal's reason.
  if (error === DESTROYED && signal.reason === DESTROYED) return new InvokerDestroyedError(name);
  // A TimeoutError from the other side is that side's failure, passed on as it came.
  if (error instanceof TimeoutError && !isRemoteError(error) && timeout !== undefined) {
    return invokeTimeoutError(name, timeout);
  }
  return error;
}
