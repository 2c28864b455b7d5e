import type { Channel, ChannelCloseEvent } from '../channel/Channel';
import { ChannelClosedError } from '../channel/errors';
import { PipeClosedError } from '../pipe/errors';
import { Emitter, type Event } from '../common/event';
import { DisposableStore, toDisposable, type Disposable } from '../common/lifecycle';
import { reportTo, warnUnhandled } from '../common/warn';
import type { ReadBuffer } from '../buffer/ReadBuffer';
import type { WriteBuffer } from '../buffer/WriteBuffer';
import { DecodeError, EncodeError, ValueCodec } from './codec';
import {
  AbortError,
  ConnectionClosedError,
  MethodNotFoundError,
  RpcProtocolError,
  ServiceNotFoundError,
  TimeoutError,
} from './errors';
import { toCallerRejection } from './remoteError';
import { runWithCallSignal } from './callContext';
import { FLAG_CANCELLABLE, FLAG_SIGNAL_ARGUMENT, MessageType } from './wire';

/** What serves calls and events under one name on this side of a connection. */
export interface RpcTarget {
  /**
   * Runs `method`; returns its result or a promise of it. Throws MethodNotFoundError for a name it does not serve.
   * When the caller passed an AbortSignal, the last element of `args` is a live one; when it can cancel at all
   * (a signal or a timeout), currentCallSignal() gives that signal too.
   */
  call(method: string, args: unknown[]): unknown;
  /** The event named `event`; throws for a name it does not have. */
  listen?(event: string, args: unknown[]): Event<unknown>;
}

export interface RequestOptions {
  /** Aborting it rejects the call with AbortError and cancels the remote work. */
  signal?: AbortSignal;
  /** Milliseconds before the call rejects with TimeoutError and the remote work is cancelled. */
  timeout?: number;
}

export interface RpcProtocolOptions {
  codec?: ValueCodec;
  /** Default timeout for every call on this connection, in ms. Default: none. */
  timeout?: number;
  /** How long a request for a service not exposed yet waits for it before failing, in ms. Default 1000. */
  serviceWaitTimeout?: number;
  /**
   * Keep the caller's stack with each call, so a remote error's stack ends with where it was called from.
   * Capturing a stack costs about 3 µs a call — more than the rest of a call — so it is off unless this is true
   * or the environment variable FDPIPE_CALLER_STACKS is 1 (handy while debugging, without touching code).
   */
  captureCallerStack?: boolean;
  /** Largest request id before ids wrap to 1. Default 2^31 − 1. */
  maxRequestId?: number;
}

export interface NotificationEvent {
  target: string;
  method: string;
  args: unknown[];
}

interface PendingCall {
  resolve: (value: unknown) => void;
  reject: (reason: unknown) => void;
  target: string;
  method: string;
  timer: NodeJS.Timeout | undefined;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
  callerStack: { stack?: string } | undefined;
}

/** `service.method`, or the method alone for the low-level handler: for messages. */
function labelOf(target: string, method: string): string {
  return target ? `${target}.${method}` : method;
}

const callerStacksFromEnv = process.env.FDPIPE_CALLER_STACKS === '1';

interface ServiceWaiter {
  run(): void;
  timer: NodeJS.Timeout;
}

const protocols = new WeakMap<Channel, RpcProtocol>();

/**
 * Requests, replies, notifications, cancellation and events over one Channel, in both directions at once.
 * Every face of fdpipe's RPC (typed services, Invoker/Callee, channel services) is a thin layer over this.
 */
export class RpcProtocol implements Disposable {
  /** The protocol of a channel, created on first use, so several faces can share one connection. */
  static of(channel: Channel, options?: RpcProtocolOptions): RpcProtocol {
    let protocol = protocols.get(channel);
    if (!protocol || protocol.isDisposed) {
      protocol = new RpcProtocol(channel, options);
    }
    return protocol;
  }

  readonly codec: ValueCodec;
  private readonly pending = new Map<number, PendingCall>();
  private lastRequestId = 0;
  private readonly maxRequestId: number;
  private readonly captureCallerStack: boolean;
  private readonly incoming = new Map<number, AbortController>();
  private readonly targets = new Map<string, RpcTarget>();
  private readonly serviceWaiters = new Map<string, Set<ServiceWaiter>>();
  private readonly served = new Map<number, Disposable>();
  private readonly subscriptions = new Map<number, Emitter<unknown>>();
  private lastSubscriptionId = 0;
  private readonly store = new DisposableStore();
  private closeEvent: ChannelCloseEvent | undefined;
  /** The other side said goodbye: our calls fail at once until it sends anything again (a new protocol there). */
  private peerGone: ChannelCloseEvent | undefined;

