import type { Event } from '../../common/event';
import { supportUsing, type Disposable } from '../../common/lifecycle';
import { ConnectionClosedError } from '../errors';
import type { RpcProtocol } from '../RpcProtocol';
import { CONTROL_TARGET, INITIALIZE } from './ChannelServer';
import type { IChannel } from './types';

/**
 * Gives IChannels for the services a ChannelServer on the other side registers. It notes the other side's
 * initialize notification (`whenInitialized`), but does not hold calls for it: a call for a channel the other side
 * has not registered yet waits there instead.
 */
export class ChannelClient implements Disposable {
  /** dispose(), for `using`. */
  declare readonly [Symbol.dispose]: () => void;
  private initialized = false;
  private readonly initializedWaiters: Array<{ resolve: () => void; reject: (error: Error) => void }> = [];
  private readonly subscriptions: Disposable[];

  constructor(private readonly protocol: RpcProtocol) {
    this.subscriptions = [
      protocol.onNotification(({ target, method }) => {
        if (target !== CONTROL_TARGET || method !== INITIALIZE || this.initialized) return;
        this.initialized = true;
        for (const waiter of this.initializedWaiters.splice(0)) waiter.resolve();
      }),
      protocol.onClose((event) => this.failWaiters(new ConnectionClosedError(event, 'Waiting for the other side'))),
    ];
  }

  /** Resolves once the other side's ChannelServer has said it is ready; rejects if the connection closes first. */
  whenInitialized(): Promise<void> {
    if (this.initialized) return Promise.resolve();
    if (this.protocol.isDisposed) {
      return Promise.reject(new ConnectionClosedError(undefined, 'Waiting for the other side'));
    }
    return new Promise((resolve, reject) => this.initializedWaiters.push({ resolve, reject }));
  }

  private failWaiters(error: Error): void {
    for (const waiter of this.initializedWaiters.splice(0)) waiter.reject(error);
  }

  getChannel<T extends IChannel = IChannel>(name: string): T {
    const protocol = this.protocol;
    const channel: IChannel = {
      call<R>(command: string, arg?: unknown, signal?: AbortSignal): Promise<R> {
        return protocol.request(name, command, [arg], signal ? { signal } : undefined) as Promise<R>;
      },
      listen<E>(event: string, arg?: unknown): Event<E> {
        return protocol.listen<E>(name, event, [arg]);
      },
    };
    return channel as T;
  }

  dispose(): void {
    for (const subscription of this.subscriptions) subscription.dispose();
    this.failWaiters(new ConnectionClosedError(undefined, 'Waiting for the other side'));
  }
}

supportUsing(ChannelClient.prototype);
