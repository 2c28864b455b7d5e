import type { Emitter } from './event';

/** Last resort for an error nobody listens for: a process warning, never an uncaught exception. */
export function warnUnhandled(error: unknown): void {
  process.emitWarning(
    `fdpipe: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)} ` +
      '(add an onError listener to handle this)',
  );
}

/** Hands `error` to whoever listens on `emitter`, or, with nobody listening, turns it into a process warning. */
export function reportTo(emitter: Emitter<Error>, error: Error): void {
  if (emitter.hasListeners) emitter.fire(error);
  else warnUnhandled(error);
}
