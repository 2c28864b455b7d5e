import { VSBuffer } from '../base/buffer';
import { BufferReader, BufferWriter, deserialize, serialize } from './serialization';

// An IPCClient introduces itself with its context, in the first message, serialized as VS Code does. fdpipe puts
// one byte before it, a value no RPC message starts with, so the context can be told from the RPC traffic that
// follows: an IPCServer takes it out of its connection, and an IPCClient whose other side is another IPCClient
// (peer to peer) drops the peer's.
export const CONTEXT_MARK = 0xc7;

export function contextMessage(ctx: unknown): VSBuffer {
  const writer = new BufferWriter();
  try {
    writer.write(VSBuffer.fromByteArray([CONTEXT_MARK]));
    serialize(writer, ctx);
    return writer.buffer;
  } finally {
    writer.dispose();
  }
}

export function isContextMessage(message: VSBuffer): boolean {
  return message.byteLength > 0 && message.readUInt8(0) === CONTEXT_MARK;
}

/** @throws DeserializeError when the context cannot be read. */
export function readContext(message: VSBuffer): unknown {
  return deserialize(new BufferReader(message.slice(1)));
}
