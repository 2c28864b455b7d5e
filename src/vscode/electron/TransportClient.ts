import type { ChannelProtocol } from '../common/ChannelProtocol';
import { IPCClient } from '../common/IPCClient';
import type { IIPCLogger } from '../common/types';
import { ClientTransport } from './ClientTransport';

/**
 * An IPCClient that owns its Electron transport: it hears the transport end (pending calls reject then) and
 * closes it on dispose. The renderer's, the MessagePort's and both utility-process clients are this, over their
 * own protocols.
 */
export class TransportClient<P extends ChannelProtocol = ChannelProtocol> extends IPCClient<string> {
  private readonly transport: ClientTransport<P>;

  constructor(protocol: P, ctx: string, ipcLogger: IIPCLogger | null) {
    const transport = new ClientTransport(protocol);
    super(transport.protocol, ctx, ipcLogger);
    this.transport = transport;
  }

  /** Fires once, when the connection ends: the other side closed it (pending calls reject), or dispose(). */
  get onDidClose(): ChannelProtocol['onDidClose'] {
    return this.transport.onDidClose;
  }

  /** Ends the connection and tells the other side, then closes the transport. */
  override dispose(): void {
    super.dispose();
    this.transport.close();
  }
}
