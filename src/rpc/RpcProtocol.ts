import type { Channel, ChannelCloseEvent } from '../channel/Channel';
import { Emitter, type Event } from '../common/event';
import { debug, debugEnabled } from '../common/debug';
import { DisposableStore, type Disposable, supportUsing } from '../common/lifecycle';
import { reportTo, warnUnhandled } from '../common/warn';
import type { ReadBuffer } from '../buffer/ReadBuffer';
import { DecodeError, ValueCodec } from './codec';
import { ChannelInUseError, RpcProtocolError } from './errors';
import { Incoming, type NotificationEvent, type RpcTarget } from './protocol/Incoming';
import { CallObservers, type RpcObserver } from './protocol/observers';
import { Outgoing, type RemoteEvent, type RequestOptions } from './protocol/Outgoing';
import { ProtocolLink } from './protocol/ProtocolLink';
import { traceObserver } from './protocol/traceObserver';
import { Streams } from './protocol/streams/Streams';
import { checkedWindow, type StreamWindow } from './protocol/streams/window';
import { HANDLER_TARGET, IN_ORDER, MessageType } from './protocol/wire';
import { IncomingGate } from './protocol/IncomingGate';

export type { RpcTarget, NotificationEvent } from './protocol/Incoming';
export type { RequestOptions, RemoteEvent } from './protocol/Outgoing';
export type { RpcObserver, RpcCallInfo, RpcCallOutcome } from './protocol/observers';
export type { StreamWindow } from './protocol/streams/window';
export type { StreamWatcher } from './protocol/streams/StreamWatcher';

export interface RpcProtocolOptions {
  codec?: ValueCodec;
  /** Default timeout for every call on this connection, in ms. Default: none. */
  timeout?: number;
  /**
   * How long a request for a service not exposed yet waits for it before failing, in ms. Default 1000. 0: a
   * request for a name not exposed fails at once (when every service is exposed before the other side calls).
   */
  serviceWaitTimeout?: number;
  /**
   * Keep the caller's stack with each call, so a remote error's stack ends with where it was called from.
   * Capturing a stack costs about 3 µs a call — more than the rest of a call — so it is off unless this is true
   * or the environment variable FDPIPE_CALLER_STACKS is 1 (handy while debugging, without touching code).
   */
  captureCallerStack?: boolean;
  /**
   * Largest request id before ids wrap to 1. Default 2^31 − 1. Ids that come round again within a minute or so (a
   * small value and busy calls) make cancelling racy: the reply of a call cancelled as it was answered can settle
   * the call that took its id next, and an early cancel can be taken for a late one (PROTOCOL.md, Fragments). Keep
   * it well above the calls made in a minute.
   */
  maxRequestId?: number;
  /** Watches every call from the start, both ways (see addObserver). */
  observer?: RpcObserver;
  /**
   * How far the producer of a stream this side reads may run ahead of the reader: items and bytes in flight or
   * queued here. Default 4096 items, 1 MiB. Larger windows keep a fast pipe fuller between two busy processes;
   * smaller ones hold less memory per stream.
   */
  streamWindow?: StreamWindow;
  /**
   * Bounds the bytes this side queues for a peer that sends but does not read: over this many unsent bytes, the
   * peer's messages wait (in order) and the channel stops reading it, until it has drained to half. For a channel
   * that reports its unsent bytes (a socket or pipe); IPCServer sets it (default 64 MiB). Default: no bound,
   * as pausing both ends of a connection where both send heavily would stall it.
   */
  maxUnsentBytes?: number;
}

const callerStacksFromEnv = process.env.FDPIPE_CALLER_STACKS === '1';

/**
 * What a channel's protocols leave behind. Not a registry to look protocols up in — only what the next protocol
 * on the channel must know: whether one is live (two would both handle every message, so a second is refused),
 * and where the last one's ids stopped (the next continues from there, so a reply still on its way to the old
 * protocol never matches a call of the new one). A channel here has had a protocol, so the other side may have
 * heard its Goodbye and stopped calling: the next protocol says Hello.
 */
