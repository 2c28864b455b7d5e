import type { ChannelCloseEvent } from '../../channel/Channel';
import type { ReadBuffer } from '../../buffer/ReadBuffer';
import { MessageTooLargeError } from '../../common/errors';
import { CountingWriteBuffer } from '../../buffer/CountingWriteBuffer';
import type { WriteBuffer } from '../../buffer/WriteBuffer';
import type { Event } from '../../common/event';
import { toDisposable, type Disposable } from '../../common/lifecycle';
import { EncodeError } from '../codec/errors';
import { ConnectionClosedError, MethodNotFoundError, ReplyTooLargeError, RpcProtocolError } from '../errors';
import {
  CANCEL_MAY_PASS,
  FLAG_CANCELLABLE,
  FLAG_SIGNAL_ARGUMENT,
  PASSABLE_FROM,
  runWithCallSignal,
  ServedRequest,
} from './cancellation';
import { EarlyCancels } from './EarlyCancels';
import type { ObservedCall } from './observers';
import { encodableCopy } from './encodableError';
import type { ProtocolLink } from './ProtocolLink';
import { ServiceWaiters } from './ServiceWaiters';
import { describeTarget, IN_ORDER, MessageType, readArgs } from './wire';

/** More than the bytes the caller's measure of a request may count that this side's does not: headers. */
const SIZE_MARGIN = 64;

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

export interface NotificationEvent {
  target: string;
  method: string;
  args: unknown[];
}

/** One event subscription the other side holds here; ended by Unsubscribe, by an error, or by the connection. */
class ServedSubscription implements Disposable {
  private listening: Disposable | undefined;
  ended = false;

  /** Subscribes to the service's event, unless the subscription ended while the service was awaited. */
  attach(event: Event<unknown>, onValue: (value: unknown) => void): void {
    const listening = event(onValue);
    if (this.ended) listening.dispose();
    else this.listening = listening;
  }

  /** Takes the same reason a served request does; a subscription has nobody to tell it to. */
  dispose(_reason?: Error): void {
    this.ended = true;
    this.listening?.dispose();
    this.listening = undefined;
  }
}

/**
 * What the other side asks of this one: the targets that serve it, requests and subscriptions waiting for a target
 * to be exposed, and the work under way — cancellable requests and subscriptions — in one map by the caller's id,
 * so a Cancel and an Unsubscribe take the same path.
 */
export class Incoming {
  private readonly targets = new Map<string, RpcTarget>();
  private readonly waiters: ServiceWaiters;
  // By the caller's id, which is unique among its open calls and subscriptions (the wire's rule since fdpipe/3).
  private readonly active = new Map<number, ServedRequest | ServedSubscription>();
  /** Cancels that passed their request on the way: the request is dropped when it comes. */
  private readonly earlyCancels = new EarlyCancels();
  /** Bumped when the other side's protocol is gone: work it started before then is answered to nobody. */
  private generation = 0;

  constructor(
    private readonly link: ProtocolLink,
    serviceWaitTimeout: number,
    private readonly announce: (notification: NotificationEvent) => void,
  ) {
    this.waiters = new ServiceWaiters(serviceWaitTimeout, () => this.targets.keys());
  }

  /** Serves calls and events for `name`; requests that were waiting for it run now. */
  registerTarget(name: string, target: RpcTarget): Disposable {
    if (this.targets.has(name)) {
      throw new Error(`A ${describeTarget(name)} is already exposed on this connection`);
    }
    this.targets.set(name, target);
    this.waiters.arrived(name);
    return toDisposable(() => {
      if (this.targets.get(name) === target) this.targets.delete(name);
    });
  }

