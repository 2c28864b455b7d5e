import { reportError } from '../base/errors';
import { Emitter, type Event } from '../base/event';
import type { IDisposable } from '../base/lifecycle';
import { ChannelClient } from './ChannelClient';
import { ChannelServer } from './ChannelServer';
import { contextMessage } from './contextMessage';
import { MessagePassingLink } from './MessagePassingLink';
import type { IChannel, IChannelClient, IChannelServer, IIPCLogger, IMessagePassingProtocol, IServerChannel } from './types';
import { supportUsing } from '../../common/lifecycle';

/**
 * Both a channel client and a channel server over one protocol. It introduces itself with `ctx` in its first
 * message; its other side is an IPCServer, or another IPCClient (peer to peer).
 */
export class IPCClient<TContext = string> implements IChannelClient, IChannelServer<TContext>, IDisposable {
  /** dispose(), for `using`. */
  declare readonly [Symbol.dispose]: () => void;
  private readonly channelClient: ChannelClient;
  private readonly channelServer: ChannelServer<TContext>;
  private readonly link: MessagePassingLink;
  private readonly errorEmitter = new Emitter<Error>();
  private disposed = false;
  /** Messages that could not be understood (dropped) and transport errors; unheard, they become process warnings. */
  readonly onError: Event<Error> = this.errorEmitter.event;

  constructor(protocol: IMessagePassingProtocol, ctx: TContext, ipcLogger: IIPCLogger | null = null) {
    protocol.send(contextMessage(ctx));
    this.link = MessagePassingLink.acquire(protocol);
    this.link.onError((error) => reportError(this.errorEmitter, error));
    this.channelClient = new ChannelClient(protocol, ipcLogger);
    this.channelServer = new ChannelServer(protocol, ctx, ipcLogger);
  }

  getChannel<T extends IChannel>(channelName: string): T {
    return this.channelClient.getChannel<T>(channelName);
  }

  registerChannel(channelName: string, channel: IServerChannel<TContext>): void {
    this.channelServer.registerChannel(channelName, channel);
  }

  dispose(): void {
    if (this.disposed) return; // a second release would take the link from others sharing the protocol
    this.disposed = true;
    this.channelClient.dispose();
    this.channelServer.dispose();
    this.link.release();
    this.errorEmitter.dispose();
  }
}

supportUsing(IPCClient.prototype);