interface ChannelHistory {
  inUse: boolean;
  lastId: number;
  lastStreamId: number;
}
const histories = new WeakMap<Channel, ChannelHistory>();

/**
 * Requests, replies, notifications, cancellation and events over one Channel, in both directions at once.
 * Every face of fdpipe's RPC (typed services, Invoker/Callee, channel services) is a thin layer over this.
 *
 * This class is the dispatcher: it owns the channel's listeners, hands each message to the side it concerns —
 * `Outgoing` for what this side asked (replies, events), `Incoming` for what the other side asks (requests,
 * notifications, subscriptions, cancels) — and shuts both down together. A protocol is its channel's only user
 * while it lives; faces that share a connection share the protocol.
 */
export class RpcProtocol implements Disposable {
  /** dispose(), for `using`. */
  declare readonly [Symbol.dispose]: () => void;
  readonly codec: ValueCodec;
  private readonly link: ProtocolLink;
  private readonly outgoing: Outgoing;
  private readonly incoming: Incoming;
  private readonly history: ChannelHistory;
  private readonly channelListeners = new DisposableStore();
  private readonly emitters = new DisposableStore();
  private observers: CallObservers | undefined;
  private gate: IncomingGate | undefined;

  private readonly notificationEmitter = this.emitters.add(
    new Emitter<NotificationEvent>({ onListenerError: (error) => this.reportError(error) }),
  );
  private readonly errorEmitter = this.emitters.add(new Emitter<Error>({ onListenerError: warnUnhandled }));
  private readonly closeEmitter = this.emitters.add(
    new Emitter<ChannelCloseEvent>({ onListenerError: warnUnhandled }),
  );

  /** Every notification, whether or not a target also handles it. */
  readonly onNotification: Event<NotificationEvent> = this.notificationEmitter.event;
  /** Messages that could not be understood or answered; each is dropped and the connection goes on. */
  readonly onError: Event<Error> = this.errorEmitter.event;
  /** The connection closed: pending calls have been rejected and subscriptions ended by now. */
  readonly onClose: Event<ChannelCloseEvent> = this.closeEmitter.event;

  /** @throws ChannelInUseError when another RpcProtocol is still using `channel`: share that one instead. */
  constructor(
    readonly channel: Channel,
    options: RpcProtocolOptions = {},
  ) {
    const history = histories.get(channel);
    if (history?.inUse) throw new ChannelInUseError();
    this.codec = options.codec ?? new ValueCodec();
    this.link = new ProtocolLink(channel, this.codec, (error) => this.reportError(error));
    this.link.streams = new Streams(this.link, checkedWindow(options.streamWindow), history?.lastStreamId ?? 0);
    this.outgoing = new Outgoing(
      this.link,
      options.maxRequestId ?? 0x7fffffff,
      options.timeout,
      options.captureCallerStack ?? callerStacksFromEnv,
      Math.min(history?.lastId ?? 0, options.maxRequestId ?? 0x7fffffff),
    );
    this.incoming = new Incoming(this.link, options.serviceWaitTimeout ?? 1000, (notification) =>
      this.notificationEmitter.fire(notification),
    );
    if (options.observer) this.addObserver(options.observer);
    if (debugEnabled) {
      this.addObserver(traceObserver);
      debug('rpc open%s', history ? ' (again on this channel: hello)' : '');
    }
    const gate = boundedGate(channel, options.maxUnsentBytes, (provider) => {
      // A message held until the close, handled after a handler before it closed this protocol itself.
      if (this.link.closed) return false;
      const reader = provider();
      const isRequest = reader.remaining > 0 && provider().readUint8() === MessageType.Request;
      this.receive(reader);
      return isRequest;
    });
    // Marked last: a constructor that threw above leaves the channel free.
    this.history = history ?? { inUse: true, lastId: 0, lastStreamId: 0 };
    this.history.inUse = true;
    histories.set(channel, this.history);
    if (gate) {
      this.gate = gate;
      this.channelListeners.add(channel.onMessage((provider) => gate.admit(provider)));
    } else {
      this.channelListeners.add(channel.onMessage((provider) => this.receive(provider())));
    }
    this.channelListeners.add(channel.onClose((event) => this.shutDown(event)));
    if (channel.isClosed) {
      this.shutDown({ kind: 'local', reason: 'the channel was already closed' });
    } else {
      if (history) this.link.trySend(() => channel.getWriteBuffer().writeUint8(MessageType.Hello).commit());
      const limit = channel.maxIncomingSize;
      if (limit !== undefined) {
        this.link.trySend(() => channel.getWriteBuffer().writeUint8(MessageType.Limits).writeLength(limit).commit());
      }
    }
  }

