// Transports hold what was sent in a tick until the tick ends. A worker that sends its result and calls
// process.exit() at once would lose it: on 'exit', whatever is still held goes out (a socket or port write is
// attempted synchronously, so small messages make it). One listener for the whole process, owned by this module.
const pending = new Set<() => void>();
let hooked = false;

/** `flush` runs at process exit unless flushed() is called for it first. */
export function flushAtExit(flush: () => void): void {
  pending.add(flush);
  if (hooked) return;
  hooked = true;
  process.once('exit', () => {
    const flushes = [...pending];
    pending.clear();
    for (const run of flushes) {
      try {
        run();
      } catch {
        // Exiting: there is nobody left to tell.
      }
    }
  });
}

export function flushed(flush: () => void): void {
  pending.delete(flush);
}
