import type { ReadBuffer } from '../../buffer/ReadBuffer';
import type { WriteBuffer } from '../../buffer/WriteBuffer';
import type { DecodeContext, EncodeContext } from './context';
import { MAX_EXTENSION_TAG } from './tags';

/**
 * A custom type for the codec. The encoder asks `test` of each object (and of functions and symbols, which it
 * cannot encode by itself) before its own handling, extensions in the order registered, so an extension can also
 * take over a built-in type such as a particular Error subclass. Primitives never reach `test`.
 *
 * `encode` writes the value's fields straight into the buffer; nested values go through `context.encode`, which
 * keeps counting depth and reporting paths. `decode` reads exactly what `encode` wrote, nested values through
 * `context.decode`. Both sides must register the same extension under the same tag.
 */
export interface ValueExtension<T = unknown> {
  /** 0..63; its own namespace: it cannot clash with the codec's built-in tags. */
  tag: number;
  test(value: unknown): value is T;
  encode(value: T, buffer: WriteBuffer, context: EncodeContext): void;
  decode(buffer: ReadBuffer, context: DecodeContext): T;
}

/** Throws unless `ext` can be registered next to the extensions at `byTag`. */
export function checkExtension(ext: ValueExtension, byTag: ReadonlyArray<ValueExtension | undefined>): void {
  if (!ext || typeof ext.test !== 'function' || typeof ext.encode !== 'function' || typeof ext.decode !== 'function') {
    throw new TypeError('A value extension needs test, encode and decode functions');
  }
  if (!Number.isInteger(ext.tag) || ext.tag < 0 || ext.tag > MAX_EXTENSION_TAG) {
    throw new RangeError(
      `A value extension's tag must be a whole number from 0 to ${MAX_EXTENSION_TAG}, got ${ext.tag}`,
    );
  }
  if (byTag[ext.tag]) {
    throw new RangeError(`Extension tag ${ext.tag} is already registered on this codec`);
  }
}
