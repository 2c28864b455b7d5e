import type { Channel as CoreChannel } from '../channel/Channel';
import { ChannelMultiplexer as CoreChannelMultiplexer } from '../channel/ChannelMultiplexer';
import { ChannelClosedError } from '../channel/errors';
import { Emitter, type Event } from '../common/event';
import { warnUnhandled } from '../common/warn';
import { ForwardingChannel, onClosedHere, type Channel, type ChannelCloseEvent } from './channel';
import { toCoreChannel } from './core-channel';
import { Disposable, DisposableCollection } from './disposable';
import { DuplicateChannelError } from './errors';
import { supportUsing } from '../common/lifecycle';

export interface DidOpenChannelEvent {
  id: string;
  channel: Channel;
}

interface PendingOpen {
  resolve(channel: ForwardingChannel): void;
  reject(error: Error): void;
}

/**
 * Theia's ChannelMultiplexer: sub-channels named by id over one channel. Both sides hear of every sub-channel on
 * onDidOpenChannel, the opener too, and getOpenChannel(id) finds it. It runs on fdpipe's multiplexer (its wire
 * format, PROTOCOL.md), keeping Theia's naming by id on top: an id is open at most once on a multiplexer.
 */
export class ChannelMultiplexer implements Disposable {
  /** dispose(), for `using`. */
  declare readonly [Symbol.dispose]: () => void;
  private readonly pendingOpen = new Map<string, PendingOpen>();
  protected openChannels = new Map<string, ForwardingChannel>();
  protected readonly onOpenChannelEmitter = new Emitter<DidOpenChannelEvent>({ onListenerError: warnUnhandled });
  protected toDispose = new DisposableCollection();
  private readonly core: CoreChannelMultiplexer;

  constructor(protected readonly underlyingChannel: Channel) {
    // Before the core multiplexer listens, so the sub-channels hear of a closed base from here, with its own event.
    this.toDispose.push(underlyingChannel.onClose((event) => this.onUnderlyingChannelClose(event)));
    this.toDispose.push(underlyingChannel.onError((error) => this.handleError(error)));
    this.core = new CoreChannelMultiplexer(toCoreChannel(underlyingChannel, this.toDispose));
    this.toDispose.pushAll([
      this.core.onDidOpenChannel(({ name, channel }) => this.accept(name, channel)),
      // The base channel's own errors reach its listeners anyway; the multiplexer's would reach nobody.
      this.core.onError((error) => (this.openChannels.size > 0 ? this.handleError(error) : warnUnhandled(error))),
      this.onOpenChannelEmitter,
      this.core,
    ]);
    const closed = onClosedHere(underlyingChannel, () =>
      this.onUnderlyingChannelClose({ reason: 'The multiplexer main channel was closed on this side' }),
    );
    if (closed) this.toDispose.push(closed);
  }

  get onDidOpenChannel(): Event<DidOpenChannelEvent> {
    return this.onOpenChannelEmitter.event;
  }

  /** Opens sub-channel `id`; resolves once the other side has it. Throws if `id` is open or opening here. */
  open(id: string): Promise<Channel> {
    if (this.openChannels.has(id) || this.pendingOpen.has(id)) throw new DuplicateChannelError(id);
    // Disposed, nobody here would hear the other side's answer: the open would wait forever.
    if (this.toDispose.disposed) {
      return Promise.reject(new ChannelClosedError(`Cannot open '${id}': the multiplexer was disposed`));
    }
    return new Promise<Channel>((resolve, reject) => {
      const pending: PendingOpen = { resolve, reject };
      this.pendingOpen.set(id, pending);
      this.core.open(id).then(
        (sub) => {
          if (this.pendingOpen.get(id) !== pending) {
            sub.close(); // settled already: the base closed, or the multiplexer was disposed
            return;
          }
          this.pendingOpen.delete(id);
          if (sub.isClosed) {
            // The other side closed it before this side got to it: it refused the id (it opened it too).
            reject(new ChannelClosedError(`The other side closed sub-channel '${id}' as it opened`));
            return;
          }
          const channel = this.adopt(id, sub);
          resolve(channel);
          this.onOpenChannelEmitter.fire({ id, channel });
        },
        (error: Error) => {
          if (this.pendingOpen.get(id) !== pending) return;
          this.pendingOpen.delete(id);
          reject(error);
        },
      );
    });
  }

  getOpenChannel(id: string): Channel | undefined {
    return this.openChannels.get(id);
  }

  /**
   * The base channel closed: pending opens reject with its reason, open sub-channels fire onClose with its event,
   * and the multiplexer is disposed. Also called when the base is closed on this side.
   */
  onUnderlyingChannelClose(event?: ChannelCloseEvent): void {
    if (this.toDispose.disposed) return;
    const reason = event?.reason ?? 'Multiplexer main channel has been closed from the remote side!';
    const pending = [...this.pendingOpen.values()];
    this.pendingOpen.clear();
    for (const open of pending) open.reject(new ChannelClosedError(reason));
    const channels = [...this.openChannels.values()];
    this.openChannels.clear();
    for (const channel of channels) channel.onCloseEmitter.fire(event ?? { reason });
    this.dispose();
  }

  /** Stops multiplexing: open sub-channels close (the other side's too), pending opens reject. */
  dispose(): void {
    this.toDispose.dispose();
  }

  protected handleError(error: unknown): void {
    for (const channel of this.openChannels.values()) channel.onErrorEmitter.fire(error);
  }

  /** A sub-channel the other side opened. An id already in use here is refused: the other side sees it close. */
  private accept(id: string, sub: CoreChannel): void {
    if (this.openChannels.has(id) || this.pendingOpen.has(id)) {
      sub.close();
      return;
    }
    this.onOpenChannelEmitter.fire({ id, channel: this.adopt(id, sub) });
  }

  /** Theia's view of one of the core multiplexer's sub-channels. */
  private adopt(id: string, sub: CoreChannel): ForwardingChannel {
    const channel = new ForwardingChannel(
      id,
      () => {
        if (this.openChannels.get(id) === channel) this.openChannels.delete(id);
        sub.close();
      },
      (options) => sub.getWriteBuffer(options),
    );
    sub.onMessage((provider) => channel.onMessageEmitter.deliver(provider().sliceAtReadPosition()));
    sub.onError((error) => channel.onErrorEmitter.fire(error));
    // Closed by the other side, or with the base. Closed here, the channel's emitters are gone and this is silent.
    sub.onClose((event) => {
      if (this.openChannels.get(id) === channel) this.openChannels.delete(id);
      channel.onCloseEmitter.fire(event);
    });
    this.openChannels.set(id, channel);
    return channel;
  }
}

supportUsing(ChannelMultiplexer.prototype);
