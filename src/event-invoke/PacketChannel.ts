import { randomBytes } from 'crypto';
import { Uint8ArrayReadBuffer } from '../buffer/Uint8ArrayReadBuffer';
import { Uint8ArrayWriteBuffer } from '../buffer/Uint8ArrayWriteBuffer';
import type { ReadBuffer } from '../buffer/ReadBuffer';
import type { WriteBuffer } from '../buffer/WriteBuffer';
import { AbstractChannel } from '../channel/AbstractChannel';
import type { EndpointListener } from '../channel/MessageEndpointChannel';
import { toDisposable, type Disposable } from '../common/lifecycle';
import type { StreamScope, ValueCodec } from '../rpc/codec';
import { ConnectionClosedError, RpcProtocolError } from '../rpc/errors';
import { FLAG_CANCELLABLE } from '../rpc/protocol/cancellation';
import { HANDLER_TARGET, MessageType, readArgs, writeArgs } from '../rpc/protocol/wire';
import { spreadArguments } from './arguments';
import { SentCalls, ServedCalls, type ServedCall } from './calls';
import { isCustomChannel, isPeerGone, packetSender, type PacketEndpoint } from './endpoints';
import { payloadFailure, unregisteredFunctionError } from './errors';
import {
  cancelPacket,
  failurePacket,
  malformedPacket,
  readPacket,
  replyPacket,
  requestPacket,
  STATUS_FAIL,
  STATUS_OK,
  type IncomingPacket,
} from './packets';

const ENDPOINT_GONE = Symbol('endpoint gone');

/** The core's messages are read here to become packets, which have no way to carry a stream: it is refused. */
const NO_STREAMS: StreamScope = {
  sendStream() {
    throw new RpcProtocolError('event-invoke packets cannot carry streams');
  },
  receiveStream() {
    throw new RpcProtocolError(
      'event-invoke packets cannot carry streams: pass streams over an fdpipe channel (fd 4, new IPCChannel()) instead',
    );
  },
};

/**
 * The RPC core over an event-invoke endpoint. This is a Channel like any other to the RpcProtocol above it; at its
 * edge it translates: the core's requests, replies and cancels become event-invoke packets, and packets become the
 * core's messages. So calls, timeouts, cancellation and errors stay the core's, and the other side may be an
 * event-invoke process. Only the low-level face's messages have packets; any other is refused.
 *
 * The core's ids are its own: calls going out get a `_seq`, and calls coming in get a core id here, their `_seq`
 * and name kept to be echoed in the reply.
 */
export class PacketChannel extends AbstractChannel {
  /** A Callee serves here. Requests are ignored otherwise, as by an event-invoke side that only invokes. */
  serving = false;
  /** Who this side is, in fdpipe's extras: replies to another fdpipe invoker on a shared bus are not ours. */
  private readonly origin = randomBytes(9).toString('base64');
  private readonly sent = new SentCalls();
  private readonly served = new ServedCalls();
  /** Set while this side is inside its own send; see arrive(). */
  private sending = false;
  /** Events that came in while sending, and those after them, until the microtask that handles them. */
  private inbox: unknown[] | undefined;
  private readonly send: (packet: object) => void;
  private readonly detach: Disposable;

  constructor(
    endpoint: PacketEndpoint,
    private readonly codec: ValueCodec,
  ) {
    super();
    this.send = packetSender(endpoint, (error) => this.sendFailed(error));
    const onMessage: EndpointListener = (message) => this.arrive(message);
    const onGone: EndpointListener = () => this.arrive(ENDPOINT_GONE);
    const lifecycle = isCustomChannel(endpoint) ? [] : (['disconnect', 'exit', 'close'] as const);
    endpoint.on('message', onMessage);
    for (const event of lifecycle) endpoint.on(event, onGone);
    this.detach = this.register(
      toDisposable(() => {
        endpoint.removeListener('message', onMessage);
        for (const event of lifecycle) endpoint.removeListener(event, onGone);
      }),
    );
  }

  getWriteBuffer(): WriteBuffer {
    return this.messageBuffer(this.translateOutgoing);
  }

  protected doClose(): void {
    this.detach.dispose();
    this.forgetAll();
  }

  // ---- the core's messages, going out as packets ---------------------------------------------------------------

