import type { Channel } from '../../channel/Channel';
import type { ReadBuffer } from '../../buffer/ReadBuffer';
import { Uint8ArrayReadBuffer } from '../../buffer/Uint8ArrayReadBuffer';
import { DEFAULT_MAX_DEPTH, type ValueCodec } from '../codec';
import { skipPlainValue } from '../codec/plainValue';

// Before any RPC message, a client sends HELLO and the server answers WELCOME or REJECT; these three are plain
// channel messages, outside the RPC message types. The token comes before the context, so a server can refuse a
// stranger before decoding anything it sent.
//   HELLO:   uint8 0xf0, string protocol ('fdpipe/3'), string token ('' for none), value context (plain values only:
//            it is read before the client is welcomed; see skipPlainValue)
//   WELCOME: uint8 0xf1
//   REJECT:  uint8 0xf2, string reason
export const HELLO = 0xf0;
export const WELCOME = 0xf1;
export const REJECT = 0xf2;
const PROTOCOL = 'fdpipe/3';

/** A server reads at most this much from a client before it has been welcomed. */
export const HELLO_LIMIT = 64 * 1024;

/** The connection handshake failed: a missing or wrong token, a client that is not fdpipe, or no hello in time. */
export class HandshakeError extends Error {
  override name = 'HandshakeError';
}

export function sendHello(channel: Channel, codec: ValueCodec, ctx: unknown, token: string): void {
  const buffer = channel.getWriteBuffer().writeUint8(HELLO).writeString(PROTOCOL).writeString(token);
  codec.encode(buffer, ctx);
  buffer.commit();
}

/**
 * Reads a hello up to its token; `readContext` then decodes the rest, once it has checked that the context holds
 * only plain values: a client not welcomed yet cannot make this side build Maps, Sets or anything else rich.
 */
export function readHello(reader: ReadBuffer, codec: ValueCodec): { token: string; readContext(): unknown } {
  const fail = (why: string) => new HandshakeError(`The client's hello was not understood: ${why}`);
  let token: string;
  try {
    if (reader.readUint8() !== HELLO) throw fail('the first message is not a hello');
    const protocol = reader.readString();
    if (protocol !== PROTOCOL) throw fail(`it speaks '${protocol}', not '${PROTOCOL}'`);
    token = reader.readString();
  } catch (error) {
    throw error instanceof HandshakeError ? error : fail((error as Error).message);
  }
  return {
    token,
    readContext() {
      try {
        const bytes = reader.sliceAtReadPosition();
        skipPlainValue(new Uint8ArrayReadBuffer(bytes), DEFAULT_MAX_DEPTH);
        return codec.decode(new Uint8ArrayReadBuffer(bytes));
      } catch (error) {
        throw fail(`its context, read before the client is welcomed, was refused: ${(error as Error).message}`);
      }
    },
  };
}

export function sendWelcome(channel: Channel): void {
  channel.getWriteBuffer().writeUint8(WELCOME).commit();
}

export function sendReject(channel: Channel, reason: string): void {
  channel.getWriteBuffer().writeUint8(REJECT).writeString(reason).commit();
}
