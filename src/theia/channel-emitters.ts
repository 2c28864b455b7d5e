import type { ChannelCloseEvent as CoreChannelCloseEvent } from '../channel/Channel';
import { Emitter } from '../common/event';
import { UnknownChannelError } from './errors';
import type { ReadBuffer } from './message-buffer';
import { toCoreReadBuffer, Uint8ArrayReadBuffer } from './uint8-array-message-buffer';

// A channel of this face is read by Theia code and by fdpipe's own layers. Theia code fires its emitters with
// Theia's values ({ reason, code }, any error, any ReadBuffer); each emitter here takes those and hands its
// listeners the fuller value fdpipe's layers need, so one event serves both.

/** Theia's close event. */
export interface ChannelCloseEvent {
  reason: string;
  code?: number;
}

/** What a channel of this face fires on close: Theia's event with fdpipe's fields (kind, error, exit status). */
export type DetailedChannelCloseEvent = ChannelCloseEvent & CoreChannelCloseEvent;

/** Gives a fresh reader over one message: Theia's MessageProvider. */
export type MessageProvider = () => ReadBuffer;

/** What a channel of this face hands its message listeners: readers both Theia and fdpipe can read. */
export type ReadBufferProvider = () => Uint8ArrayReadBuffer;

/**
 * Fires onClose once: later fires are ignored, as the channel has closed by then. An event without a kind came
 * from the other side (Theia code fires close only for that), so it is `remote`.
 */
export class CloseEmitter extends Emitter<DetailedChannelCloseEvent> {
  private closeEvent: DetailedChannelCloseEvent | undefined;

  get hasFired(): boolean {
    return this.closeEvent !== undefined;
  }

  override fire(event: ChannelCloseEvent): void {
    if (this.closeEvent) return;
    this.closeEvent = { kind: 'remote', ...event };
    super.fire(this.closeEvent);
  }
}

/** Hands on Errors as they are; anything else arrives wrapped in an UnknownChannelError. */
export class ErrorEmitter extends Emitter<Error> {
  override fire(error: unknown): void {
    super.fire(error instanceof Error ? error : new UnknownChannelError(error));
  }
}

export class MessageEmitter extends Emitter<ReadBufferProvider> {
  /** Takes any provider, as Theia's does; its readers must be this face's or fdpipe's (see readable()). */
  override fire(provider: MessageProvider): void {
    super.fire(() => readable(provider()));
  }

  /** Fires a message given as bytes: for the face's own channels, which have them. */
  deliver(message: Uint8Array): void {
    super.fire(() => new Uint8ArrayReadBuffer(message));
  }
}

/** Any other reader of fdpipe's (its own, or a slice) is the same message read from where it stands. */
function readable(reader: ReadBuffer): Uint8ArrayReadBuffer {
  if (reader instanceof Uint8ArrayReadBuffer) return reader;
  return new Uint8ArrayReadBuffer(toCoreReadBuffer(reader).sliceAtReadPosition());
}