  private readonly notificationEmitter = new Emitter<NotificationEvent>({
    onListenerError: (error) => this.reportError(error),
  });
  private readonly errorEmitter = new Emitter<Error>({ onListenerError: warnUnhandled });
  private readonly closeEmitter = new Emitter<ChannelCloseEvent>({ onListenerError: warnUnhandled });

  /** Every notification, whether or not a target also handles it. */
  readonly onNotification: Event<NotificationEvent> = this.notificationEmitter.event;
  /** Messages that could not be understood or answered; each is dropped and the connection goes on. */
  readonly onError: Event<Error> = this.errorEmitter.event;
  /** The connection closed: pending calls have been rejected and subscriptions ended by now. */
  readonly onClose: Event<ChannelCloseEvent> = this.closeEmitter.event;

  constructor(
    readonly channel: Channel,
    private readonly options: RpcProtocolOptions = {},
  ) {
    this.codec = options.codec ?? new ValueCodec();
    this.maxRequestId = options.maxRequestId ?? 0x7fffffff;
    this.captureCallerStack = options.captureCallerStack ?? callerStacksFromEnv;
    protocols.set(channel, this);
    this.store.add(channel.onMessage((provider) => this.receive(provider())));
    this.store.add(channel.onClose((event) => this.shutDown(event)));
    if (channel.isClosed) this.shutDown({ kind: 'local', reason: 'the channel was already closed' });
  }

  get isDisposed(): boolean {
    return this.closeEvent !== undefined;
  }

  /** Calls waiting for a reply. */
  get pendingCount(): number {
    return this.pending.size;
  }

  // ---- calling ---------------------------------------------------------------------------------------------

  /** Calls `method` on the other side's low-level request handler. */
  sendRequest(method: string, args: readonly unknown[] = [], options?: RequestOptions): Promise<unknown> {
    return this.request('', method, args, options);
  }

  /** Calls `method` of the service exposed as `target` on the other side. */
  request(target: string, method: string, args: readonly unknown[], options?: RequestOptions): Promise<unknown> {
    const signal = options?.signal;
    if (signal?.aborted) return Promise.reject(new AbortError(labelOf(target, method), signal.reason));
    if (this.closeEvent || this.peerGone) {
      const event = this.closeEvent ?? this.peerGone;
      return Promise.reject(new ConnectionClosedError(event, `The call to ${labelOf(target, method)}`));
    }

    const timeout = options?.timeout ?? this.options.timeout;
    let id = 0;
    let callerStack: { stack?: string } | undefined;
    if (this.captureCallerStack) {
      callerStack = {};
      Error.captureStackTrace(callerStack, this.request);
    }
    return new Promise<unknown>((resolve, reject) => {
      const call: PendingCall = {
        resolve,
        reject,
        target,
        method,
        timer: undefined,
        signal,
        onAbort: undefined,
        callerStack,
      };
      const flags =
        signal !== undefined ? FLAG_CANCELLABLE | FLAG_SIGNAL_ARGUMENT : timeout !== undefined ? FLAG_CANCELLABLE : 0;
      try {
        id = this.nextRequestId();
        const buffer = this.channel.getWriteBuffer();
        buffer
          .writeUint8(MessageType.Request)
          .writeLength(id)
          .writeUint8(flags)
          .writeString(target)
          .writeString(method);
        this.writeArgs(buffer, args);
        this.pending.set(id, call);
        buffer.commit();
      } catch (error) {
        if (this.pending.get(id) === call) this.pending.delete(id);
        reject(
          this.channel.isClosed || isClosedError(error)
            ? new ConnectionClosedError(this.closeEvent, `The call to ${labelOf(target, method)}`)
            : error,
        );
        return;
      }
      if (timeout !== undefined) {
        call.timer = setTimeout(() => this.cancelPending(id, new TimeoutError(labelOf(target, method), timeout)), timeout);
      }
      if (signal) {
        call.onAbort = () => this.cancelPending(id, new AbortError(labelOf(target, method), signal.reason));
        signal.addEventListener('abort', call.onAbort, { once: true });
      }
    });
  }

