import type { Disposable } from '../../common/lifecycle';
import { DisposableStore, supportUsing } from '../../common/lifecycle';
import { currentCallSignal } from '../protocol/cancellation';
import type { RpcProtocol } from '../RpcProtocol';
import type { IServerChannel } from './types';

/** The target that carries the initialize notification: a name no service can take, as it starts with `$`. */
export const CONTROL_TARGET = '$channels';
export const INITIALIZE = 'initialize';

/**
 * Serves named IServerChannels over one RpcProtocol, passing each call the context of this connection. Requests
 * for a channel not registered yet wait for it (the protocol's service wait, 1 s by default), then fail with
 * ServiceNotFoundError. On creation it tells the other side it is ready (the initialize handshake).
 */
export class ChannelServer<TContext = string> implements Disposable {
  /** dispose(), for `using`. */
  declare readonly [Symbol.dispose]: () => void;
  private readonly registrations = new DisposableStore();

  constructor(
    private readonly protocol: RpcProtocol,
    readonly ctx: TContext,
  ) {
    if (!protocol.isDisposed) protocol.notify(CONTROL_TARGET, INITIALIZE, []);
  }

  registerChannel(name: string, channel: IServerChannel<TContext>): Disposable {
    if (name.startsWith('$')) throw new Error(`Channel names starting with '$' are reserved (got '${name}')`);
    const ctx = this.ctx;
    const registration = this.protocol.registerTarget(name, {
      // ChannelClient always sends exactly one argument. Whether the caller passed a signal or only a timeout,
      // the call's live signal is currentCallSignal().
      call: (command, args) => channel.call(ctx, command, args[0], currentCallSignal()),
      listen: (event, args) => channel.listen(ctx, event, args[0]),
    });
    return this.registrations.add(registration);
  }

  dispose(): void {
    this.registrations.dispose();
  }
}

supportUsing(ChannelServer.prototype);
