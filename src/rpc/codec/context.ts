import type { ReadBuffer } from '../../buffer/ReadBuffer';
import type { WriteBuffer } from '../../buffer/WriteBuffer';

/**
 * What an extension's `encode` gets for the values nested inside its own: `encode(buffer, value)` writes one at the
 * extension value's depth, so the depth limit and cycle detection see through the extension, and a failure in it
 * is reported with its whole path. Valid only while that `encode` runs.
 *
 * Calling the codec's own `encode` instead starts a separate value, as if at the root of another message.
 */
export interface EncodeContext {
  encode(buffer: WriteBuffer, value: unknown): void;
}

/** What an extension's `decode` gets: `decode(buffer)` reads one nested value, counting depth on. */
export interface DecodeContext {
  decode(buffer: ReadBuffer): unknown;
}
