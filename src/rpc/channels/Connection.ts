import type { Channel, ChannelCloseEvent } from '../../channel/Channel';
import type { Event } from '../../common/event';
import { supportUsing, type Disposable } from '../../common/lifecycle';
import { RpcProtocol, type RpcProtocolOptions } from '../RpcProtocol';
import { ChannelClient } from './ChannelClient';
import { ChannelServer } from './ChannelServer';

/**
 * One end of a connection between an IPCServer and an IPCClient: the services this side serves (channelServer)
 * and the other side's (channelClient), over one RpcProtocol.
 */
export class Connection<TContext = string> implements Disposable {
  /** dispose(), for `using`. */
  declare readonly [Symbol.dispose]: () => void;
  readonly protocol: RpcProtocol;
  readonly channelServer: ChannelServer<TContext>;
  readonly channelClient: ChannelClient;
  /** Fires once, when the connection closes for any reason. */
  readonly onDidClose: Event<ChannelCloseEvent>;

  constructor(
    readonly channel: Channel,
    /** The client's context: on the server, who this connection is; on the client, who we said we are. */
    readonly ctx: TContext,
    rpcOptions?: RpcProtocolOptions,
  ) {
    this.protocol = new RpcProtocol(channel, rpcOptions);
    this.onDidClose = this.protocol.onClose;
    this.channelServer = new ChannelServer(this.protocol, ctx);
    this.channelClient = new ChannelClient(this.protocol);
    this.protocol.onClose(() => {
      this.channelServer.dispose();
      this.channelClient.dispose();
    });
  }

  get isClosed(): boolean {
    return this.protocol.isDisposed;
  }

  /** Closes the connection: pending calls on both sides reject, and the other side sees it close. */
  dispose(): void {
    this.channel.close();
    this.protocol.dispose();
  }
}

supportUsing(Connection.prototype);
