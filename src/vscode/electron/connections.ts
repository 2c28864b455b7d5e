import type { Channel } from '../../channel/Channel';
import { Event } from '../base/event';
import { ChannelProtocol } from '../common/ChannelProtocol';
import type { ClientConnectionEvent } from '../common/types';

/**
 * One of these Electron channels as an IPCServer's client connection: the channel becomes the protocol (which
 * owns it from here), and its close, whichever side or cause, is the client's disconnect.
 */
export function clientConnection(channel: Channel): ClientConnectionEvent {
  const protocol = new ChannelProtocol(channel);
  return { protocol, onDidClientDisconnect: Event.map(protocol.onDidClose, () => undefined) };
}
