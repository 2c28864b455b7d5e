/** A stream that can be let go of: Node's sockets and Duplexes. */
interface Destroyable {
  readonly destroyed: boolean;
  destroy(): void;
  once(event: 'close', listener: () => void): unknown;
}

/**
 * Gives a stream that was ended `graceMs` to write what is left, then destroys it: for a peer that does not read,
 * whose end() would otherwise wait forever with the bytes held. The timer goes with the stream's 'close'; nothing
 * to do if the stream is gone already.
 */
export function destroyAfter(stream: Destroyable, graceMs: number): void {
  if (stream.destroyed) return;
  const timer = setTimeout(() => stream.destroy(), graceMs);
  stream.once('close', () => clearTimeout(timer));
}