  /** Sends a fire-and-forget message to the other side's low-level handler. */
  sendNotification(method: string, args: readonly unknown[] = []): void {
    this.notify('', method, args);
  }

  /** Sends a fire-and-forget message to the service exposed as `target`. */
  notify(target: string, method: string, args: readonly unknown[]): void {
    if (this.closeEvent) throw new ConnectionClosedError(this.closeEvent, `The notification ${method}`);
    const buffer = this.channel.getWriteBuffer();
    buffer.writeUint8(MessageType.Notification).writeString(target).writeString(method);
    this.writeArgs(buffer, args);
    buffer.commit();
  }

  /**
   * An event of the service exposed as `target`: the first listener subscribes over the wire, and disposing the
   * last one unsubscribes. Each call returns an independent event.
   */
  listen<T = unknown>(target: string, event: string, args: readonly unknown[] = []): Event<T> {
    let subscriptionId = 0;
    const emitter: Emitter<unknown> = new Emitter<unknown>({
      onListenerError: (error) => this.reportError(error),
      onFirstListener: () => {
        if (this.closeEvent) return;
        subscriptionId = this.nextSubscriptionId();
        this.subscriptions.set(subscriptionId, emitter);
        // Runs inside the caller's subscribe: a failure is reported, never thrown into it.
        this.trySend(() => {
          const buffer = this.channel.getWriteBuffer();
          buffer.writeUint8(MessageType.Subscribe).writeLength(subscriptionId).writeString(target).writeString(event);
          this.writeArgs(buffer, args);
          buffer.commit();
        }, () => this.subscriptions.delete(subscriptionId));
      },
      onLastListenerRemoved: () => {
        if (!this.subscriptions.delete(subscriptionId) || this.closeEvent) return;
        this.trySend(() =>
          this.channel.getWriteBuffer().writeUint8(MessageType.Unsubscribe).writeLength(subscriptionId).commit(),
        );
      },
    });
    return emitter.event as Event<T>;
  }

  // ---- serving -----------------------------------------------------------------------------------------------

  /** Serves the other side's sendRequest() and sendNotification(). */
  setRequestHandler(handler: (method: string, args: unknown[]) => unknown): Disposable {
    return this.registerTarget('', { call: handler });
  }

  /** Serves calls and events for `name`; requests that were waiting for it run now. */
  registerTarget(name: string, target: RpcTarget): Disposable {
    if (this.targets.has(name)) throw new Error(`A service named '${name}' is already exposed on this connection`);
    this.targets.set(name, target);
    const waiters = this.serviceWaiters.get(name);
    if (waiters) {
      this.serviceWaiters.delete(name);
      for (const waiter of waiters) {
        clearTimeout(waiter.timer);
        waiter.run();
      }
    }
    return toDisposable(() => {
      if (this.targets.get(name) === target) this.targets.delete(name);
    });
  }

  /**
   * Stops using the channel: pending calls reject with ConnectionClosedError, remote work for this side is
   * aborted, subscriptions end, and the other side's protocol is told to do the same. The channel itself stays
   * open; its owner closes it.
   */
  dispose(): void {
    if (this.closeEvent) return;
    // Tell the other side, so its calls to us reject now instead of waiting for replies nobody will send.
    if (!this.channel.isClosed) {
      this.trySend(() => this.channel.getWriteBuffer().writeUint8(MessageType.Goodbye).commit());
    }
    this.shutDown({ kind: 'local', reason: 'the RPC protocol was disposed' });
  }

  // ---- receiving ---------------------------------------------------------------------------------------------

