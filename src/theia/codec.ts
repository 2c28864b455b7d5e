import { ValueCodec, type ValueExtension } from '../rpc/codec';
import { ResponseError } from './errors';

/**
 * Keeps ResponseError's class, code and data across the connection (fdpipe's codec would otherwise rebuild it as
 * an Error named ResponseError): Theia's proxies recognise it by instanceof. Extension tag 1, as Theia's own
 * error extension; add it to a codec of your own that serves this face.
 */
export const responseErrorExtension: ValueExtension<ResponseError> = {
  tag: 1,
  test: (value): value is ResponseError => value instanceof ResponseError,
  encode(error, buffer, nested) {
    buffer.writeNumber(error.code).writeString(error.message);
    nested.encode(buffer, error.data);
    nested.encode(buffer, error.stack);
  },
  decode(buffer, nested) {
    const code = buffer.readNumber();
    const message = buffer.readString();
    const error = new ResponseError(code, message, nested.decode(buffer));
    const stack = nested.decode(buffer);
    if (typeof stack === 'string') error.stack = stack;
    return error;
  },
};

/** The codec this face encodes values with unless given another. */
export const defaultCodec = new ValueCodec({ extensions: [responseErrorExtension] });
