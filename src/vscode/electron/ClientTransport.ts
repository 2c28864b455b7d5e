import { Event } from '../base/event';
import type { ChannelProtocol } from '../common/ChannelProtocol';
import { MessagePassingLink } from '../common/MessagePassingLink';

/**
 * An IPCClient's transport, held for it. IPCClient takes a bare protocol and cannot hear it end, so a renderer
 * whose main process closed, or a main process whose utility process exited, would wait forever on its pending
 * calls. This takes the protocol's RPC link first, told to end with the transport; the IPCClient then shares
 * that link. close() comes after IPCClient.dispose(): the link's end reaches the other side, then the transport
 * closes.
 */
export class ClientTransport<P extends ChannelProtocol = ChannelProtocol> {
  private readonly link: MessagePassingLink;

  constructor(readonly protocol: P) {
    this.link = MessagePassingLink.acquire(protocol, {
      onDidDisconnect: Event.map(protocol.onDidClose, () => undefined),
    });
  }

  get onDidClose(): ChannelProtocol['onDidClose'] {
    return this.protocol.onDidClose;
  }

  close(): void {
    this.link.release();
    this.protocol.dispose();
  }
}
