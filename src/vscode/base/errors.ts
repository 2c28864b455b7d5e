import { warnUnhandled } from '../../common/warn';

/** A cancelled operation, as VS Code reports it: name and message are both `Canceled`. */
export class CancellationError extends Error {
  constructor() {
    super(CANCELED);
    this.name = CANCELED;
  }
}

const CANCELED = 'Canceled';

/** VS Code's shorthand for a new CancellationError. */
export function canceled(): Error {
  return new CancellationError();
}

/** True for a CancellationError, and for one that crossed a process boundary as a plain Error of that name. */
export function isCancellationError(error: unknown): boolean {
  if (error instanceof CancellationError) return true;
  return error instanceof Error && error.name === CANCELED && error.message === CANCELED;
}

/** An error users should see but that is not a bug to report (VS Code keeps it out of telemetry). */
export class ErrorNoTelemetry extends Error {
  override readonly name: string = 'CodeExpectedError';
}

/**
 * Where errors nobody can handle go (a listener that threw): a process warning, never an uncaught exception.
 * Cancellations are expected and dropped, as in VS Code.
 */
export function onUnexpectedError(error: unknown): void {
  if (isCancellationError(error)) return;
  warnUnhandled(error);
}

/**
 * Hands `error` to the listeners of `emitter`'s event, or with none, makes it a process warning: errors nobody
 * asked to hear are still seen, and never thrown.
 */
export function reportError(emitter: { hasListeners(): boolean; fire(error: Error): void }, error: Error): void {
  if (emitter.hasListeners()) emitter.fire(error);
  else warnUnhandled(error);
}
