import { ListenerError } from '../common/errors';
import { debug, debugEnabled } from '../common/debug';
import { Emitter, Event } from '../common/event';
import { DisposableStore, type Disposable, supportUsing } from '../common/lifecycle';
import { reportTo, warnUnhandled } from '../common/warn';
import { Uint8ArrayReadBuffer } from '../buffer/Uint8ArrayReadBuffer';
import { MessageWriteBuffer } from '../buffer/MessageWriteBuffer';
import type { WriteBuffer } from '../buffer/WriteBuffer';
import type { Channel, ChannelCloseEvent, ReadBufferProvider, WriteOptions } from './Channel';
import { ChannelClosedError } from './errors';

/**
 * The bookkeeping every channel shares: its events, firing close exactly once and before the emitters (and whatever
 * a subclass registered) are released, turning a listener's exception into an onError event rather than an
 * uncaught one, and holding the messages that arrive before anyone listens.
 */
export abstract class AbstractChannel implements Channel {
  /** dispose(), for `using`. */
  declare readonly [Symbol.dispose]: () => void;
  // Declared first, so the emitters can register with it as they are made. Released once onClose has fired.
  private readonly disposables = new DisposableStore();
  private readonly messageEmitter = this.disposables.add(
    new Emitter<ReadBufferProvider>({
      onFirstListener: () => this.startDelivering(),
      onListenerError: (error) => this.fireError(new ListenerError(error)),
    }),
  );
  private readonly closeEmitter = this.disposables.add(
    new Emitter<ChannelCloseEvent>({ onListenerError: (error) => this.fireError(new ListenerError(error)) }),
  );
  private readonly errorEmitter = this.disposables.add(new Emitter<Error>({ onListenerError: warnUnhandled }));
  private readonly drainEmitter = this.disposables.add(
    new Emitter<void>({ onListenerError: (error) => this.fireError(new ListenerError(error)) }),
  );
  private closeEvent: ChannelCloseEvent | undefined;
  // Until the first onMessage listener, messages are held rather than dropped, as a paused stream holds data:
  // a peer may send the moment a channel exists (a child on fd 4, the other side of a sub-channel) while the
  // code that will listen is still being set up. A remote close waits behind them. After the first listener
  // has come, this is undefined for good.
  private held: Array<Uint8Array | ChannelCloseEvent> | undefined = [];
  private flushScheduled = false;

  readonly onMessage: Event<ReadBufferProvider> = this.messageEmitter.event;
  readonly onClose: Event<ChannelCloseEvent> = this.closeEmitter.event;
  readonly onError: Event<Error> = this.errorEmitter.event;
  readonly onDrain: Event<void> = this.drainEmitter.event;

  get isClosed(): boolean {
    return this.closeEvent !== undefined;
  }

  get needsDrain(): boolean {
    return false;
  }

  abstract getWriteBuffer(options?: WriteOptions): WriteBuffer;

  /**
   * A write buffer whose commit() hands the finished message to `deliver`: for channels that move whole messages
   * (in memory, to a port, over Node's IPC) rather than frames on a stream.
   */
  protected messageBuffer(deliver: (bytes: Uint8Array) => void): WriteBuffer {
    if (this.closeEvent) throw new ChannelClosedError('The channel is closed: no more messages can be sent on it');
    return new MessageWriteBuffer((bytes) => {
      if (this.closeEvent) throw new ChannelClosedError('The channel closed before this message was committed');
      deliver(bytes);
    });
  }

  /** Resolves when the channel does not need a drain; rejects if it closes first. */
  whenWritable(): Promise<void> {
    if (this.closeEvent) return Promise.reject(new ChannelClosedError(`The channel is closed: ${this.closeEvent.reason}`));
    if (!this.needsDrain) return Promise.resolve();
    return Event.race(
      this.onDrain,
      this.onClose,
      (event) => new ChannelClosedError(`The channel closed while waiting for it to drain: ${event.reason}`),
    );
  }

  close(): void {
    if (this.closeEvent) return;
    this.doClose();
    this.fireClose({ kind: 'local', reason: 'closed on this side' });
  }

  dispose(): void {
    this.close();
  }

  /** Releases the transport; the base class fires onClose afterwards. */
  protected abstract doClose(): void;

  /**
   * Hands `item` (a listener on the transport, a timer, the transport itself) to the channel, which releases it
   * after onClose has fired, or at once if the channel has closed already.
   */
  protected register<T extends Disposable>(item: T): T {
    return this.disposables.add(item);
  }

  protected fireMessage(bytes: Uint8Array): void {
    if (this.closeEvent) return;
    if (this.held) this.held.push(bytes);
    else this.messageEmitter.fire(() => new Uint8ArrayReadBuffer(bytes));
  }

  /** The first listener came: what was held goes out on the next tick, so listeners added in this tick see it. */
  private startDelivering(): void {
    const held = this.held;
    if (!held || this.flushScheduled) return;
    if (held.length === 0) {
      this.held = undefined;
      return;
    }
    this.flushScheduled = true;
    process.nextTick(() => this.flushHeld());
  }

  /** Delivers everything held, including what arrived while waiting for this turn, in order. */
  private flushHeld(): void {
    const queue = this.held ?? [];
    this.held = undefined;
    for (const item of queue) {
      if (item instanceof Uint8Array) this.fireMessage(item);
      else this.fireClose(item);
    }
  }

  protected fireDrain(): void {
    if (!this.closeEvent) this.drainEmitter.fire();
  }

  protected fireError(error: Error): void {
    reportTo(this.errorEmitter, error);
  }

  /** Fires onClose once, after any held messages (unless this side closed), then lets go of every listener. */
  protected fireClose(event: ChannelCloseEvent): void {
    if (this.closeEvent) return;
    if (debugEnabled) debug('channel closed (%s): %s', event.kind, event.reason);
    const held = this.held;
    if (held && held.length > 0 && event.kind !== 'local') {
      held.push(event);
      // Closed before anyone listened, as when a peer opens, sends and closes at once: whoever is about to listen
      // gets until the next turn of the event loop, then the messages and the close go out.
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => this.flushHeld());
      }
      return;
    }
    this.held = undefined;
    this.closeEvent = event;
    this.closeEmitter.fire(event);
    this.disposables.dispose();
  }
}

supportUsing(AbstractChannel.prototype);