  private readonly translateOutgoing = (bytes: Uint8Array): void => {
    const reader = new Uint8ArrayReadBuffer(bytes);
    const type = reader.readUint8();
    switch (type) {
      case MessageType.Request:
        return this.sendRequest(reader);
      case MessageType.Reply:
        return this.sendReply(reader, false);
      case MessageType.ReplyError:
        return this.sendReply(reader, true);
      case MessageType.Cancel:
        return this.sendCancel(reader.readLength());
      case MessageType.Goodbye:
        return this.sendGoodbye();
      case MessageType.Hello:
        return; // a protocol restarting on this channel: event-invoke has no such thing to be told
      default:
        throw new RpcProtocolError(
          `event-invoke packets carry calls and their outcomes only; RPC message type ${type} has no packet`,
        );
    }
  };

  private sendRequest(reader: ReadBuffer): void {
    const id = reader.readLength();
    const cancellable = (reader.readUint8() & FLAG_CANCELLABLE) !== 0;
    const target = reader.readString();
    const name = reader.readString();
    if (target !== HANDLER_TARGET) {
      throw new RpcProtocolError(`event-invoke packets call registered functions, not the service '${target}'`);
    }
    const args = readArgs(this.codec, reader, NO_STREAMS);
    // Kept before the send: a channel that delivers at once must find the call.
    const seq = this.sent.add({ id, name, cancellable });
    try {
      this.post(requestPacket(seq, name, args, this.origin, cancellable));
    } catch (error) {
      this.sent.delete(seq);
      throw error;
    }
  }

  private sendReply(reader: ReadBuffer, isError: boolean): void {
    const id = reader.readLength();
    const call = this.served.get(id);
    if (!call) return; // cancelled meanwhile: the core would not have answered it
    const encoded = reader.sliceAtReadPosition();
    const value = this.codec.decode(new Uint8ArrayReadBuffer(encoded), NO_STREAMS);
    // Forgotten only once sent: when the send throws (a value Node cannot serialize), the core answers the same
    // call again with the reason.
    this.post(
      isError
        ? failurePacket(call.seq, call.name, call.from, value, encoded)
        : replyPacket(call.seq, call.name, STATUS_OK, value, call.from),
    );
    this.served.delete(id);
  }

  private sendCancel(id: number): void {
    const seq = this.sent.seqOf(id);
    if (seq === undefined) return;
    const call = this.sent.get(seq);
    this.sent.delete(seq);
    if (call?.cancellable) this.post(cancelPacket(seq, this.origin));
  }

  /**
   * The core stopped on this side. Its Goodbye has no packet; what it means does: the calls this side still waits
   * for are cancelled, and the calls it still serves are answered as failed, so no invoker waits for a reply
   * that will not come.
   */
  private sendGoodbye(): void {
    this.sent.drain((seq, call) => {
      if (call.cancellable) this.postQuietly(cancelPacket(seq, this.origin));
    });
    this.served.drain((call) => {
      const reason = new ConnectionClosedError(
        { kind: 'local', reason: 'the Callee stopped serving' },
        `The call to ${String(call.name)}`,
      );
      this.postQuietly(failurePacket(call.seq, call.name, call.from, reason, this.encode(reason)));
    });
  }

  private post(packet: object): void {
    this.sending = true;
    try {
      this.send(packet);
    } finally {
      this.sending = false;
    }
  }

  /** For sends that must not throw, several in a row: each failure is reported and the rest still go. */
  private postQuietly(packet: object): void {
    try {
      this.post(packet);
    } catch (error) {
      this.sendFailed(error);
    }
  }

  // ---- packets, coming in as the core's messages ---------------------------------------------------------------

  /**
   * An endpoint event, handled as it comes — unless it comes from inside our own send, as a custom channel may
   * deliver at once (an Invoker and a Callee sharing one BaseInvokerChannel): the core must finish setting a call
   * up before its reply comes in. Such an event, and every one after it until then, waits for a microtask, in
   * order, so a close stays behind the messages before it.
   */
  private arrive(item: unknown): void {
    if (!this.sending && this.inbox === undefined) {
      this.handle(item);
      return;
    }
    if (this.inbox === undefined) {
      this.inbox = [];
      queueMicrotask(this.drain);
    }
    this.inbox.push(item);
  }

  private readonly drain = (): void => {
    const inbox = this.inbox ?? [];
    // What arrives meanwhile joins this same queue, behind what waits already.
    for (let i = 0; i < inbox.length; i++) this.handle(inbox[i]);
    this.inbox = undefined;
  };

  private handle(item: unknown): void {
    if (this.isClosed) return;
    if (item === ENDPOINT_GONE) this.endpointGone();
    else this.receive(item);
  }

