import { Emitter, Event } from '../common/event';
import { warnUnhandled } from '../common/warn';
import { Uint8ArrayReadBuffer } from '../buffer/Uint8ArrayReadBuffer';
import type { WriteBuffer } from '../buffer/WriteBuffer';
import { ListenerError } from '../pipe/errors';
import type { Channel, ChannelCloseEvent, ReadBufferProvider } from './Channel';
import { ChannelClosedError } from './errors';

/**
 * The bookkeeping every channel shares: its events, firing close exactly once and before the emitters are
 * released, and turning a listener's exception into an onError event rather than an uncaught one.
 */
export abstract class AbstractChannel implements Channel {
  private readonly messageEmitter = new Emitter<ReadBufferProvider>({
    onFirstListener: () => this.onFirstMessageListener(),
    onListenerError: (error) => this.fireError(new ListenerError(error)),
  });
  private readonly closeEmitter = new Emitter<ChannelCloseEvent>({
    onListenerError: (error) => this.fireError(new ListenerError(error)),
  });
  private readonly errorEmitter = new Emitter<Error>({ onListenerError: warnUnhandled });
  private readonly drainEmitter = new Emitter<void>({
    onListenerError: (error) => this.fireError(new ListenerError(error)),
  });
  private closeEvent: ChannelCloseEvent | undefined;

  readonly onMessage: Event<ReadBufferProvider> = this.messageEmitter.event;
  readonly onClose: Event<ChannelCloseEvent> = this.closeEmitter.event;
  readonly onError: Event<Error> = this.errorEmitter.event;
  readonly onDrain: Event<void> = this.drainEmitter.event;

  get isClosed(): boolean {
    return this.closeEvent !== undefined;
  }

  /** How the channel closed, once it has. */
  get closeInfo(): ChannelCloseEvent | undefined {
    return this.closeEvent;
  }

  get needsDrain(): boolean {
    return false;
  }

  abstract getWriteBuffer(): WriteBuffer;

  /** Resolves when the channel does not need a drain; rejects if it closes first. */
  whenWritable(): Promise<void> {
    if (this.closeEvent) return Promise.reject(new ChannelClosedError(`The channel is closed: ${this.closeEvent.reason}`));
    if (!this.needsDrain) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const drain = this.onDrain(() => {
        drain.dispose();
        close.dispose();
        resolve();
      });
      const close = this.onClose((event) => {
        drain.dispose();
        close.dispose();
        reject(new ChannelClosedError(`The channel closed while waiting for it to drain: ${event.reason}`));
      });
    });
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

  /** Called when onMessage goes from no listener to one, for channels that hold messages back until then. */
  protected onFirstMessageListener(): void {}

  protected fireMessage(bytes: Uint8Array): void {
    if (this.closeEvent) return;
    this.messageEmitter.fire(() => new Uint8ArrayReadBuffer(bytes));
  }

  protected fireDrain(): void {
    if (!this.closeEvent) this.drainEmitter.fire();
  }

  protected fireError(error: Error): void {
    if (this.errorEmitter.hasListeners) this.errorEmitter.fire(error);
    else warnUnhandled(error);
  }

  /** Fires onClose once, then lets go of every listener. */
  protected fireClose(event: ChannelCloseEvent): void {
    if (this.closeEvent) return;
    this.closeEvent = event;
    this.closeEmitter.fire(event);
    this.messageEmitter.dispose();
    this.closeEmitter.dispose();
    this.drainEmitter.dispose();
    this.errorEmitter.dispose();
  }
}
