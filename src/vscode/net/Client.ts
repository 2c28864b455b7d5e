import { IPCClient } from '../common/IPCClient';
import { MessagePassingLink } from '../common/MessagePassingLink';
import type { IIPCLogger } from '../common/types';
import type { Event } from '../base/event';
import { Protocol } from './Protocol';
import type { ISocket } from './socket';

/**
 * The link each Client holds for its protocol, taken before IPCClient's and told to end with the socket: without
 * it a server that dies without a goodbye (a crash, a dropped connection) would leave the calls pending forever.
 */
const heldLinks = new WeakMap<Protocol, MessagePassingLink>();

function endingWithSocket(protocol: Protocol): Protocol {
  heldLinks.set(protocol, MessagePassingLink.acquire(protocol, { onDidDisconnect: protocol.onDidDispose }));
  return protocol;
}

/** An IPCClient over a socket; disposing it ends the socket once what was sent has gone. */
export class Client<TContext = string> extends IPCClient<TContext> {
  static fromSocket<TContext = string>(socket: ISocket, id: TContext): Client<TContext> {
    return new Client(new Protocol(socket), id);
  }

  get onDidDispose(): Event<void> {
    return this.protocol.onDidDispose;
  }

  constructor(
    private readonly protocol: Protocol,
    id: TContext,
    ipcLogger: IIPCLogger | null = null,
  ) {
    super(endingWithSocket(protocol), id, ipcLogger);
  }

  override dispose(): void {
    super.dispose();
    const link = heldLinks.get(this.protocol);
    heldLinks.delete(this.protocol);
    link?.release();
    const socket = this.protocol.getSocket();
    this.protocol.sendDisconnect();
    this.protocol.dispose();
    // end(), not destroy(): what was written still goes out, and the socket closes when the other side ends too.
    socket.end();
  }
}
