import { IN_ORDER, type Channel, type ChannelCloseEvent } from '../../channel/Channel';
import { Emitter, Event } from '../base/event';
import { VSBuffer } from '../base/buffer';
import type { IDisposable } from '../base/lifecycle';
import type { ClientConnectionEvent, IMessagePassingProtocol } from './types';
import { supportUsing } from '../../common/lifecycle';

/**
 * An fdpipe Channel (fd 4 to a forked child, a socket, a MessagePort) as VS Code's IMessagePassingProtocol,
 * so VS Code-style IPCServer/IPCClient run over it. The protocol owns the channel: dispose() closes it.
 */
export class ChannelProtocol implements IMessagePassingProtocol, IDisposable {
  /** dispose(), for `using`. */
  declare readonly [Symbol.dispose]: () => void;
  private readonly messageEmitter = new Emitter<VSBuffer>();
  private readonly closeEmitter = new Emitter<ChannelCloseEvent>();
  private readonly subscriptions: IDisposable[];

  readonly onMessage: Event<VSBuffer> = this.messageEmitter.event;
  /** Fires once, when the channel closes for any reason: pass it as a ClientConnectionEvent's onDidClientDisconnect. */
  readonly onDidClose: Event<ChannelCloseEvent> = this.closeEmitter.event;

  /**
   * A client on `channel` (a forked child's fd 4, an accepted socket) as what an IPCServer's onDidClientConnect
   * gives: the protocol owns the channel, and the client is gone when the channel closes.
   */
  static clientConnection(channel: Channel): ClientConnectionEvent {
    const protocol = new ChannelProtocol(channel);
    return { protocol, onDidClientDisconnect: Event.map(protocol.onDidClose, () => undefined) };
  }

  constructor(readonly channel: Channel) {
    this.subscriptions = [
      // A whole message, not a view: a listener may keep it after this callback (VS Code's may).
      channel.onMessage((read) => this.messageEmitter.fire(VSBuffer.wrap(read().sliceAtReadPosition()))),
      channel.onClose((event) => {
        this.closeEmitter.fire(event);
        this.release();
      }),
    ];
  }

  get isClosed(): boolean {
    return this.channel.isClosed;
  }

  /**
   * Sends one message; once the channel has closed, messages are dropped, as VS Code's protocols do. Every message
   * keeps its order, as over VS Code's protocols, which VS Code's ipc.ts relies on (an event's values in order, a
   * dispose behind its listen): a small one waits for a large one under way instead of passing it.
   */
  send(buffer: VSBuffer): void {
    if (this.channel.isClosed) return;
    this.channel.getWriteBuffer(IN_ORDER).writeRaw(buffer.buffer).commit();
  }

  drain(): Promise<void> {
    const channel = this.channel;
    if (!channel.needsDrain || channel.isClosed) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        drained.dispose();
        closed.dispose();
        resolve();
      };
      const drained = channel.onDrain(done);
      const closed = channel.onClose(done);
    });
  }

  dispose(): void {
    this.channel.close();
    this.release();
  }

  private release(): void {
    for (const subscription of this.subscriptions) subscription.dispose();
    this.messageEmitter.dispose();
    this.closeEmitter.dispose();
  }
}

supportUsing(ChannelProtocol.prototype);