  /** Runs in an endpoint's listener: whatever goes wrong is reported, never thrown into the endpoint. */
  private receive(message: unknown): void {
    try {
      const packet = readPacket(message);
      if (!packet) return;
      switch (packet.kind) {
        case 'request':
          return this.receiveRequest(packet);
        case 'reply':
          return this.receiveReply(packet);
        case 'cancel':
          return this.receiveCancel(packet.seq, packet.from);
      }
    } catch (error) {
      this.fireError(
        error instanceof RpcProtocolError
          ? error
          : new RpcProtocolError(`Dropped an event-invoke packet that could not be handled: ${describeError(error)}`),
      );
    }
  }

  private receiveRequest(packet: Extract<IncomingPacket, { kind: 'request' }>): void {
    if (!this.serving) return;
    const { id, call } = this.served.add(packet.seq, packet.name, packet.from, packet.cancellable);
    const name = packet.name;
    if (typeof name !== 'string') {
      // No function can be registered under anything but a string: answered as event-invoke answers it.
      this.answerFailure(id, call, unregisteredFunctionError(name));
      return;
    }
    let message: Uint8Array;
    try {
      message = this.build((buffer) => {
        buffer
          .writeUint8(MessageType.Request)
          .writeLength(id)
          .writeUint8(call.cancelKey !== undefined ? FLAG_CANCELLABLE : 0)
          .writeString(HANDLER_TARGET)
          .writeString(name);
        writeArgs(this.codec, buffer, spreadArguments(packet.args));
      });
    } catch (error) {
      // Arguments the core cannot carry (a cycle, from 'advanced' serialization): the caller learns why.
      this.answerFailure(id, call, error);
      return;
    }
    this.fireMessage(message);
  }

  private receiveReply(packet: Extract<IncomingPacket, { kind: 'reply' }>): void {
    if (typeof packet.seq !== 'number') return;
    const call = this.sent.get(packet.seq);
    // Not a call of ours: another invoker's on a shared bus, or one that settled already (timeout, abort).
    if (!call || call.name !== packet.name) return;
    if (packet.to !== undefined && packet.to !== this.origin) return;
    const status = packet.status;
    this.sent.delete(packet.seq);
    if (typeof status !== 'number') {
      // Still the outcome of our call (event-invoke's Invoker rejects it): the caller must not wait forever.
      const error = malformedPacket(`the reply to "${call.name}" has a _status of ${typeof status}`);
      this.fireMessage(this.replyError(call.id, this.encode(error)));
      throw error;
    }
    if (status < STATUS_FAIL) {
      let message: Uint8Array;
      try {
        message = this.build((buffer) => {
          this.codec.encode(buffer.writeUint8(MessageType.Reply).writeLength(call.id), packet.payload);
        });
      } catch (error) {
        message = this.replyError(call.id, this.encode(error));
      }
      this.fireMessage(message);
    } else if (packet.error !== undefined) {
      // An fdpipe callee sent the rejection in the core's own encoding: it arrives whole.
      this.fireMessage(this.replyError(call.id, Buffer.from(packet.error, 'base64')));
    } else {
      this.fireMessage(this.replyError(call.id, this.encode(payloadFailure(status, packet.payload))));
    }
  }

  private receiveCancel(seq: number, from: string): void {
    if (!this.serving) return;
    const id = this.served.idToCancel(from, seq);
    if (id === undefined) return;
    this.served.delete(id);
    this.fireMessage(this.build((buffer) => buffer.writeUint8(MessageType.Cancel).writeLength(id)));
  }

  private endpointGone(): void {
    if (this.isClosed) return;
    this.detach.dispose();
    this.forgetAll();
    this.fireClose({ kind: 'remote', reason: 'the other side went away' });
  }

  /** Answers a served call here, without the core: it never reached the core. */
  private answerFailure(id: number, call: ServedCall, reason: unknown): void {
    this.served.delete(id);
    this.postQuietly(failurePacket(call.seq, call.name, call.from, reason, this.encode(reason)));
  }

  private forgetAll(): void {
    this.sent.clear();
    this.served.clear();
  }

  private sendFailed(error: unknown): void {
    if (this.isClosed || isPeerGone(error)) return;
    this.fireError(error instanceof Error ? error : new RpcProtocolError(String(error)));
  }

  // ---- the core's messages, built here -------------------------------------------------------------------------

  private build(write: (buffer: WriteBuffer) => void): Uint8Array {
    const buffer = new Uint8ArrayWriteBuffer();
    write(buffer);
    return buffer.getCurrentContents();
  }

  private encode(value: unknown): Uint8Array {
    return this.build((buffer) => this.codec.encode(buffer, value));
  }

  private replyError(id: number, encodedValue: Uint8Array): Uint8Array {
    return this.build((buffer) => buffer.writeUint8(MessageType.ReplyError).writeLength(id).writeRaw(encodedValue));
  }
}

function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
