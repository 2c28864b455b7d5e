import type { Readable } from 'stream';
import type { RemoteStream } from './protocol/streams/RemoteStream';

// How streams look from the other side of a connection, in one place for every face's types: whatever a service
// produces a stream with (an async generator, an AsyncIterable, a Node Readable, a web ReadableStream), the caller
// reads a RemoteStream of its items.

/** The item type of a stream source; a Readable's chunks are `unknown` (Buffers, strings, or objects in objectMode). */
export type StreamItem<S> = S extends Readable ? unknown : S extends AsyncIterable<infer T> ? T : never;

/** A method's result as the caller receives it: a stream source becomes a RemoteStream, anything else stays. */
export type RemoteResult<R> = [Awaited<R>] extends [AsyncIterable<unknown>]
  ? RemoteStream<StreamItem<Awaited<R>>>
  : Awaited<R>;

/**
 * A call whose result is a stream: a promise of the RemoteStream that can also be read at once, without awaiting
 * the call first — `for await (const item of remote.items())`.
 */
export interface StreamingCall<T> extends Promise<RemoteStream<T>>, AsyncIterable<T> {}

/** What calling a method that returns R gives the caller. */
export type RemoteCall<R> = [Awaited<R>] extends [AsyncIterable<unknown>]
  ? StreamingCall<StreamItem<Awaited<R>>>
  : Promise<Awaited<R>>;
