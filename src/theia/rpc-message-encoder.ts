import { RpcProtocolError } from '../rpc/errors';
import type { ValueCodec } from '../rpc/codec';
import { FLAG_CANCELLABLE, FLAG_SIGNAL_ARGUMENT } from '../rpc/protocol/cancellation';
import { HANDLER_TARGET, MessageType, readArgs, writeArgs } from '../rpc/protocol/wire';
import { defaultCodec } from './codec';
import { EncodingError } from './errors';
import type { ReadBuffer, WriteBuffer } from './message-buffer';
import { RpcMessageType, type RpcMessage } from './rpc-message';
import { toCoreReadBuffer } from './uint8-array-message-buffer';
import { CANCELLATION_TOKEN_KEY, NOTIFICATION_TARGET } from './wire';

export { EncodingError, ResponseError } from './errors';
export * from './rpc-message';

/** Parses one received message into an RpcMessage. */
export interface RpcMessageDecoder {
  parse(buffer: ReadBuffer): RpcMessage;
}

/** Writes RpcMessages into write buffers; the caller commits, so several messages may share a buffer. */
export interface RpcMessageEncoder {
  cancel(buf: WriteBuffer, requestId: number): void;
  notification(buf: WriteBuffer, method: string, args: unknown[], id?: number): void;
  request(buf: WriteBuffer, requestId: number, method: string, args: unknown[]): void;
  replyOK(buf: WriteBuffer, requestId: number, res: unknown): void;
  replyErr(buf: WriteBuffer, requestId: number, err: unknown): void;
}

/**
 * Theia's default encoder, under its name, on fdpipe's codec and wire format instead of msgpackr: what it writes is
 * what fdpipe's RPC core sends, so an RpcProtocol of this face (or fdpipe's own) answers it.
 */
export class MsgPackMessageEncoder implements RpcMessageEncoder {
  constructor(readonly codec: ValueCodec = defaultCodec) {}

  cancel(buf: WriteBuffer, requestId: number): void {
    buf.writeUint8(MessageType.Cancel).writeLength(requestId);
  }

  /** `id` is not sent: fdpipe's notifications carry none. */
  notification(buf: WriteBuffer, method: string, args: unknown[], _id?: number): void {
    buf.writeUint8(MessageType.Notification).writeString(NOTIFICATION_TARGET).writeString(method);
    this.writeArgs(buf, args);
  }

  /** A last argument of RpcProtocol.CANCELLATION_TOKEN_KEY travels as the request's signal flag. */
  request(buf: WriteBuffer, requestId: number, method: string, args: unknown[]): void {
    const cancellable = args.length > 0 && args[args.length - 1] === CANCELLATION_TOKEN_KEY;
    buf
      .writeUint8(MessageType.Request)
      .writeLength(requestId)
      .writeUint8(cancellable ? FLAG_CANCELLABLE | FLAG_SIGNAL_ARGUMENT : 0)
      .writeString(HANDLER_TARGET)
      .writeString(method);
    this.writeArgs(buf, cancellable ? args.slice(0, -1) : args);
  }

  replyOK(buf: WriteBuffer, requestId: number, res: unknown): void {
    this.encode(buf.writeUint8(MessageType.Reply).writeLength(requestId), res);
  }

  replyErr(buf: WriteBuffer, requestId: number, err: unknown): void {
    this.encode(buf.writeUint8(MessageType.ReplyError).writeLength(requestId), err);
  }

  /** Writes one value with fdpipe's codec: no length prefix, the value's own tags say where it ends. */
  encode<T = unknown>(buf: WriteBuffer, value: T): void {
    try {
      this.codec.encode(buf, value);
    } catch (error) {
      throw encodingError(error);
    }
  }

  private writeArgs(buf: WriteBuffer, args: unknown[]): void {
    try {
      writeArgs(this.codec, buf, args);
    } catch (error) {
      throw encodingError(error);
    }
  }
}

/** Theia's default decoder, under its name: reads what MsgPackMessageEncoder and fdpipe's RPC core write. */
export class MsgPackMessageDecoder implements RpcMessageDecoder {
  constructor(readonly codec: ValueCodec = defaultCodec) {}

  /** Reads one value; the type parameter is the caller's word for what it is, as in Theia. */
  decode<T = unknown>(buf: ReadBuffer): T {
    return this.codec.decode(toCoreReadBuffer(buf)) as T;
  }

  /** @throws RpcProtocolError for a message of fdpipe's that Theia's messages cannot express (events, services) */
  parse(buffer: ReadBuffer): RpcMessage {
    const reader = toCoreReadBuffer(buffer);
    const type = reader.readUint8();
    switch (type) {
      case MessageType.Request: {
        const id = reader.readLength();
        const flags = reader.readUint8();
        const target = reader.readString();
        if (target !== HANDLER_TARGET) throw notTheias(`a request to the service '${target}'`);
        const method = reader.readString();
        const args = readArgs(this.codec, reader);
        if (flags & FLAG_SIGNAL_ARGUMENT) args.push(CANCELLATION_TOKEN_KEY);
        return { type: RpcMessageType.Request, id, method, args };
      }
      case MessageType.Notification: {
        const target = reader.readString();
        if (target !== NOTIFICATION_TARGET && target !== HANDLER_TARGET) {
          throw notTheias(`a notification to the service '${target}'`);
        }
        const method = reader.readString();
        return { type: RpcMessageType.Notification, method, args: readArgs(this.codec, reader) };
      }
      case MessageType.Reply:
        return { type: RpcMessageType.Reply, id: reader.readLength(), res: this.codec.decode(reader) };
      case MessageType.ReplyError:
        return { type: RpcMessageType.ReplyErr, id: reader.readLength(), err: this.codec.decode(reader) };
      case MessageType.Cancel:
        return { type: RpcMessageType.Cancel, id: reader.readLength() };
      default:
        throw notTheias(`a message of type ${type}`);
    }
  }
}

function encodingError(error: unknown): unknown {
  return error instanceof Error ? new EncodingError(`Error during encoding: '${error.message}'`, error) : error;
}

function notTheias(what: string): RpcProtocolError {
  return new RpcProtocolError(`Cannot parse ${what}: Theia's RPC messages have no such message`);
}
