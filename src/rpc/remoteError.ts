import { KNOWN_ERROR_CLASSES } from './errors';

/**
 * Prepares a value that the other side threw or rejected with for the caller. An Error keeps everything it arrived
 * with; our own error classes get their class back, and its stack is the remote one, marked, followed by the
 * caller's when it was captured, so both halves of the story are in one trace. Anything else is rejected with as
 * it is.
 */
export function toCallerRejection(value: unknown, method: string, callerStack: { stack?: string } | undefined): unknown {
  if (!(value instanceof Error)) return value;
  // An own-property lookup: a name like 'toString' or '__proto__' must not find Object.prototype's members.
  const known = Object.hasOwn(KNOWN_ERROR_CLASSES, value.name) ? KNOWN_ERROR_CLASSES[value.name] : undefined;
  if (known && !(value instanceof (known as unknown as new () => Error))) {
    Object.setPrototypeOf(value, known.prototype);
  }
  const remoteStack = typeof value.stack === 'string' ? value.stack : `${value.name}: ${value.message}`;
  Object.defineProperty(value, 'remoteStack', { value: remoteStack, configurable: true, writable: true });
  const callerFrames = callerStack?.stack?.split('\n').slice(1).join('\n');
  value.stack = callerFrames
    ? `${remoteStack}\n    --- the frames above ran in the other process; ${method} was called from: ---\n${callerFrames}`
    : `${remoteStack}\n    --- the frames above ran in the other process, serving ${method} ` +
      '(captureCallerStack: true, or FDPIPE_CALLER_STACKS=1, adds the caller\'s frames) ---';
  return value;
}

/** Whether an error came from the other side of a connection. */
export function isRemoteError(error: unknown): error is Error & { remoteStack: string } {
  return error instanceof Error && typeof (error as { remoteStack?: unknown }).remoteStack === 'string';
}
