import type { ValueCodec } from '../rpc/codec';
import { definePlain, encodableCopy, encodes } from '../rpc/protocol/encodableError';
import { ResponseError } from './errors';

/**
 * What a request handler's failure is sent as. fdpipe's codec sends an Error with every property it has, so one
 * holding something that cannot cross (a function, a cycle, the request an HTTP client's error keeps) would reach
 * the caller as the codec's EncodeError, and the handler's own message would be lost. Theia sends an Error's
 * name, message, stack, code and data whatever else it holds; such an error goes as a copy of its class with the
 * properties that can cross. Everything else goes as it is.
 */
export function sendableError(codec: ValueCodec, error: unknown): unknown {
  if (!(error instanceof Error) || encodes(codec, error)) return error;
  const copy = encodableCopy(codec, error);
  if (copy instanceof ResponseError && !Object.hasOwn(copy, 'data')) definePlain(copy, 'data', undefined, true);
  return copy;
}