  get isDisposed(): boolean {
    return this.link.closed !== undefined;
  }

  /** Calls waiting for a reply. */
  get pendingCount(): number {
    return this.outgoing.pendingCount;
  }

  /** Streams open on this connection: those this side produces, and those it reads. */
  get streamCounts(): { producing: number; consuming: number } {
    return this.link.streams.counts;
  }

  // ---- calling ---------------------------------------------------------------------------------------------

  /** Calls `method` of the service exposed as `target` on the other side. */
  request(target: string, method: string, args: readonly unknown[], options?: RequestOptions): Promise<unknown> {
    return this.outgoing.request(target, method, args, options, this.request);
  }

  /** Sends a fire-and-forget message to the service exposed as `target`. */
  notify(target: string, method: string, args: readonly unknown[]): void {
    this.outgoing.notify(target, method, args);
  }

  /**
   * An event of the service exposed as `target`: the first listener subscribes over the wire, and disposing the
   * last one unsubscribes. Each call returns an independent event.
   */
  listen<T = unknown>(target: string, event: string, args: readonly unknown[] = []): RemoteEvent<T> {
    return this.outgoing.listen<T>(target, event, args);
  }

  /**
   * Watches every call from now on, those this side makes and those it serves: `callStarted` when a request is
   * sent or received, `callEnded` with its duration, sizes and outcome when the reply is received or sent (or the
   * call is given up). Without observers a call pays for none of this. Disposing the result stops watching.
   */
  addObserver<TContext>(observer: RpcObserver<TContext>): Disposable {
    if (!this.observers) this.observers = new CallObservers((error) => this.reportError(error));
    const observers = this.observers;
    this.link.observers = observers;
    return observers.add(observer as RpcObserver, () => {
      if (this.link.observers === observers) this.link.observers = undefined;
    });
  }

  // ---- serving -----------------------------------------------------------------------------------------------

  /** Serves calls and events for `name`; requests that were waiting for it run now. */
  registerTarget(name: string, target: RpcTarget): Disposable {
    return this.incoming.registerTarget(name, target);
  }

  // ---- the low-level face: unnamed requests and notifications, one handler -----------------------------------

  /** Calls `method` on the other side's request handler (setRequestHandler). */
  sendRequest(method: string, args: readonly unknown[] = [], options?: RequestOptions): Promise<unknown> {
    return this.outgoing.request(HANDLER_TARGET, method, args, options, this.sendRequest);
  }

  /** Sends a fire-and-forget message to the other side's request handler. */
  sendNotification(method: string, args: readonly unknown[] = []): void {
    this.outgoing.notify(HANDLER_TARGET, method, args);
  }

  /** Serves the other side's sendRequest() and sendNotification(). */
  setRequestHandler(handler: (method: string, args: unknown[]) => unknown): Disposable {
    return this.incoming.registerTarget(HANDLER_TARGET, { call: handler });
  }

  /**
   * Stops using the channel: pending calls reject with ConnectionClosedError, remote work for this side is
   * aborted, subscriptions end, and the other side's protocol is told to do the same. The channel itself stays
   * open for its owner, who may start a new protocol on it.
   */
  dispose(): void {
    if (this.link.closed) return;
    // Tell the other side, so its calls to us reject now instead of waiting for replies nobody will send.
    if (!this.channel.isClosed) {
      this.link.trySend(() => this.channel.getWriteBuffer(IN_ORDER).writeUint8(MessageType.Goodbye).commit());
    }
    this.shutDown({ kind: 'local', reason: 'the RPC protocol was disposed' });
  }

  // ---- dispatch --------------------------------------------------------------------------------------------

