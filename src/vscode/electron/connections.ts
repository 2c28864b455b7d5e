import type { Channel } from '../../channel/Channel';
import type { VSBuffer } from '../base/buffer';
import { Emitter, Event } from '../base/event';
import { ChannelProtocol } from '../common/ChannelProtocol';
import type { ClientConnectionEvent, IMessagePassingProtocol } from '../common/types';

/**
 * A client's protocol as a server holds it. An IPCServer cannot close a protocol (IMessagePassingProtocol has no
 * close), only stop listening to it when the connection ends: refused for a bad context, replaced, or the server
 * disposed. So when its last listener goes, the channel under it closes, and the client is told.
 */
class ServedProtocol implements IMessagePassingProtocol {
  private readonly inner: ChannelProtocol;
  readonly onMessage: Event<VSBuffer>;
  readonly onDidClose: ChannelProtocol['onDidClose'];

  constructor(channel: Channel) {
    const inner = new ChannelProtocol(channel);
    const relay = new Emitter<VSBuffer>({ onDidRemoveLastListener: () => inner.dispose() });
    inner.onMessage((message) => relay.fire(message));
    this.inner = inner;
    this.onMessage = relay.event;
    this.onDidClose = inner.onDidClose;
  }

  send(buffer: VSBuffer): void {
    this.inner.send(buffer);
  }

  drain(): Promise<void> {
    return this.inner.drain();
  }
}

/**
 * One of these Electron channels as an IPCServer's client connection: its close, whichever side or cause, is
 * the client's disconnect, and the connection's end closes it.
 */
export function clientConnection(channel: Channel): ClientConnectionEvent {
  const protocol = new ServedProtocol(channel);
  return { protocol, onDidClientDisconnect: Event.map(protocol.onDidClose, () => undefined) };
}