  onRequest(reader: ReadBuffer): void {
    // A request its caller's cancel may pass (cancellation.ts): only such requests need remembering once ended. The
    // caller measured it with its type byte and any channel's header (a multiplexer's), so err towards large.
    const large = reader.remaining + SIZE_MARGIN > PASSABLE_FROM;
    const id = reader.readLength();
    const flags = reader.readUint8();
    const targetName = reader.readString();
    const method = reader.readString();
    let args: unknown[];
    const streams = this.link.streams;
    const mark = streams.inletMark;
    // Looked up first, so a cancel that came early is used up whatever becomes of its request.
    const cancelledEarly = this.earlyCancels.take(id);
    try {
      args = readArgs(this.link.codec, reader, streams);
    } catch (error) {
      streams.settleInlets(mark, false);
      if (large && flags & FLAG_CANCELLABLE) this.earlyCancels.requestEnded(id);
      if (!cancelledEarly) this.sendReply(id, error, true);
      return;
    }
    if (cancelledEarly) {
      // Its caller gave up before it arrived: nobody waits for a reply, and its streams stop.
      streams.settleInlets(mark, false);
      return;
    }
    streams.settleInlets(mark, true);
    const observed = this.link.observers?.start('incoming', id, targetName, method, args, reader.position + reader.remaining);
    let served: ServedRequest | undefined;
    if (flags & FLAG_CANCELLABLE) {
      served = new ServedRequest(id, large);
      served.observed = observed;
      this.begin(id, served);
      if (flags & FLAG_SIGNAL_ARGUMENT) args.push(served.signal);
    }
    const target = this.targets.get(targetName);
    if (target) {
      this.run(id, served, target, method, args, observed);
      return;
    }
    this.waiters.wait(
      targetName,
      () => {
        // Cancelled while the service was awaited: it never starts.
        if (!served?.isCancelled) this.run(id, served, this.targets.get(targetName)!, method, args, observed);
        else observed?.end(0, true, served.signal.reason);
      },
      (error) => this.finish(id, served, error, true, observed),
    );
  }

  onNotification(reader: ReadBuffer): void {
    const targetName = reader.readString();
    const method = reader.readString();
    const streams = this.link.streams;
    const mark = streams.inletMark;
    let args: unknown[];
    try {
      args = readArgs(this.link.codec, reader, streams);
    } catch (error) {
      streams.settleInlets(mark, false);
      throw error;
    }
    streams.settleInlets(mark, true);
    this.announce({ target: targetName, method, args });
    const target = this.targets.get(targetName);
    if (!target) return;
    try {
      const result = runWithCallSignal(undefined, () => target.call(method, args));
      if (isPromiseLike(result)) result.then(undefined, (error) => this.link.reportError(error));
    } catch (error) {
      // Nobody waits for a notification's outcome; a handler that does not serve it is not an error worth noise.
      if (!(error instanceof MethodNotFoundError)) this.link.reportError(error);
    }
  }

  onSubscribe(reader: ReadBuffer): void {
    const id = reader.readLength();
    const targetName = reader.readString();
    const eventName = reader.readString();
    let args: unknown[];
    const streams = this.link.streams;
    const mark = streams.inletMark;
    try {
      args = readArgs(this.link.codec, reader, streams);
    } catch (error) {
      streams.settleInlets(mark, false);
      this.sendEventError(id, undefined, error);
      return;
    }
    streams.settleInlets(mark, true);
    const served = new ServedSubscription();
    this.begin(id, served);
    const subscribe = () => {
      if (served.ended) return; // unsubscribed, or the connection closed, while waiting for the service
      const target = this.targets.get(targetName)!;
      try {
        if (!target.listen) {
          throw new MethodNotFoundError(`The ${describeTarget(targetName)} has no events (asked for '${eventName}')`);
        }
        const event = runWithCallSignal(undefined, () => target.listen!(eventName, args));
        // Attached while the entry is in the map, so a value the event fires at once already goes out.
        served.attach(event, (value) => this.sendEventFire(id, served, value));
      } catch (error) {
        this.sendEventError(id, served, error);
      }
    };
    if (this.targets.has(targetName)) subscribe();
    else this.waiters.wait(targetName, subscribe, (error) => this.sendEventError(id, served, error));
  }

