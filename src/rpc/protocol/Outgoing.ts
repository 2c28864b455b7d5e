import type { ChannelCloseEvent } from '../../channel/Channel';
import type { ReadBuffer } from '../../buffer/ReadBuffer';
import { CountingWriteBuffer } from '../../buffer/CountingWriteBuffer';
import type { WriteBuffer } from '../../buffer/WriteBuffer';
import { Emitter, type Event } from '../../common/event';
import type { Disposable } from '../../common/lifecycle';
import { ConnectionClosedError, RpcProtocolError } from '../errors';
import { toCallerRejection } from '../remoteError';
import { CANCEL_MAY_PASS, PASSABLE_FROM, requestFlags, watchCancellation } from './cancellation';
import type { ObservedCall } from './observers';
import type { ProtocolLink } from './ProtocolLink';
import type { StreamWatcher } from './streams/StreamWatcher';
import { IN_ORDER, labelOf, MessageType, writeArgs } from './wire';

/**
 * An event of a service on the other side. `onError` hears why its subscription failed or was ended there (no
 * such event, the service threw): the listeners are let go then. With nobody on `onError`, the protocol's onError
 * hears it instead.
 */
export type RemoteEvent<T> = Event<T> & { readonly onError: Event<Error> };

export interface RequestOptions {
  /**
   * Aborting it rejects the call with the signal's reason, as fetch() does (`abort(reason)` rejects with `reason`;
   * `abort()` with a DOMException named 'AbortError'), and cancels the remote work.
   */
  signal?: AbortSignal;
  /** Milliseconds before the call rejects with TimeoutError and the remote work is cancelled. */
  timeout?: number;
  /** Hears when the streams of the call (in its arguments and its reply) open and end. */
  streamWatcher?: StreamWatcher;
}

/**
 * Whether the request being written in `buffer` may travel in fragments: it is over PASSABLE_FROM, as the buffer
 * tells. The buffers of transports that fragment tell their size (the pipe's, the session's, and so a multiplexer's
 * over them; the counting buffer passes it on); the others never fragment.
 */
function mayTravelInFragments(buffer: WriteBuffer): boolean {
  const size = (buffer as { readonly size?: unknown }).size;
  return typeof size === 'number' && size > PASSABLE_FROM;
}

/** A call waiting for its reply. */
class PendingCall {
  /** The timer and abort listener of a cancellable call, released when it settles. */
  cancellation: Disposable | undefined;
  /** Set only while observers watch the protocol. */
  observed: ObservedCall | undefined;
  /** Its request may travel in fragments, so a cancel sent while it is under way can pass it (CANCEL_MAY_PASS). */
  largeRequest = false;

  constructor(
    readonly target: string,
    readonly method: string,
    readonly resolve: (value: unknown) => void,
    readonly reject: (reason: unknown) => void,
    readonly callerStack: { stack?: string } | undefined,
    /** Streams in the reply end when it aborts. */
    readonly signal: AbortSignal | undefined,
    readonly streamWatcher: StreamWatcher | undefined,
  ) {}

  /** `service.method`, for messages: built only when one is needed, as most calls never need it. */
  get label(): string {
    return labelOf(this.target, this.method);
  }

  /** Settles from a Reply or ReplyError. */
  settle(link: ProtocolLink, reader: ReadBuffer, isError: boolean): void {
    this.cancellation?.dispose();
    let value: unknown;
    const streams = link.streams;
    const mark = streams.inletMark;
    try {
      value = link.codec.decode(reader, streams);
    } catch (error) {
      streams.settleInlets(mark, false);
      this.observed?.end(reader.position + reader.remaining, true, error);
      this.reject(error);
      return;
    }
    if (streams.inletMark !== mark) streams.settleInlets(mark, true, this.signal, this.label, this.streamWatcher);
    if (!isError) {
      this.observed?.end(reader.position + reader.remaining, false, value);
      this.resolve(value);
      return;
    }
    let rejection = value;
    try {
      rejection = toCallerRejection(value, this.label, this.callerStack);
    } catch {
      // A hostile error object (a getter that throws, a frozen stack): reject with it as it came.
    }
    this.observed?.end(reader.position + reader.remaining, true, rejection);
    this.reject(rejection);
  }

  fail(reason: unknown): void {
    this.cancellation?.dispose();
    this.observed?.end(0, true, reason);
    this.reject(reason);
  }
}

/**
 * What this side asked of the other: calls waiting for replies and event subscriptions, in one map under one id
 * space, each id removed the moment its call settles or its subscription ends. A subscription is the emitter its
 * listeners hang on.
 */
