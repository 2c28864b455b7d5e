import type { Channel, ChannelCloseEvent } from '../../channel/Channel';
import { ChannelClosedError } from '../../channel/errors';
import type { ValueCodec } from '../codec';
import { ConnectionClosedError } from '../errors';
import type { CallObservers } from './observers';
import type { Streams } from './streams/Streams';

/**
 * The channel as both sides of one RpcProtocol use it: the codec, whether the connection can still be used, and
 * sends from places that must not throw.
 */
export class ProtocolLink {
  /** Set once, when the protocol shut down: nothing more is sent or answered. */
  closed: ChannelCloseEvent | undefined;
  /** The other side said goodbye: our calls fail at once until it sends anything again (a new protocol there). */
  peerGone: ChannelCloseEvent | undefined;
  /** Who watches calls; undefined while nobody does, so an unobserved call checks one field and pays nothing else. */
  observers: CallObservers | undefined;
  /** The connection's streams: the scope every message is encoded and decoded in. Set once, by the protocol. */
  declare streams: Streams;

  constructor(
    readonly channel: Channel,
    readonly codec: ValueCodec,
    readonly reportError: (error: unknown) => void,
  ) {}

  /**
   * Sends from a place that must not throw (a listener, a timer, an emitter of the service): a connection closing
   * under us, or a value that cannot be encoded, is reported on onError instead; `undo` runs first.
   */
  trySend(send: () => void, undo?: () => void): void {
    try {
      send();
    } catch (error) {
      undo?.();
      this.sendFailed(error);
    }
  }

  /** A connection on its way out explains itself through onClose; anything else is worth reporting. */
  sendFailed(error: unknown): void {
    if (!this.isGoingAway(error)) this.reportError(error);
  }

  /** The send failed because the transport is closed or closing, not because of a bug. */
  isGoingAway(error: unknown): boolean {
    return this.channel.isClosed || error instanceof ChannelClosedError || error instanceof ConnectionClosedError;
  }
}
