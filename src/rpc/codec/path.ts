// Building an encode error's path costs nothing until something fails: each container level catches the failure
// on its way out, adds its own step, and throws it on. The hot path never tracks where it is.

import { types } from 'util';
import { EncodeError } from './errors';

/** Thrown inside the encoder only; turned into an EncodeError at the top. Not an Error: no stack to capture. */
export class EncodeFailure {
  /** Steps and the containers they leave from, innermost first. */
  readonly steps: string[] = [];
  readonly containers: object[] = [];

  constructor(
    readonly reason: string,
    /** Whether the failure is about depth, in which case it may really be a cycle. */
    readonly tooDeep = false,
    readonly cause?: unknown,
    /** The container that went past the depth limit, if any: it did not get to add itself. */
    readonly innermost?: object,
  ) {}
}

/** Adds one step to whatever came out of encoding a child and returns the failure to throw on. */
export function addStep(thrown: unknown, step: string, container: object): EncodeFailure {
  let failure: EncodeFailure;
  if (thrown instanceof EncodeFailure) failure = thrown;
  // Anything else was thrown by user code (a getter, an extension, the buffer): keep it as the cause.
  else failure = new EncodeFailure(describeThrown(thrown), false, thrown);
  failure.steps.push(step);
  failure.containers.push(container);
  return failure;
}

const STACK_OVERFLOW_MESSAGE = 'Maximum call stack size exceeded';

/**
 * Whether `thrown` is V8's RangeError for running out of stack. Two property reads and string compares, no call
 * and no allocation: this runs where the stack has just run out, and there anything more (a regular expression,
 * which V8 may have to compile first; building a step of the path) fails in turn, with an error of another kind.
 * By name, not instanceof: the overflow may surface inside Node's own code, whose RangeError is another realm's.
 */
export function isStackOverflow(thrown: unknown): boolean {
  return (
    typeof thrown === 'object' &&
    thrown !== null &&
    (thrown as Error).message === STACK_OVERFLOW_MESSAGE &&
    (thrown as Error).name === 'RangeError'
  );
}

function describeThrown(thrown: unknown): string {
  const message =
    thrown instanceof Error || types.isNativeError(thrown) ? `${thrown.name}: ${thrown.message}` : String(thrown);
  return `reading or writing the value threw (${message})`;
}

export function keyStep(key: string): string {
  return isIdentifier(key) ? `.${key}` : `[${JSON.stringify(key)}]`;
}

/** `[A-Za-z_$][A-Za-z0-9_$]*`, tested without a regular expression, which may fail to compile near a stack limit. */
function isIdentifier(key: string): boolean {
  if (key.length === 0) return false;
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    const letter = (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 /* _ */ || c === 36; /* $ */
    if (!letter && !(i > 0 && c >= 48 && c <= 57)) return false;
  }
  return true;
}

export function indexStep(index: number): string {
  return `[${index}]`;
}

export function mapKeyStep(index: number): string {
  return `.keys()[${index}]`;
}

export function mapValueStep(key: unknown, index: number): string {
  const shown =
    typeof key === 'string'
      ? JSON.stringify(key)
      : typeof key === 'number' || typeof key === 'boolean'
        ? String(key)
        : `<key ${index}>`;
  return `.get(${shown})`;
}

export function setItemStep(index: number): string {
  return `.values()[${index}]`;
}

export function extensionStep(tag: number): string {
  return `<extension ${tag}>`;
}

/** The EncodeError a failure stands for; a nesting failure that is really a cycle says so, with both paths. */
export function toEncodeError(failure: EncodeFailure, root: string): EncodeError {
  const steps = failure.steps.slice().reverse();
  if (failure.tooDeep) {
    const containers = failure.containers.slice().reverse();
    if (failure.innermost) containers.push(failure.innermost);
    const firstSeen = new Map<object, number>();
    for (let depth = 0; depth < containers.length; depth++) {
      const earlier = firstSeen.get(containers[depth]);
      if (earlier !== undefined) {
        const back = root + steps.slice(0, earlier).join('');
        return new EncodeError(
          `cannot encode a cyclic value (this is the same object as its ancestor ${back})`,
          root,
          steps.slice(0, depth).join(''),
        );
      }
      firstSeen.set(containers[depth], depth);
    }
  }
  return new EncodeError(
    failure.reason,
    root,
    steps.join(''),
    failure.cause === undefined ? undefined : { cause: failure.cause },
  );
}