export class Outgoing {
  private readonly open = new Map<number, PendingCall | Emitter<unknown>>();
  /** What each subscription is of, and its onError emitter once someone asked for it. */
  private readonly subscriptions = new WeakMap<
    Emitter<unknown>,
    { target: string; event: string; failures?: Emitter<Error> }
  >();
  constructor(
    private readonly link: ProtocolLink,
    private readonly maxId: number,
    private readonly defaultTimeout: number | undefined,
    private readonly captureCallerStack: boolean,
    /** Where the previous protocol on this channel stopped: replies to its calls may still be on their way. */
    private lastId = 0,
  ) {}

  /** The last id handed out, for the next protocol on the channel to continue from. */
  get lastUsedId(): number {
    return this.lastId;
  }

  /** Calls waiting for a reply. */
  get pendingCount(): number {
    let count = 0;
    for (const entry of this.open.values()) if (entry instanceof PendingCall) count++;
    return count;
  }

  /** `stackTop`: the public method the caller called, so a kept caller stack starts at the caller's own frame. */
  request(
    target: string,
    method: string,
    args: readonly unknown[],
    options?: RequestOptions,
    stackTop: Function = this.request,
  ): Promise<unknown> {
    const link = this.link;
    const signal = options?.signal;
    if (signal?.aborted) return Promise.reject(signal.reason);
    const unusable = link.closed ?? link.peerGone;
    if (unusable) return Promise.reject(new ConnectionClosedError(unusable, `The call to ${labelOf(target, method)}`));

    const timeout = options?.timeout ?? this.defaultTimeout;
    let callerStack: { stack?: string } | undefined;
    if (this.captureCallerStack) {
      callerStack = {};
      Error.captureStackTrace(callerStack, stackTop);
    }
    return new Promise<unknown>((resolve, reject) => {
      const call = new PendingCall(target, method, resolve, reject, callerStack, signal, options?.streamWatcher);
      const streams = link.streams;
      const mark = streams.outletMark;
      let id = 0;
      try {
        id = this.nextId();
        const observers = link.observers;
        let buffer: WriteBuffer = link.channel.getWriteBuffer();
        if (observers) buffer = new CountingWriteBuffer(buffer);
        buffer
          .writeUint8(MessageType.Request)
          .writeLength(id)
          .writeUint8(requestFlags(signal, timeout))
          .writeString(target)
          .writeString(method);
        writeArgs(link.codec, buffer, args, streams, target, method);
        // In the map before the commit: a transport that delivers at once must find the call.
        this.open.set(id, call);
        if (observers) {
          call.observed = observers.start('outgoing', id, target, method, args, (buffer as CountingWriteBuffer).size);
        }
        if (signal !== undefined || timeout !== undefined) call.largeRequest = mayTravelInFragments(buffer);
        buffer.commit();
        // The label only when there are streams: building it costs every call otherwise.
        if (streams.outletMark !== mark) streams.settleOutlets(mark, true, signal, call.label, call.streamWatcher);
      } catch (error) {
        streams.settleOutlets(mark, false);
        if (this.open.get(id) === call) this.open.delete(id);
        call.fail(link.isGoingAway(error) ? new ConnectionClosedError(link.closed, `The call to ${call.label}`) : error);
        return;
      }
      // Not for a call that settled inside commit() (a transport that delivers at once): nothing is left to cancel,
      // and a timer set now would outlive it.
      if ((signal !== undefined || timeout !== undefined) && this.open.get(id) === call) {
        call.cancellation = watchCancellation(target, method, signal, timeout, (reason) => this.cancel(id, call, reason));
      }
    });
  }

  /** Sends a fire-and-forget message; throws when it cannot be sent (closed, or an argument cannot be encoded). */
  notify(target: string, method: string, args: readonly unknown[]): void {
    const link = this.link;
    if (link.closed) throw new ConnectionClosedError(link.closed, `The notification ${method}`);
    const streams = link.streams;
    const mark = streams.outletMark;
    try {
      // In order: notifications are one sequence, and a small one must not pass a large one sent before it.
      const buffer = link.channel.getWriteBuffer(IN_ORDER);
      buffer.writeUint8(MessageType.Notification).writeString(target).writeString(method);
      writeArgs(link.codec, buffer, args, streams, target, method);
      buffer.commit();
    } catch (error) {
      streams.settleOutlets(mark, false);
      throw error;
    }
    streams.settleOutlets(mark, true);
  }

