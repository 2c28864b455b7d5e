/** Last resort for an error nobody listens for: a process warning, never an uncaught exception. */
export function warnUnhandled(error: unknown): void {
  process.emitWarning(
    `fdpipe: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)} ` +
      '(add an onError listener to handle this)',
  );
}
