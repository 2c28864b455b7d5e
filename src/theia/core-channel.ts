import { AbstractChannel as CoreAbstractChannel } from '../channel/AbstractChannel';
import type { Channel as CoreChannel } from '../channel/Channel';
import { ChannelClosedError } from '../channel/errors';
import type { WriteBuffer } from '../buffer/WriteBuffer';
import type { Disposable } from '../common/lifecycle';
import { AbstractChannel, type Channel } from './channel';
import { UnknownChannelError } from './errors';
import { toCoreReadBuffer } from './uint8-array-message-buffer';

/**
 * `channel` as fdpipe's layers take it. A channel of this face is one already. Any other implementation of Theia's
 * interface is wrapped, and the wrapper goes to `owner`: disposing it lets go of `channel` (which stays open, as it
 * belongs to someone else) and fires its onClose. Messages on such a channel must come from this face's readers.
 */
export function toCoreChannel(channel: Channel, owner: { push(wrapper: Disposable): unknown }): CoreChannel {
  if (channel instanceof AbstractChannel) return channel;
  const wrapper = new ForeignChannel(channel);
  owner.push(wrapper);
  return wrapper;
}

class ForeignChannel extends CoreAbstractChannel {
  constructor(private readonly theia: Channel) {
    super();
    this.register(
      theia.onMessage((provider) => {
        try {
          this.fireMessage(toCoreReadBuffer(provider()).sliceAtReadPosition());
        } catch (error) {
          this.fireError(asError(error));
        }
      }),
    );
    this.register(theia.onClose((event) => this.fireClose({ kind: 'remote', ...event })));
    this.register(theia.onError((error) => this.fireError(asError(error))));
  }

  getWriteBuffer(): WriteBuffer {
    if (this.isClosed) throw new ChannelClosedError('The channel is closed: no more messages can be sent on it');
    return this.theia.getWriteBuffer();
  }

  /** The listeners on the Theia channel go with the others, when the base class has fired onClose. */
  protected doClose(): void {}
}

function asError(value: unknown): Error {
  return value instanceof Error ? value : new UnknownChannelError(value);
}
