import { AbortError, TimeoutError } from '../rpc/errors';

/** How a worker's process ended, as the pool saw it. */
export interface WorkerExit {
  pid: number | undefined;
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** The last few KiB the worker wrote to stderr. */
  stderrTail: string;
  /** Whether the worker had loaded its module when it died. */
  wasReady: boolean;
}

/** Why the pool itself stopped a worker that had tasks, when it did. */
export type WorkerStopCause =
  | { kind: 'cancel-grace'; task: string; cancelGrace: number }
  | { kind: 'unresponsive'; silentFor: number };

/** `task 'add' (#12)`: how errors name a task. */
export function taskLabel(name: string, id: number): string {
  return `task '${name}' (#${id})`;
}

function describeExit(exit: WorkerExit): string {
  const how =
    exit.signal !== null
      ? `was killed by ${exit.signal}`
      : exit.exitCode !== null
        ? `exited with code ${exit.exitCode}`
        : 'closed its channel';
  return `its worker (pid ${exit.pid ?? 'unknown'}) ${how}${exit.wasReady ? '' : ' before it had loaded the module'}`;
}

function describeCause(cause: WorkerStopCause | undefined): string {
  if (!cause) return '';
  if (cause.kind === 'cancel-grace') {
    return (
      `; the pool killed it because ${cause.task} was cancelled and had not stopped within cancelGrace ` +
      `(${cause.cancelGrace} ms)`
    );
  }
  const silent = Math.round(cause.silentFor);
  return `; the pool killed it because its event loop had not answered for ${silent} ms (unresponsiveTimeout)`;
}

/**
 * The worker running the task died (crashed, was killed, ran out of memory, or was replaced by the pool) before the
 * task settled. Only that worker's tasks fail; the pool starts another worker.
 */
export class WorkerExitedError extends Error {
  override name = 'WorkerExitedError';
  readonly pid: number | undefined;
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stderrTail: string;

  constructor(
    /** `task 'add' (#12)` */
    readonly task: string,
    exit: WorkerExit,
    readonly stopCause: WorkerStopCause | undefined,
    /** How many times the task ran. */
    readonly attempts: number,
    idempotent: boolean,
  ) {
    const stderr = exit.stderrTail.trimEnd();
    const advice = idempotent
      ? `It ran ${attempts} time${attempts === 1 ? '' : 's'}, as many as the pool's retries allow.`
      : 'It was not run again: mark a task idempotent (run(name, args, { idempotent: true })) and set the ' +
        "pool's retries to have it retried on another worker.";
    const output = stderr
      ? `${advice} The worker's stderr ended with:\n${stderr}`
      : `The worker wrote nothing to stderr. ${advice}`;
    super(`The ${task} failed: ${describeExit(exit)}${describeCause(stopCause)}. ${output}`);
    this.pid = exit.pid;
    this.exitCode = exit.exitCode;
    this.signal = exit.signal;
    this.stderrTail = exit.stderrTail;
  }
}

/** The pool was closed: a task submitted afterwards, still queued, or (with `force`) running, rejects with this. */
export class PoolClosedError extends Error {
  override name = 'PoolClosedError';
  constructor(readonly task: string, when: 'submitted' | 'queued' | 'running') {
    super(
      when === 'submitted'
        ? `The ${task} was not run: the pool is closed. Create a new WorkerPool, or submit tasks before close().`
        : when === 'queued'
          ? `The ${task} never started: the pool was closed while it waited in the queue. Await the tasks you ` +
            'need before calling close().'
          : `The ${task} was stopped: the pool was closed with { force: true } while it ran. Use close() without ` +
            'force to let running tasks finish.',
    );
  }
}

/** The queue already holds maxQueue tasks and no worker can take another now. */
export class QueueFullError extends Error {
  override name = 'QueueFullError';
  constructor(readonly task: string, readonly maxQueue: number) {
    super(
      `The ${task} was refused: ${maxQueue} tasks are already waiting (maxQueue). Wait for some to settle before ` +
        'submitting more, or raise maxQueue.',
    );
  }
}

/** The task's AbortSignal fired: a queued task never starts, a running one is cancelled in its worker. */
export class TaskAbortedError extends AbortError {
  override name = 'TaskAbortedError';
  constructor(readonly task: string, started: boolean, reason: unknown) {
    super(task, reason);
    this.message = started
      ? `The ${task} was aborted while it ran: its signal in the worker fired (a worker that does not stop within ` +
        'cancelGrace is replaced)'
      : `The ${task} was aborted before it started: it never ran`;
  }
}

/** The task did not settle within its timeout (counted from the call, time in the queue included). */
export class TaskTimeoutError extends TimeoutError {
  override name = 'TaskTimeoutError';
  constructor(readonly task: string, timeout: number, started: boolean) {
    super(task, timeout);
    this.message = started
      ? `The ${task} did not settle within its timeout of ${timeout} ms and was cancelled in its worker (its signal ` +
        'fired). Raise the timeout, or make the task stop sooner.'
      : `The ${task} waited in the queue past its timeout of ${timeout} ms and never started. Raise the timeout, ` +
        'maxWorkers or concurrentTasksPerWorker, or submit fewer tasks at once.';
  }
}

/** The worker could not load the pool's module (not found, a syntax error, an exception at its top level). */
export class WorkerModuleError extends Error {
  override name = 'WorkerModuleError';
}
