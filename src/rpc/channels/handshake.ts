import type { Channel } from '../../channel/Channel';
import type { ReadBuffer } from '../../buffer/ReadBuffer';
import type { ValueCodec } from '../codec';

// Before any RPC message, a client sends HELLO and the server answers WELCOME or REJECT; these three are plain
// channel messages, outside the RPC message types (1-9).
//   HELLO:   uint8 0xf0, string protocol ('fdpipe/1'), value context, string token ('' for none)
//   WELCOME: uint8 0xf1
//   REJECT:  uint8 0xf2, string reason
export const HELLO = 0xf0;
export const WELCOME = 0xf1;
export const REJECT = 0xf2;
const PROTOCOL = 'fdpipe/1';

/** The connection handshake failed: a missing or wrong token, a client that is not fdpipe, or no hello in time. */
export class HandshakeError extends Error {
  override name = 'HandshakeError';
}

export function sendHello(channel: Channel, codec: ValueCodec, ctx: unknown, token: string): void {
  const buffer = channel.getWriteBuffer().writeUint8(HELLO).writeString(PROTOCOL);
  codec.encode(buffer, ctx);
  buffer.writeString(token).commit();
}

export function readHello(reader: ReadBuffer, codec: ValueCodec): { ctx: unknown; token: string } {
  try {
    if (reader.readUint8() !== HELLO) throw new Error('the first message is not a hello');
    const protocol = reader.readString();
    if (protocol !== PROTOCOL) throw new Error(`it speaks '${protocol}', not '${PROTOCOL}'`);
    const ctx = codec.decode(reader);
    const token = reader.readString();
    return { ctx, token };
  } catch (error) {
    throw new HandshakeError(`The client's hello was not understood: ${(error as Error).message}`);
  }
}

export function sendWelcome(channel: Channel): void {
  channel.getWriteBuffer().writeUint8(WELCOME).commit();
}

export function sendReject(channel: Channel, reason: string): void {
  channel.getWriteBuffer().writeUint8(REJECT).writeString(reason).commit();
}
