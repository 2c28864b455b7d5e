/**
 * Whether `value` travels as a stream: anything with an async iterator — async generators, Node Readables, web
 * ReadableStreams and hand-written AsyncIterables. Checked on objects only; its own-property fallback would
 * otherwise send a generator as `{}` and a Readable as its internals.
 */
export function isStreamSource(value: unknown): value is AsyncIterable<unknown> {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { [Symbol.asyncIterator]?: unknown })[Symbol.asyncIterator] === 'function'
  );
}