  /** A Cancel or an Unsubscribe: the work under that id stops, and nothing more is sent for it. */
  onEnd(reader: ReadBuffer, type: MessageType.Cancel | MessageType.Unsubscribe): void {
    const id = reader.readLength();
    const entry = this.active.get(id);
    if (!entry) {
      // An Unsubscribe keeps its order, so it never passes its Subscribe: the subscription ended here already. So
      // does a Cancel whose request was too small to travel in fragments. One that may have passed its request came
      // late if the request ended here, and early otherwise.
      const mayPass = type === MessageType.Cancel && reader.remaining > 0 && (reader.readUint8() & CANCEL_MAY_PASS) !== 0;
      if (mayPass) this.earlyCancels.cancelArrived(id);
      return;
    }
    this.active.delete(id);
    entry.dispose();
  }

  /** The connection, or the protocol on the other side, is gone: work under way is aborted or unsubscribed. */
  abandonAll(event: ChannelCloseEvent): void {
    this.generation++;
    this.waiters.clear();
    this.earlyCancels.clear();
    const entries = [...this.active.values()];
    this.active.clear();
    const reason = new ConnectionClosedError(event, 'The request');
    for (const entry of entries) {
      // A service's own dispose may throw: the rest must still end, and the protocol still close.
      try {
        entry.dispose(reason);
      } catch (error) {
        this.link.reportError(error);
      }
    }
  }

  /** Work under `id` begins; whatever a misbehaving caller left open under the same id is ended, not leaked. */
  private begin(id: number, entry: ServedRequest | ServedSubscription): void {
    const earlier = this.active.get(id);
    if (earlier) {
      earlier.dispose();
      this.link.reportError(
        new RpcProtocolError(`The other side reused id ${id} while its earlier call or subscription was open: ended that one`),
      );
    }
    this.active.set(id, entry);
  }

  private run(
    id: number,
    served: ServedRequest | undefined,
    target: RpcTarget,
    method: string,
    args: unknown[],
    observed: ObservedCall | undefined,
  ): void {
    let result: unknown;
    try {
      result = runWithCallSignal(served?.signal, () => target.call(method, args));
    } catch (error) {
      this.finish(id, served, error, true, observed);
      return;
    }
    if (isPromiseLike(result)) {
      // The caller's protocol may end (a Goodbye) before this settles, and a new one there starts its ids again:
      // a late reply would answer one of its calls.
      const generation = this.generation;
      try {
        result.then(
          (value) => generation === this.generation ? this.finish(id, served, value, false, observed) : observed?.end(0, false, value),
          (error) => generation === this.generation ? this.finish(id, served, error, true, observed) : observed?.end(0, true, error),
        );
      } catch (error) {
        // A thenable whose then() throws: its caller is told so instead of waiting forever.
        this.finish(id, served, error, true, observed);
      }
    } else {
      this.finish(id, served, result, false, observed);
    }
  }

  private finish(
    id: number,
    served: ServedRequest | undefined,
    value: unknown,
    isError: boolean,
    observed?: ObservedCall,
  ): void {
    if (served) {
      if (served.large) this.earlyCancels.requestEnded(id);
      if (this.active.get(id) === served) this.active.delete(id);
      if (served.isCancelled) {
        // The caller gave up on this call already; it will ignore a reply, and nobody will read a stream in it.
        this.link.streams.dropUnsent(value);
        observed?.end(0, true, served.signal.reason);
        return;
      }
    }
    if (this.link.closed) {
      this.link.streams.dropUnsent(value);
      observed?.end(0, isError, value);
      return;
    }
    this.sendReply(id, value, isError, observed);
  }

