import type { Channel } from '../channel/Channel';
import { toDisposable, type Disposable, supportUsing } from '../common/lifecycle';
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
  /** dispose(), for `using`. */
  declare readonly [Symbol.dispose]: () => void;
  readonly protocol: RpcProtocol;
  /** Whether this peer started the protocol, and so ends it. */
  private readonly ownsProtocol: boolean;
  private readonly exposed = new Set<Disposable>();

  /**
   * Over a channel, the peer starts its own RpcProtocol there (a channel has one at a time). Over a protocol,
   * it shares that connection with whichever face started it, and `options` do not apply.
   */
  constructor(channel: Channel, options?: RpcProtocolOptions);
  constructor(protocol: RpcProtocol);
  constructor(source: Channel | RpcProtocol, options?: RpcProtocolOptions) {
    this.ownsProtocol = !(source instanceof RpcProtocol);
    this.protocol = source instanceof RpcProtocol ? source : new RpcProtocol(source, options);
  }

  /** Serves `service`'s own and class methods, and its `onX` events, to the other side as `name`. */
  expose<T extends object>(name: string, service: T): Disposable {
    const registration = this.protocol.registerTarget(name, new ServiceTarget(name, service));
    const exposure = toDisposable(() => {
      this.exposed.delete(exposure);
      registration.dispose();
    });
    this.exposed.add(exposure);
    return exposure;
  }

  /** The service the other side exposes as `name`. */
  proxy<T>(name: string, options?: ProxyOptions): Remote<T> {
    return createServiceProxy<T>(this.protocol, name, options);
  }

  /**
   * Stops serving what this peer exposed. A peer that started its protocol also ends it: pending calls reject and
   * subscriptions end; the channel stays open.
   */
  dispose(): void {
    for (const exposure of [...this.exposed]) exposure.dispose();
    if (this.ownsProtocol) this.protocol.dispose();
  }
}

supportUsing(RpcPeer.prototype);