  private receive(reader: ReadBuffer): void {
    let type = 0;
    try {
      type = reader.readUint8();
      if (type !== MessageType.Goodbye) this.link.peerGone = undefined;
      switch (type) {
        case MessageType.Request:
          return this.incoming.onRequest(reader);
        case MessageType.Reply:
          return this.outgoing.onReply(reader, false);
        case MessageType.ReplyError:
          return this.outgoing.onReply(reader, true);
        case MessageType.Notification:
          return this.incoming.onNotification(reader);
        case MessageType.Cancel:
        case MessageType.Unsubscribe:
          return this.incoming.onEnd(reader, type);
        case MessageType.Hello:
          return; // a new protocol on the other side: clearing peerGone above was all it is for
        case MessageType.Limits:
          return this.channel.limitOutgoing?.(reader.readLength());
        case MessageType.Subscribe:
          return this.incoming.onSubscribe(reader);
        case MessageType.EventFire:
          return this.outgoing.onEvent(reader);
        case MessageType.EventError:
          return this.outgoing.onEventError(reader);
        case MessageType.StreamCredit:
          return this.link.streams.onCredit(reader);
        case MessageType.StreamData:
          return this.link.streams.onData(reader);
        case MessageType.StreamEnd:
          return this.link.streams.onEnd(reader);
        case MessageType.StreamError:
          return this.link.streams.onError(reader);
        case MessageType.StreamCancel:
          return this.link.streams.onCancel(reader);
        case MessageType.Goodbye: {
          const event: ChannelCloseEvent = {
            kind: 'remote',
            reason: 'the other side stopped its RPC protocol on this channel',
          };
          this.link.peerGone = event;
          // This side keeps serving, so a new protocol the other side starts on the channel is answered.
          this.forgetPeer(event);
          return;
        }
        default:
          throw new RpcProtocolError(`Unknown RPC message type ${type}`);
      }
    } catch (error) {
      this.reportError(
        error instanceof RpcProtocolError || error instanceof DecodeError
          ? error
          : new RpcProtocolError(`Dropped a malformed RPC message (type ${type}): ${(error as Error).message}`),
      );
    }
  }

  private reportError(error: unknown): void {
    reportTo(this.errorEmitter, error instanceof Error ? error : new RpcProtocolError(String(error)));
  }

  private shutDown(event: ChannelCloseEvent): void {
    if (this.link.closed) return;
    this.channelListeners.dispose();
    // What a peer that went had sent is handled as it would have been without the bound: calls start, to end with
    // the rest below, and notifications are delivered. A close by this side handles nothing more.
    this.gate?.stop(event.kind !== 'local');
    if (this.link.closed) return; // a handler of one of those messages closed this protocol itself
    this.link.closed = event;
    if (debugEnabled) debug('rpc closed (%s): %s', event.kind, event.reason);
    this.history.inUse = false;
    this.history.lastId = this.outgoing.lastUsedId;
    this.history.lastStreamId = this.link.streams.lastUsedId;
    try {
      this.forgetPeer(event);
    } finally {
      this.closeEmitter.fire(event);
      this.emitters.dispose();
    }
  }

  /** Drops everything shared with the other side's protocol: both sides' work ends. */
  private forgetPeer(event: ChannelCloseEvent): void {
    this.outgoing.abandonAll(event);
    this.incoming.abandonAll(event);
    this.link.streams.abandonAll(event);
  }
}

/** A gate for `channel` when a bound is asked for and the channel can tell its unsent bytes. */
function boundedGate(
  channel: Channel,
  maxUnsentBytes: number | undefined,
  handle: ConstructorParameters<typeof IncomingGate>[2],
): IncomingGate | undefined {
  if (maxUnsentBytes === undefined || maxUnsentBytes === Infinity || channel.unsentBytes === undefined) return undefined;
  if (!(maxUnsentBytes > 0)) throw new RangeError(`maxUnsentBytes must be a positive number of bytes, got ${maxUnsentBytes}`);
  return new IncomingGate(channel as Channel & { readonly unsentBytes: number }, maxUnsentBytes, handle);
}

supportUsing(RpcProtocol.prototype);
