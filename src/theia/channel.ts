import type { Channel as CoreChannel, WriteOptions } from '../channel/Channel';
import { ListenerError } from '../common/errors';
import { Emitter, Event } from '../common/event';
import { supportUsing, type Disposable } from '../common/lifecycle';
import { reportTo, warnUnhandled } from '../common/warn';
import {
  CloseEmitter,
  ErrorEmitter,
  MessageEmitter,
  type ChannelCloseEvent,
  type DetailedChannelCloseEvent,
  type MessageProvider,
  type ReadBufferProvider,
} from './channel-emitters';
import { DisposableCollection } from './disposable';
import type { WriteBuffer } from './message-buffer';

export type { ChannelCloseEvent, DetailedChannelCloseEvent, MessageProvider, ReadBufferProvider };

/** Theia's Channel: a two-way message connection with close and error events. */
export interface Channel {
  /** The other side closed the channel, or it failed; close() on this side fires nothing. */
  onClose: Event<ChannelCloseEvent>;
  onError: Event<unknown>;
  onMessage: Event<MessageProvider>;
  getWriteBuffer(): WriteBuffer;
  /** Closes the channel without firing onClose. */
  close(): void;
}


// Theia's close() fires no onClose, so those who build on a channel here (this face's RpcProtocol and multiplexer)
// would never learn of it, and would leave their calls and sub-channels waiting. They are told through this
// instead: one emitter a channel, outside the class so that Theia's members stay exactly Theia's.
const closedHere = new WeakMap<object, Emitter<void>>();

/**
 * Calls `listener` when close() is called on `channel`, if it is a channel of this face; otherwise (a channel
 * implemented elsewhere, whose close this face cannot see) returns undefined.
 */
export function onClosedHere(channel: Channel, listener: () => void): Disposable | undefined {
  return closedHere.get(channel)?.event(listener);
}

/**
 * Theia's AbstractChannel: subclasses fire the public emitters and give write buffers. It is fdpipe's Channel too,
 * so fdpipe's RPC, multiplexer and services run on it: its events carry fdpipe's values as well as Theia's.
 */
export abstract class AbstractChannel implements Channel, CoreChannel {
  /** dispose(), for `using`. */
  declare readonly [Symbol.dispose]: () => void;
  onCloseEmitter: CloseEmitter = new CloseEmitter({ onListenerError: (error) => this.listenerFailed(error) });
  onErrorEmitter: ErrorEmitter = new ErrorEmitter({ onListenerError: warnUnhandled });
  onMessageEmitter: MessageEmitter = new MessageEmitter({ onListenerError: (error) => this.listenerFailed(error) });
  protected toDispose: DisposableCollection = new DisposableCollection();

  constructor() {
    const closing = new Emitter<void>({ onListenerError: warnUnhandled });
    closedHere.set(this, closing);
    this.toDispose.pushAll([this.onCloseEmitter, this.onErrorEmitter, this.onMessageEmitter]);
    this.toDispose.push({
      dispose: () => {
        closing.fire();
        closing.dispose();
      },
    });
  }

  get onClose(): Event<DetailedChannelCloseEvent> {
    return this.onCloseEmitter.event;
  }

  get onError(): Event<Error> {
    return this.onErrorEmitter.event;
  }

  get onMessage(): Event<ReadBufferProvider> {
    return this.onMessageEmitter.event;
  }

  /** Transports with backpressure (IPCChannel) override this and needsDrain. */
  get onDrain(): Event<void> {
    return Event.None;
  }

  get needsDrain(): boolean {
    return false;
  }

  /** Closed on this side, or closed by the other (onClose has fired). */
  get isClosed(): boolean {
    return this.toDispose.disposed || this.onCloseEmitter.hasFired;
  }

  /** Releases the emitters (their listeners hear nothing more) and whatever subclasses pushed to toDispose. */
  close(): void {
    this.toDispose.dispose();
  }

  dispose(): void {
    this.close();
  }

  /** `options` are fdpipe's: whether the message keeps its order behind a large one (see WriteOptions). */
  abstract getWriteBuffer(options?: WriteOptions): WriteBuffer;

  /** On onError, or as a process warning when nobody listens there: never lost, never thrown. */
  private listenerFailed(error: unknown): void {
    reportTo(this.onErrorEmitter, new ListenerError(error));
  }
}

/** A channel whose write buffers come from a function. */
export class BasicChannel extends AbstractChannel {
  constructor(protected writeBufferProvider: () => WriteBuffer) {
    super();
  }

  getWriteBuffer(): WriteBuffer {
    return this.writeBufferProvider();
  }
}

/** A channel that writes through `writeBufferSource` and calls `closeHandler` after closing: a multiplexer's. */
export class ForwardingChannel extends AbstractChannel {
  constructor(
    readonly id: string,
    protected readonly closeHandler: () => void,
    protected readonly writeBufferSource: (options?: WriteOptions) => WriteBuffer,
  ) {
    super();
  }

  getWriteBuffer(options?: WriteOptions): WriteBuffer {
    return this.writeBufferSource(options);
  }

  /** Closes once: the close handler (telling the other side) runs on the first call only. */
  override close(): void {
    if (this.toDispose.disposed) return;
    super.close();
    this.closeHandler();
  }
}

supportUsing(AbstractChannel.prototype);
