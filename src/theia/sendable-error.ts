import { Uint8ArrayWriteBuffer } from '../buffer/Uint8ArrayWriteBuffer';
import type { ValueCodec } from '../rpc/codec';
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
  const copy = Object.create(Object.getPrototypeOf(error) as object) as Error;
  for (const key of Object.getOwnPropertyNames(error)) {
    const property = Object.getOwnPropertyDescriptor(error, key);
    if (property && 'value' in property && encodes(codec, property.value)) Object.defineProperty(copy, key, property);
  }
  if (copy instanceof ResponseError && !Object.hasOwn(copy, 'data')) define(copy, 'data', undefined);
  // A name, message or stack a getter gave (or the prototype, for the name) is read, and kept as a plain value.
  if (copy.name !== error.name) define(copy, 'name', error.name);
  if (!Object.hasOwn(copy, 'message')) define(copy, 'message', error.message);
  if (!Object.hasOwn(copy, 'stack')) define(copy, 'stack', error.stack ?? `${error.name}: ${error.message}`);
  return copy;
}

function define(target: object, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, writable: true, configurable: true, enumerable: key === 'data' });
}

function encodes(codec: ValueCodec, value: unknown): boolean {
  try {
    codec.encode(new Uint8ArrayWriteBuffer(), value);
    return true;
  } catch {
    return false;
  }
}
