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
  // Only with a depth limit set far above the default. Counted as too deep, so that a cycle is still named as one.
  else if (isStackOverflow(thrown)) failure = new EncodeFailure(STACK_EXHAUSTED, true, thrown);
  // Anything else was thrown by user code (a getter, an extension, the buffer): keep it as the cause.
  else failure = new EncodeFailure(describeThrown(thrown), false, thrown);
  failure.steps.push(step);
  failure.containers.push(container);
  return failure;
}

export const STACK_EXHAUSTED = 'cannot encode a value nested this deeply: the call stack ran out (lower maxDepth)';

/** By name, not instanceof: the overflow may surface inside Node's own code, whose RangeError is another realm's. */
export function isStackOverflow(thrown: unknown): boolean {
  return types.isNativeError(thrown) && thrown.name === 'RangeError' && /call stack/i.test(thrown.message);
}

function describeThrown(thrown: unknown): string {
  const message =
    thrown instanceof Error || types.isNativeError(thrown) ? `${thrown.name}: ${thrown.message}` : String(thrown);
  return `reading or writing the value threw (${message})`;
}

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

export function keyStep(key: string): string {
  return IDENTIFIER.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`;
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
