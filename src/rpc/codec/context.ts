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

/**
 * What the codec needs from the RPC connection a message travels on to carry streams: a stream value is sent as a
 * connection-local id, its items in messages of their own. Passed to encode()/decode() of a message; nested
 * values (also those an extension encodes through its context) see the same scope.
 */
export interface StreamScope {
  /** Takes `source` on as a stream this side produces; returns the id the other side will know it by. */
  sendStream(source: AsyncIterable<unknown>): number;
  /** The local stand-in for the other side's stream `id`: an AsyncIterable fed by its stream messages. */
  receiveStream(id: number): unknown;
}
