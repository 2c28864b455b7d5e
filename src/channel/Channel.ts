import type { Event } from '../common/event';
import type { Disposable } from '../common/lifecycle';
import type { ReadBuffer } from '../buffer/ReadBuffer';
import type { WriteBuffer } from '../buffer/WriteBuffer';

/**
 * Why a channel closed.
 * - `local`: close() was called on this side.
 * - `remote`: the other side closed its end, or went away (for a child: it exited; see exitCode and signal).
 * - `error`: the transport failed or the peer broke the protocol (see error).
 */
export interface ChannelCloseEvent {
  kind: 'local' | 'remote' | 'error';
  /** One line for people: what happened. */
  reason: string;
  error?: Error;
  /** Parent side of a child's channel: the child's exit code, when it has exited. */
  exitCode?: number | null;
  /** Parent side of a child's channel: the signal that ended the child, if one did. */
  signal?: NodeJS.Signals | null;
  /**
   * Parent side of a child's channel, when the child's stderr was piped (`stderr: 'pipe'`): its last lines (at most
   * 20 lines, 8 KiB) as they stood when it exited. The reason quotes them when the child failed.
   */
  stderrTail?: string;
}

/** How a message is sent. */
export interface WriteOptions {
  /**
   * Deliver it after every message committed before it on this channel. By default a message may pass a larger
   * one that is still under way (a pipe sends large messages in fragments, and small ones between them); a message
   * that ends something the earlier ones belong to — a close after its data, a goodbye after the replies — sets
   * this. Channels that never reorder ignore it.
   */
  inOrder?: boolean;
}

/** The options of a message that keeps its order behind the large ones committed before it. */
export const IN_ORDER: WriteOptions = Object.freeze({ inOrder: true });

/** Gives a fresh reader over one message, so several listeners can each read it from the start. */
export type ReadBufferProvider = () => ReadBuffer;

/** A two-way, message-oriented connection: what the RPC layer runs on. */
export interface Channel extends Disposable {
  readonly onMessage: Event<ReadBufferProvider>;
  /** Fires exactly once, after the last message, on this side whichever side closed. */
  readonly onClose: Event<ChannelCloseEvent>;
  readonly onError: Event<Error>;
  /** Fires when sending may resume after needsDrain was true. */
  readonly onDrain: Event<void>;
  readonly isClosed: boolean;
  /** True while the transport holds more unsent bytes than it wants; a producer should wait for onDrain. */
  readonly needsDrain: boolean;
  /**
   * The buffer for one message; commit() sends it. Once the channel (or the transport under it) has closed, this
   * throws ChannelClosedError, and so does a commit() of a buffer handed out before, whatever the transport — with
   * one exception: a multiplexer sub-channel's buffer committed after only that sub-channel closed still goes out
   * (its base is open) and is dropped by the other side, which knows the sub-channel is gone.
   */
  getWriteBuffer(options?: WriteOptions): WriteBuffer;
  /**
   * Present on channels that read messages as frames off a stream and can refuse a large one before allocating
   * for it. Until called again with undefined, an incoming message over `maxBytes` is reported on onError as
   * MessageTooLargeError and closes the channel: for a peer that has not proven who it is yet. Channels that
   * share one transport with others (a multiplexer's sub-channels) have none, as a limit would hold for them all.
   */
  limitIncoming?(maxBytes: number | undefined): void;
  /**
   * Present on channels with a size limit on what they receive (a pipe's maxMessageSize): that limit, so the RPC
   * core can tell the other side, which then refuses to send more (see limitOutgoing).
   */
  readonly maxIncomingSize?: number;
  /**
   * Sends no message over `maxBytes` from now on: the other side said it accepts no more. Such a send throws
   * MessageTooLargeError before anything is written, and the channel goes on, where the other side would have
   * closed it on receiving the message.
   */
  limitOutgoing?(maxBytes: number): void;
  /** Present on channels over a stream: bytes committed and not yet handed to the OS (what a slow reader holds). */
  readonly unsentBytes?: number;
  /**
   * Present with unsentBytes: stops (true) or resumes (false) reading the transport, so a peer that does not
   * read what it is sent can send no more either. Messages of a chunk already read are still delivered.
   */
  pauseReading?(paused: boolean): void;
  /** Present with unsentBytes: resolves once unsentBytes is at most `bytes`, or the channel has closed. */
  whenUnsentBelow?(bytes: number): Promise<void>;
  /**
   * Present on channels over a stream: after close(), gives the stream `graceMs` to write what is left, then
   * destroys it, so a peer that never reads cannot hold the connection (and its bytes) open.
   */
  destroyAfter?(graceMs: number): void;
  close(): void;
}