  /** `observed`, when someone watches, ends with the reply that went out. */
  private sendReply(id: number, value: unknown, isError: boolean, observed?: ObservedCall): void {
    const link = this.link;
    const streams = link.streams;
    const mark = streams.outletMark;
    try {
      let buffer: WriteBuffer = link.channel.getWriteBuffer();
      if (observed) buffer = new CountingWriteBuffer(buffer);
      buffer.writeUint8(isError ? MessageType.ReplyError : MessageType.Reply).writeLength(id);
      link.codec.encode(buffer, value, undefined, streams);
      buffer.commit();
      streams.settleOutlets(mark, true);
      observed?.end((buffer as CountingWriteBuffer).size, isError, value);
    } catch (error) {
      streams.settleOutlets(mark, false);
      if (link.isGoingAway(error)) {
        observed?.end(0, true, error);
        return;
      }
      // The value could not be encoded, or is more than the caller takes: tell the caller why instead of leaving
      // it waiting.
      let reason = error instanceof Error ? error : new RpcProtocolError(String(error));
      if (isError && value instanceof Error && error instanceof EncodeError) {
        // The service's own error holds something that cannot cross: the caller gets it with what can, rather than
        // the codec's complaint in its place.
        reason = encodableCopy(link.codec, value);
      } else if (error instanceof MessageTooLargeError && error.peerLimit) {
        reason = new ReplyTooLargeError(error.size, error.maxMessageSize);
        link.reportError(reason); // this side's own code made the reply: it hears of it too
      }
      let size = 0;
      const send = (value: unknown) => {
        let buffer: WriteBuffer = link.channel.getWriteBuffer();
        if (observed) buffer = new CountingWriteBuffer(buffer);
        buffer.writeUint8(MessageType.ReplyError).writeLength(id);
        link.codec.encode(buffer, value);
        buffer.commit();
        if (observed) size = (buffer as CountingWriteBuffer).size;
      };
      link.trySend(() => {
        try {
          send(reason);
        } catch (again) {
          // A caller with a small limit may not take even the error with its stack: it gets the message alone.
          if (!(again instanceof MessageTooLargeError)) throw again;
          const bare = Object.assign(Object.create(Object.getPrototypeOf(reason) as object) as Error, reason, {
            name: reason.name,
            message: reason.message,
            stack: `${reason.name}: ${reason.message}`,
          });
          send(bare);
        }
      });
      observed?.end(size, true, reason);
    }
  }

  /** Runs inside the service's own emitter: whatever goes wrong is reported here, never thrown into it. */
  private sendEventFire(id: number, served: ServedSubscription, value: unknown): void {
    const link = this.link;
    if (link.closed || served.ended) return;
    // Inline rather than through trySend: events can be many, and this spares a closure for each.
    const streams = link.streams;
    const mark = streams.outletMark;
    try {
      // In order: a subscription's values are a sequence, and a small one must not pass a large one fired before.
      const buffer = link.channel.getWriteBuffer(IN_ORDER);
      buffer.writeUint8(MessageType.EventFire).writeLength(id);
      link.codec.encode(buffer, value, undefined, streams);
      buffer.commit();
      streams.settleOutlets(mark, true);
    } catch (error) {
      streams.settleOutlets(mark, false);
      link.sendFailed(error);
    }
  }

  /** The subscription could not be made, or failed: it ends here, and the other side is told why. */
  private sendEventError(id: number, served: ServedSubscription | undefined, error: unknown): void {
    if (served) {
      if (served.ended) return;
      served.dispose();
      if (this.active.get(id) === served) this.active.delete(id);
    }
    const link = this.link;
    if (link.closed) return;
    link.trySend(() => {
      // After the values fired before it, as an ending must be.
      const buffer = link.channel.getWriteBuffer(IN_ORDER);
      buffer.writeUint8(MessageType.EventError).writeLength(id);
      link.codec.encode(buffer, error instanceof Error ? error : new RpcProtocolError(String(error)));
      buffer.commit();
    });
  }
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as PromiseLike<unknown>).then === 'function'
  );
}
