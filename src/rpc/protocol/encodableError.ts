import { Uint8ArrayWriteBuffer } from '../../buffer/Uint8ArrayWriteBuffer';
import type { ValueCodec } from '../codec';

/** Whether `codec` can encode `value`. */
function encodes(codec: ValueCodec, value: unknown): boolean {
  try {
    codec.encode(new Uint8ArrayWriteBuffer(), value);
    return true;
  } catch {
    return false;
  }
}

/**
 * A copy of `error`, of its class, with only the own properties `codec` can encode, and its name, message and
 * stack as plain values. The codec sends an Error with every property it has, so one holding something that cannot
 * cross (a function, a cycle, the request an HTTP client's error keeps) would otherwise reach the caller as the
 * codec's EncodeError, and the error's own message would be lost.
 */
export function encodableCopy(codec: ValueCodec, error: Error): Error {
  const copy = Object.create(Object.getPrototypeOf(error) as object) as Error;
  for (const key of Object.getOwnPropertyNames(error)) {
    const property = Object.getOwnPropertyDescriptor(error, key);
    if (property && 'value' in property && encodes(codec, property.value)) Object.defineProperty(copy, key, property);
  }
  // A name, message or stack a getter gave (or the prototype, for the name) is read, and kept as a plain value.
  if (copy.name !== error.name) definePlain(copy, 'name', error.name);
  if (!Object.hasOwn(copy, 'message')) definePlain(copy, 'message', error.message);
  if (!Object.hasOwn(copy, 'stack')) definePlain(copy, 'stack', error.stack ?? `${error.name}: ${error.message}`);
  return copy;
}

/** Defines an own data property, not enumerable, as an error's name, message and stack are. */
function definePlain(target: object, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, writable: true, configurable: true, enumerable: false });
}
