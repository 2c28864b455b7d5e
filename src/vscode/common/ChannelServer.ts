import { ChannelServer as CoreChannelServer } from '../../rpc/channels/ChannelServer';
import type { IDisposable } from '../base/lifecycle';
import { toCoreServerChannel } from './channelAdapters';
import { logCallsServed } from './ipcLogging';
import { MessagePassingLink } from './MessagePassingLink';
import type { IChannelServer, IIPCLogger, IMessagePassingProtocol, IServerChannel } from './types';
import { supportUsing } from '../../common/lifecycle';

/**
 * Serves named channels over a protocol, passing each call this side's context. Calls for a channel not
 * registered yet wait for it up to `timeoutDelay` ms (default 1000), then fail.
 */
export class ChannelServer<TContext = string> implements IChannelServer<TContext>, IDisposable {
  /** dispose(), for `using`. */
  declare readonly [Symbol.dispose]: () => void;
  private readonly link: MessagePassingLink;
  private readonly core: CoreChannelServer<TContext>;
  private readonly registrations = new Map<string, IDisposable>();
  private disposed = false;
  private readonly logging: IDisposable | undefined;

  constructor(
    protocol: IMessagePassingProtocol,
    ctx: TContext,
    logger: IIPCLogger | null = null,
    timeoutDelay?: number,
  ) {
    this.link = MessagePassingLink.acquire(protocol, { timeoutDelay });
    this.logging = logger ? logCallsServed(this.link.rpc, logger) : undefined;
    this.core = new CoreChannelServer(this.link.rpc, ctx);
  }

  registerChannel(channelName: string, channel: IServerChannel<TContext>): void {
    // Registering a name again replaces the channel, as VS Code's map does.
    this.registrations.get(channelName)?.dispose();
    this.registrations.set(channelName, this.core.registerChannel(channelName, toCoreServerChannel(channel)));
  }

  dispose(): void {
    // Idempotent, as VS Code's: a second release would take the link from a ChannelClient sharing the protocol.
    if (this.disposed) return;
    this.disposed = true;
    this.logging?.dispose();
    this.core.dispose();
    this.registrations.clear();
    this.link.release();
  }
}

supportUsing(ChannelServer.prototype);
