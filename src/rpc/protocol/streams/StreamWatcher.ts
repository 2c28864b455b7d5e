/**
 * Told of the life of a call's streams, for whoever must know when the work they stand for is over (a worker
 * pool keeps a task's worker until then). A stream in the reply counts from its arrival; a stream in the arguments
 * from when the other side starts reading it (one never read is no work of the other side's). Each stream that
 * `opened` is `ended` once: read to its end, failed, cancelled by either side, or cut with the connection.
 */
export interface StreamWatcher {
  opened(): void;
  /**
   * @param failure what the stream ended with, if it did not end well: its producer threw, its call was aborted,
   *   the connection was cut. A consumer that stops reading early ends it well.
   */
  ended(failure?: { readonly error: unknown }): void;
}
