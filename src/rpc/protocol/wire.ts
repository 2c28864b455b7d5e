import type { ReadBuffer } from '../../buffer/ReadBuffer';
import type { WriteBuffer } from '../../buffer/WriteBuffer';
import { DecodeError, EncodeError, type StreamScope, type ValueCodec } from '../codec';

// The wire format is part of the API (PROTOCOL.md, "RPC messages"), and the event-invoke face's PacketChannel
// translates these messages to and from event-invoke's packets: a change here needs one there.
//
// Every RPC message is one channel message: a uint8 type, then the fields listed here. Targets name a service;
// ids are varints, unique among the requests and subscriptions a side has open; args are a varint count followed
// by that many codec values. Request flags are in cancellation.ts.
export const enum MessageType {
  /** varint id, uint8 flags, string target, string method, args */
  Request = 1,
  /** varint id, value */
  Reply = 2,
  /** varint id, value (the error or the rejection value) */
  ReplyError = 3,
  /** string target, string method, args */
  Notification = 4,
  /** varint id */
  Cancel = 5,
  /** varint subscription id, string target, string event, args */
  Subscribe = 6,
  /** varint subscription id */
  Unsubscribe = 7,
  /** varint subscription id, value */
  EventFire = 8,
  /** varint subscription id, value (why the subscription could not be made or ended) */
  EventError = 9,
  /** nothing: the sender disposed its protocol; the receiver rejects its pending calls and stops too */
  Goodbye = 10,
  /** nothing: a new protocol started on a channel that had one before; the receiver may call it again */
  Hello = 11,
  // Streams (streams/README in the wire docs): ids are the producer's, so Data, End and Error go to the receiver's
  // incoming streams and Credit and Cancel to its outgoing ones.
  /** consumer → producer: varint stream id, varint items, varint bytes: that much more may be sent */
  StreamCredit = 12,
  /**
   * producer → consumer: varint stream id, varint seq, varint item count, varint bytes (the producer's count), the
   * items. seq numbers a stream's Data, End and Error messages from 0: a transport may let a small message pass a
   * large one, and the consumer puts them back in order.
   */
  StreamData = 13,
  /** producer → consumer: varint stream id, varint seq: no more items */
  StreamEnd = 14,
  /** producer → consumer: varint stream id, varint seq, value (why the stream failed) */
  StreamError = 15,
  /** consumer → producer: varint stream id: stop, nothing more is wanted */
  StreamCancel = 16,
  /**
   * varint maxMessageSize: the largest message the sender accepts. Sent first, by a protocol whose channel has such
   * a limit (a pipe's); the receiver sends nothing larger, so a reply over it fails alone instead of closing the
   * connection.
   */
  Limits = 17,
}

/**
 * For messages that keep their order behind the large ones sent before them (PROTOCOL.md, "Fragments"): events,
 * notifications, and endings the other side may not have heard the beginning of yet.
 */
export { IN_ORDER } from '../../channel/Channel';

/**
 * The target of RpcProtocol's low-level face (sendRequest, sendNotification, setRequestHandler): a name no typed
 * service can take, since a service needs one.
 */
export const HANDLER_TARGET = '';

/** `service.method`, or the method alone for the low-level handler: for messages. */
export function labelOf(target: string, method: string): string {
  return target === HANDLER_TARGET ? method : `${target}.${method}`;
}

/** What serves `target`, for messages: `service 'x'`, or the request handler. */
export function describeTarget(target: string): string {
  return target === HANDLER_TARGET ? 'request handler' : `service named '${target}'`;
}

/** `target` and `method`, when given, name the call in an EncodeError. */
export function writeArgs(
  codec: ValueCodec,
  buffer: WriteBuffer,
  args: readonly unknown[],
  scope?: StreamScope,
  target?: string,
  method?: string,
): void {
  buffer.writeLength(args.length);
  let i = 0;
  try {
    for (; i < args.length; i++) codec.encode(buffer, args[i], undefined, scope);
  } catch (error) {
    // Name the argument and the call only when something failed: building them for every call would cost.
    if (!(error instanceof EncodeError)) throw error;
    const named = error.withRoot(`args[${i}]`);
    throw method === undefined ? named : named.withCall(labelOf(target ?? HANDLER_TARGET, method));
  }
}

export function readArgs(codec: ValueCodec, reader: ReadBuffer, scope?: StreamScope): unknown[] {
  const count = reader.readLength();
  if (count > reader.remaining) {
    throw new DecodeError(`The message claims ${count} arguments but has only ${reader.remaining} bytes left`);
  }
  const args = new Array<unknown>(count);
  for (let i = 0; i < count; i++) args[i] = codec.decode(reader, scope);
  return args;
}
