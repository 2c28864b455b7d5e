import type { Channel } from '../channel/Channel';
import type { Disposable } from '../common/lifecycle';
import { RpcProtocol, type RpcProtocolOptions } from './RpcProtocol';
import { createServiceProxy, ServiceTarget, type ProxyOptions, type Remote } from './services';

/**
 * Typed services over a channel: expose objects here, call the other side's through typed proxies. Both sides
 * can do both at once.
 *
 *     const rpc = new RpcPeer(channel);
 *     rpc.expose('math', { max: (...n: number[]) => Math.max(...n) });
 *     const math = rpc.proxy<MathService>('math');
 *     await math.max(1, 2, 3);
 */
export class RpcPeer implements Disposable {
  readonly protocol: RpcProtocol;

  /** Shares the channel's RpcProtocol if one exists (its options then stay as they were). */
  constructor(channel: Channel, options?: RpcProtocolOptions) {
    this.protocol = RpcProtocol.of(channel, options);
  }

  /** Serves `service`'s own and class methods, and its `onX` events, to the other side as `name`. */
  expose<T extends object>(name: string, service: T): Disposable {
    return this.protocol.registerTarget(name, new ServiceTarget(name, service));
  }

  /** The service the other side exposes as `name`. */
  proxy<T>(name: string, options?: ProxyOptions): Remote<T> {
    return createServiceProxy<T>(this.protocol, name, options);
  }

  /** Rejects pending calls and ends subscriptions; the channel stays open. */
  dispose(): void {
    this.protocol.dispose();
  }
}
