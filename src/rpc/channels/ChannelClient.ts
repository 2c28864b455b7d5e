import type { Event } from '../../common/event';
import type { Disposable } from '../../common/lifecycle';
import type { RpcProtocol } from '../RpcProtocol';
import { CONTROL_TARGET, INITIALIZE } from './ChannelServer';
import type { IChannel } from './types';

/**
 * Gives IChannels for the services a ChannelServer on the other side registers. It notes the other side's
 * initialize notification (`whenInitialized`), but does not hold calls for it: a call for a channel the other side
 * has not registered yet waits there instead.
 */
export class ChannelClient implements Disposable {
  private initialized = false;
  private readonly initializedWaiters: Array<() => void> = [];
  private readonly subscription: Disposable;

  constructor(private readonly protocol: RpcProtocol) {
    this.subscription = protocol.onNotification(({ target, method }) => {
      if (target !== CONTROL_TARGET || method !== INITIALIZE || this.initialized) return;
      this.initialized = true;
      for (const resolve of this.initializedWaiters.splice(0)) resolve();
    });
  }

  /** Resolves once the other side's ChannelServer has said it is ready. */
  whenInitialized(): Promise<void> {
    if (this.initialized) return Promise.resolve();
    return new Promise((resolve) => this.initializedWaiters.push(resolve));
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
    this.subscription.dispose();
    this.initializedWaiters.length = 0;
  }
}
