import type { Emitter } from './event';

/** Last resort for an error nobody listens for: a process warning, never an uncaught exception. */
export function warnUnhandled(error: unknown): void {
  process.emitWarning(
    `fdpipe: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)} ` +
      '(add an onError listener to handle this)',
  );
}

/**
 * reportTo for errors that strangers can cause at will (a refused handshake): listeners hear each one, but with
 * nobody listening only the first of each `kind` becomes a warning, so a stranger cannot fill stderr.
 */
export function reportRepeatable(emitter: Emitter<Error>, error: Error, kind: string, warned: Set<string>): void {
  if (emitter.hasListeners) {
    emitter.fire(error);
    return;
  }
  if (warned.has(kind)) return;
  warned.add(kind);
  process.emitWarning(
    `fdpipe: ${error.name}: ${error.message} (further ones like it are not warned about: add an onError listener ` +
      'to hear each one)',
  );
}

/** Hands `error` to whoever listens on `emitter`, or, with nobody listening, turns it into a process warning. */
export function reportTo(emitter: Emitter<Error>, error: Error): void {
  if (emitter.hasListeners) emitter.fire(error);
  else warnUnhandled(error);
}
