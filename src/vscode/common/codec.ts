import { ValueCodec } from '../../rpc/codec';
import type { ValueExtension } from '../../rpc/codec';
import { VSBuffer } from '../base/buffer';

// The face's value codec: fdpipe's, taught the two things VS Code's channels rely on.

/** VSBuffers arrive as VSBuffers (VS Code's serialize keeps them too). */
const vsBufferExtension: ValueExtension<VSBuffer> = {
  tag: 40,
  test: (value): value is VSBuffer => value instanceof VSBuffer,
  encode: (value, buffer) => void buffer.writeBytes(value.buffer),
  decode: (buffer) => VSBuffer.wrap(buffer.readBytes()),
};

interface WithToJSON {
  toJSON(): unknown;
}

/**
 * An object with toJSON() goes as what toJSON() returns, as it would through VS Code's JSON: that is how a URI
 * becomes `{ $mid: 1, ... }`, which revive() turns back. Dates and byte arrays (a Buffer has a toJSON too) keep
 * fdpipe's native encoding.
 */
const toJSONExtension: ValueExtension<WithToJSON> = {
  tag: 41,
  test: (value): value is WithToJSON =>
    typeof value === 'object' &&
    value !== null &&
    !(value instanceof Date) &&
    !ArrayBuffer.isView(value) &&
    typeof (value as Partial<WithToJSON>).toJSON === 'function',
  encode: (value, buffer, context) => context.encode(buffer, value.toJSON()),
  decode: (buffer, context) => context.decode(buffer) as WithToJSON,
};

export function createFaceCodec(): ValueCodec {
  return new ValueCodec({ extensions: [vsBufferExtension, toJSONExtension] });
}