  private receive(reader: ReadBuffer): void {
    let type = 0;
    try {
      type = reader.readUint8();
      if (type !== MessageType.Goodbye) this.peerGone = undefined;
      switch (type) {
        case MessageType.Request:
          return this.onRequest(reader);
        case MessageType.Reply:
        case MessageType.ReplyError:
          return this.onReply(reader, type === MessageType.ReplyError);
        case MessageType.Notification:
          return this.onNotificationMessage(reader);
        case MessageType.Cancel: {
          const id = reader.readLength();
          // Left in `incoming` so finishRequest sees the abort and sends no reply nobody waits for.
          this.incoming.get(id)?.abort(new AbortError(`request ${id}`, 'cancelled by the caller'));
          return;
        }
        case MessageType.Subscribe:
          return this.onSubscribe(reader);
        case MessageType.Unsubscribe: {
          const id = reader.readLength();
          const subscription = this.served.get(id);
          this.served.delete(id);
          subscription?.dispose();
          return;
        }
        case MessageType.EventFire: {
          const emitter = this.subscriptions.get(reader.readLength());
          emitter?.fire(this.codec.decode(reader));
          return;
        }
        case MessageType.EventError: {
          const id = reader.readLength();
          const reason = this.codec.decode(reader);
          const emitter = this.subscriptions.get(id);
          if (!emitter) return; // unsubscribed meanwhile: nobody is left to tell
          this.subscriptions.delete(id);
          emitter.dispose();
          this.reportError(reason instanceof Error ? reason : new RpcProtocolError(String(reason)));
          return;
        }
        case MessageType.Goodbye:
          this.peerGone = { kind: 'remote', reason: 'the other side stopped its RPC protocol on this channel' };
          this.forgetPeer(this.peerGone);
          return;
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

  private onRequest(reader: ReadBuffer): void {
    const id = reader.readLength();
    const flags = reader.readUint8();
    const targetName = reader.readString();
    const method = reader.readString();
    let args: unknown[];
    try {
      args = this.readArgs(reader);
    } catch (error) {
      this.sendReply(id, error, true);
      return;
    }
    if (flags & FLAG_CANCELLABLE) {
      const controller = new AbortController();
      this.incoming.set(id, controller);
      if (flags & FLAG_SIGNAL_ARGUMENT) args.push(controller.signal);
    }
    const target = this.targets.get(targetName);
    if (target) {
      this.runRequest(id, target, method, args);
      return;
    }
    this.waitForService(
      targetName,
      () => this.runRequest(id, this.targets.get(targetName)!, method, args),
      (error) => this.finishRequest(id, error, true),
    );
  }

  private runRequest(id: number, target: RpcTarget, method: string, args: unknown[]): void {
    let result: unknown;
    try {
      result = runWithCallSignal(this.incoming.get(id)?.signal, () => target.call(method, args));
    } catch (error) {
      this.finishRequest(id, error, true);
      return;
    }
    if (isPromiseLike(result)) {
      result.then(
        (value) => this.finishRequest(id, value, false),
        (error) => this.finishRequest(id, error, true),
      );
    } else {
      this.finishRequest(id, result, false);
    }
  }

  private finishRequest(id: number, value: unknown, isError: boolean): void {
    const controller = this.incoming.get(id);
    if (controller) {
      this.incoming.delete(id);
      // The caller gave up on this call already; it will ignore a reply.
      if (controller.signal.aborted) return;
    }
    if (this.closeEvent) return;
    this.sendReply(id, value, isError);
  }

  private sendReply(id: number, value: unknown, isError: boolean): void {
    try {
      const buffer = this.channel.getWriteBuffer();
      buffer.writeUint8(isError ? MessageType.ReplyError : MessageType.Reply).writeLength(id);
      this.codec.encode(buffer, value);
      buffer.commit();
    } catch (error) {
      if (this.channel.isClosed || isClosedError(error)) return;
      // The value could not be encoded: tell the caller why instead of leaving it waiting.
      const reason = error instanceof Error ? error : new RpcProtocolError(String(error));
      this.trySend(() => {
        const buffer = this.channel.getWriteBuffer();
        buffer.writeUint8(MessageType.ReplyError).writeLength(id);
        this.codec.encode(buffer, reason);
        buffer.commit();
      });
    }
  }

  private onReply(reader: ReadBuffer, isError: boolean): void {
    const id = reader.readLength();
    const call = this.pending.get(id);
    if (!call) return; // settled already (timeout, abort): a late reply is expected
    this.pending.delete(id);
    this.releaseCall(call);
    let value: unknown;
    try {
      value = this.codec.decode(reader);
    } catch (error) {
      call.reject(error);
      return;
    }
    if (!isError) {
      call.resolve(value);
      return;
    }
    let rejection = value;
    try {
      rejection = toCallerRejection(value, labelOf(call.target, call.method), call.callerStack);
    } catch {
      // A hostile error object (a getter that throws, a frozen stack): reject with it as it came.
    }
    call.reject(rejection);
  }

  private onNotificationMessage(reader: ReadBuffer): void {
    const targetName = reader.readString();
    const method = reader.readString();
    const args = this.readArgs(reader);
    this.notificationEmitter.fire({ target: targetName, method, args });
    const target = this.targets.get(targetName);
    if (!target) return;
    try {
      const result = runWithCallSignal(undefined, () => target.call(method, args));
      if (isPromiseLike(result)) result.then(undefined, (error) => this.reportError(error));
    } catch (error) {
      // Nobody waits for a notification's outcome; a handler that does not serve it is not an error worth noise.
      if (!(error instanceof MethodNotFoundError)) this.reportError(error);
    }
  }

  private onSubscribe(reader: ReadBuffer): void {
    const id = reader.readLength();
    const targetName = reader.readString();
    const eventName = reader.readString();
    let args: unknown[];
    try {
      args = this.readArgs(reader);
    } catch (error) {
      this.sendEventError(id, error);
      return;
    }
    const subscribe = () => {
      // Unsubscribed (or the connection closed) while waiting for the service: nothing to do.
      if (this.served.get(id) !== waiting) return;
      const target = this.targets.get(targetName)!;
      try {
        if (!target.listen) {
          throw new MethodNotFoundError(`The service '${targetName}' has no events (asked for '${eventName}')`);
        }
        const event = runWithCallSignal(undefined, () => target.listen!(eventName, args));
        // The placeholder stays in `served` while subscribing, so an event that fires its current value at once
        // already goes out.
        const subscription = event((value) => this.sendEventFire(id, value));
        if (this.served.get(id) === waiting) this.served.set(id, subscription);
        else subscription.dispose();
      } catch (error) {
        this.sendEventError(id, error);
      }
    };
    const waiting: Disposable = { dispose() {} };
    this.served.set(id, waiting);
    if (this.targets.has(targetName)) subscribe();
    else
      this.waitForService(targetName, subscribe, (error) => {
        if (this.served.get(id) === waiting) this.sendEventError(id, error);
      });
  }

  /** Runs inside the service's own emitter: whatever goes wrong is reported here, never thrown into it. */
  private sendEventFire(id: number, value: unknown): void {
    if (this.closeEvent || !this.served.has(id)) return;
    // Inline rather than through trySend: events can be many, and this spares a closure for each.
    try {
      const buffer = this.channel.getWriteBuffer();
      buffer.writeUint8(MessageType.EventFire).writeLength(id);
      this.codec.encode(buffer, value);
      buffer.commit();
    } catch (error) {
      this.sendFailed(error);
    }
  }

  private sendEventError(id: number, error: unknown): void {
    this.served.get(id)?.dispose();
    this.served.delete(id);
    if (this.closeEvent) return;
    this.trySend(() => {
      const buffer = this.channel.getWriteBuffer();
      buffer.writeUint8(MessageType.EventError).writeLength(id);
      this.codec.encode(buffer, error instanceof Error ? error : new RpcProtocolError(String(error)));
      buffer.commit();
    });
  }

  /**
   * Sends from a place that must not throw (a listener, a timer, an emitter of the service): a connection closing
   * under us, or a value that cannot be encoded, is reported on onError instead.
   */
  private trySend(send: () => void, undo?: () => void): void {
    try {
      send();
    } catch (error) {
      undo?.();
      this.sendFailed(error);
    }
  }

  /** A connection on its way out explains itself through onClose; anything else is worth reporting. */
  private sendFailed(error: unknown): void {
    if (!this.channel.isClosed && !isClosedError(error)) this.reportError(error);
  }

  // ---- helpers -----------------------------------------------------------------------------------------------

  private waitForService(name: string, run: () => void, fail: (error: Error) => void): void {
    const wait = this.options.serviceWaitTimeout ?? 1000;
    let waiters = this.serviceWaiters.get(name);
    if (!waiters) this.serviceWaiters.set(name, (waiters = new Set()));
    const waiter: ServiceWaiter = {
      run,
      timer: setTimeout(() => {
        waiters!.delete(waiter);
        if (waiters!.size === 0 && this.serviceWaiters.get(name) === waiters) this.serviceWaiters.delete(name);
        fail(
          new ServiceNotFoundError(
            name
              ? `No service named '${name}' is exposed on the other side (waited ${wait} ms)`
              : `The other side has no request handler (waited ${wait} ms)`,
          ),
        );
      }, wait),
    };
    waiters.add(waiter);
  }

  private writeArgs(buffer: WriteBuffer, args: readonly unknown[]): void {
    buffer.writeLength(args.length);
    let i = 0;
    try {
      for (; i < args.length; i++) this.codec.encode(buffer, args[i]);
    } catch (error) {
      // Name the argument in the path only when something failed: building it for every call would cost.
      throw error instanceof EncodeError ? error.withRoot(`args[${i}]`) : error;
    }
  }

  private readArgs(reader: ReadBuffer): unknown[] {
    const count = reader.readLength();
    if (count > reader.remaining) {
      throw new DecodeError(`The message claims ${count} arguments but has only ${reader.remaining} bytes left`);
    }
    const args = new Array<unknown>(count);
    for (let i = 0; i < count; i++) args[i] = this.codec.decode(reader);
    return args;
  }

  private nextRequestId(): number {
    if (this.pending.size >= this.maxRequestId) throw new RangeError('Every request id is in use by a pending call');
    return (this.lastRequestId = nextFreeId(this.lastRequestId, this.maxRequestId, this.pending));
  }

  private nextSubscriptionId(): number {
    return (this.lastSubscriptionId = nextFreeId(this.lastSubscriptionId, 0x7fffffff, this.subscriptions));
  }

  /** Rejects a pending call from this side (timeout, abort) and tells the callee to stop. */
  private cancelPending(id: number, reason: Error): void {
    const call = this.pending.get(id);
    if (!call) return;
    this.pending.delete(id);
    this.releaseCall(call);
    call.reject(reason);
    if (!this.closeEvent) {
      this.trySend(() => this.channel.getWriteBuffer().writeUint8(MessageType.Cancel).writeLength(id).commit());
    }
  }

  private releaseCall(call: PendingCall): void {
    if (call.timer) clearTimeout(call.timer);
    if (call.onAbort) call.signal!.removeEventListener('abort', call.onAbort);
  }

  private reportError(error: unknown): void {
    reportTo(this.errorEmitter, error instanceof Error ? error : new RpcProtocolError(String(error)));
  }

  private shutDown(event: ChannelCloseEvent): void {
    if (this.closeEvent) return;
    this.closeEvent = event;
    this.store.dispose();
    if (protocols.get(this.channel) === this) protocols.delete(this.channel);
    this.forgetPeer(event);
    this.closeEmitter.fire(event);
    this.closeEmitter.dispose();
    this.notificationEmitter.dispose();
    this.errorEmitter.dispose();
  }

  /**
   * Drops everything shared with the other side's protocol: our pending calls reject, work we do for it is
   * aborted, and subscriptions both ways end. On a Goodbye this is all that happens: this side keeps serving, so
   * a new protocol the other side starts on the same channel is answered.
   */
  private forgetPeer(event: ChannelCloseEvent): void {
    const calls = [...this.pending.values()];
    this.pending.clear();
    for (const call of calls) {
      this.releaseCall(call);
      call.reject(new ConnectionClosedError(event, `The call to ${labelOf(call.target, call.method)}`));
    }
    const incoming = [...this.incoming.values()];
    this.incoming.clear();
    for (const controller of incoming) controller.abort(new ConnectionClosedError(event, 'The request'));
    for (const waiters of this.serviceWaiters.values()) {
      for (const waiter of waiters) clearTimeout(waiter.timer);
    }
    this.serviceWaiters.clear();
    const served = [...this.served.values()];
    this.served.clear();
    for (const subscription of served) subscription.dispose();
    const subscriptions = [...this.subscriptions.values()];
    this.subscriptions.clear();
    for (const emitter of subscriptions) emitter.dispose();
  }
}

/** The id after `last` that `taken` does not hold, wrapping from `max` to 1. The caller makes sure one is free. */
function nextFreeId(last: number, max: number, taken: Map<number, unknown>): number {
  let id = last;
  do {
    id = id >= max ? 1 : id + 1;
  } while (taken.has(id));
  return id;
}

/** The transport is closed or closing: the call fails because the connection is gone, not because of a bug. */
function isClosedError(error: unknown): boolean {
  return error instanceof ChannelClosedError || error instanceof PipeClosedError || error instanceof ConnectionClosedError;
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as PromiseLike<unknown>).then === 'function'
  );
}