  /**
   * An event of the service `target`: the first listener subscribes over the wire, and disposing the last one
   * unsubscribes. Each call returns an independent event.
   */
  listen<T>(target: string, event: string, args: readonly unknown[]): RemoteEvent<T> {
    const link = this.link;
    let id = 0;
    const emitter: Emitter<unknown> = new Emitter<unknown>({
      onListenerError: (error) => link.reportError(error),
      onFirstListener: () => {
        if (link.closed) return;
        // Runs inside the caller's subscribe: a failure (no id free, an argument that can't be encoded, a closed
        // channel) is reported, never thrown into it.
        const streams = link.streams;
        const mark = streams.outletMark;
        link.trySend(
          () => {
            id = this.nextId();
            this.open.set(id, emitter);
            const buffer = link.channel.getWriteBuffer();
            buffer.writeUint8(MessageType.Subscribe).writeLength(id).writeString(target).writeString(event);
            writeArgs(link.codec, buffer, args, streams, target, event);
            buffer.commit();
            streams.settleOutlets(mark, true);
          },
          () => {
            streams.settleOutlets(mark, false);
            if (this.open.get(id) === emitter) this.open.delete(id);
          },
        );
      },
      onLastListenerRemoved: () => {
        if (this.open.get(id) !== emitter) return;
        this.open.delete(id);
        this.sendEnd(MessageType.Unsubscribe, id);
      },
    });
    const remoteEvent = emitter.event as RemoteEvent<T>;
    const subscription: { target: string; event: string; failures?: Emitter<Error> } = { target, event };
    this.subscriptions.set(emitter, subscription);
    Object.defineProperty(remoteEvent, 'onError', {
      get: () => (subscription.failures ??= new Emitter<Error>({ onListenerError: link.reportError })).event,
    });
    return remoteEvent;
  }

  onReply(reader: ReadBuffer, isError: boolean): void {
    const id = reader.readLength();
    const call = this.open.get(id);
    if (!(call instanceof PendingCall)) {
      // Settled already (timeout, abort): a late reply is expected, and streams in it are stopped unread.
      this.link.streams.discardMessage(reader);
      return;
    }
    this.open.delete(id);
    call.settle(this.link, reader, isError);
  }

  onEvent(reader: ReadBuffer): void {
    const subscription = this.open.get(reader.readLength());
    if (!(subscription instanceof Emitter)) return; // unsubscribed while it was on its way: dropped unread
    const streams = this.link.streams;
    const mark = streams.inletMark;
    let value: unknown;
    try {
      value = this.link.codec.decode(reader, streams);
    } catch (error) {
      streams.settleInlets(mark, false);
      throw error;
    }
    streams.settleInlets(mark, true);
    subscription.fire(value);
  }

  /** The other side could not make the subscription, or ended it: its listeners are let go and told why. */
  onEventError(reader: ReadBuffer): void {
    const id = reader.readLength();
    const reason = this.link.codec.decode(reader);
    const subscription = this.open.get(id);
    if (!(subscription instanceof Emitter)) return; // unsubscribed meanwhile: nobody is left to tell
    this.open.delete(id);
    subscription.dispose();
    const what = this.subscriptions.get(subscription);
    let error: Error = reason instanceof Error ? reason : new RpcProtocolError(String(reason));
    if (what) {
      try {
        // Our error classes get their class back, as a call's rejection does.
        error = toCallerRejection(error, labelOf(what.target, what.event), undefined) as Error;
      } catch {
        // A hostile error object: told as it came.
      }
    }
    if (what?.failures?.hasListeners) what.failures.fire(error);
    else this.link.reportError(error);
  }

  /** The connection, or the protocol on the other side, is gone: every call rejects and every subscription ends. */
  abandonAll(event: ChannelCloseEvent): void {
    const entries = [...this.open.values()];
    this.open.clear();
    for (const entry of entries) {
      if (entry instanceof PendingCall) entry.fail(new ConnectionClosedError(event, `The call to ${entry.label}`));
      else entry.dispose();
    }
  }

  /** Rejects a call from this side (timeout, abort) and tells the callee to stop. */
  private cancel(id: number, call: PendingCall, reason: unknown): void {
    if (this.open.get(id) !== call) return;
    this.open.delete(id);
    call.fail(reason);
    this.sendEnd(MessageType.Cancel, id, call.largeRequest ? CANCEL_MAY_PASS : 0);
  }

  private sendEnd(type: MessageType.Cancel | MessageType.Unsubscribe, id: number, cancelFlags = 0): void {
    if (this.link.closed) return;
    // An Unsubscribe goes in order: one that passed its large Subscribe would find nothing to end, and the service
    // would keep the listener. A Cancel goes at once; one that may pass its request says so, and is remembered there.
    const options = type === MessageType.Unsubscribe ? IN_ORDER : undefined;
    this.link.trySend(() => {
      const buffer = this.link.channel.getWriteBuffer(options).writeUint8(type).writeLength(id);
      if (type === MessageType.Cancel) buffer.writeUint8(cancelFlags);
      buffer.commit();
    });
  }

  /** The id after the last one that no open call or subscription holds, wrapping from maxId to 1. */
  private nextId(): number {
    if (this.open.size >= this.maxId) throw new RangeError('Every id is in use by an open call or subscription');
    let id = this.lastId;
    do {
      id = id >= this.maxId ? 1 : id + 1;
    } while (this.open.has(id));
    return (this.lastId = id);
  }
}
