import { availableParallelism, cpus } from 'os';

/** Where a worker's stdout or stderr goes. The pool always keeps the tail of stderr for crash reports. */
export type WorkerOutput = 'inherit' | 'ignore';

export interface WorkerPoolOptions {
  /** Workers kept running even when idle, started at once. Default 0. */
  minWorkers?: number;
  /** Most workers at a time, started as tasks need them. Default os.availableParallelism(). */
  maxWorkers?: number;
  /** A worker idle this long (ms) exits, down to minWorkers. Default 10 000. */
  idleTimeout?: number;
  /** Most tasks waiting for a worker; past it run() rejects with QueueFullError. Default Infinity. */
  maxQueue?: number;
  /**
   * Tasks a worker is given at once; the rest wait in the pool for the least busy worker. Several at once keep a
   * worker busy between round trips, which tiny tasks need. Default: adaptive — as many as keep each worker busy
   * for about 2 ms by the time its tasks have been taking, so tiny tasks go up to 128 at a time and tasks of a
   * millisecond or more 2 at a time (one running, one ready): a long task does not wait in a worker behind another
   * while a worker is free. Set it for tasks that mostly wait (I/O) to run that many at once in each worker.
   */
  concurrentTasksPerWorker?: number;
  /**
   * Bytes of JavaScript heap (v8 used_heap_size) past which a worker is recycled: checked after each task, it gets
   * no more tasks and is replaced once those it holds are done. Default: no limit.
   */
  maxMemory?: number;
  /** A fresh worker for every task (each worker runs one task, then exits). Default false. */
  isolateWorkers?: boolean;
  /** The workers' environment. Default process.env. */
  env?: NodeJS.ProcessEnv;
  /** Node options for the workers (`--require ts-node/register`, `--max-old-space-size=…`). Default: the parent's. */
  execArgv?: string[];
  /** Where the workers' stdout and stderr go: one value for both, or each. stdin is never shared. Default 'inherit'. */
  stdio?: WorkerOutput | { stdout?: WorkerOutput; stderr?: WorkerOutput };
  /** Default timeout of each task, in ms, counted from the call (queue time included). Default: none. */
  timeout?: number;
  /** How long (ms) a cancelled task may take to stop before its worker is killed and replaced. Default 1000. */
  cancelGrace?: number;
  /** Times a task marked idempotent is run again when its worker dies under it. Default 0. */
  retries?: number;
  /**
   * A worker whose event loop has not answered a heartbeat for this long (ms) is reported on onUnresponsive (and
   * replaced if replaceUnresponsive). Default: not watched.
   */
  unresponsiveTimeout?: number;
  /** Kill and replace an unresponsive worker; its tasks fail with WorkerExitedError. Default false. */
  replaceUnresponsive?: boolean;
}

export interface ResolvedPoolOptions {
  minWorkers: number;
  maxWorkers: number;
  idleTimeout: number;
  maxQueue: number;
  /** The most tasks a worker holds. */
  concurrency: number;
  /** concurrency is a ceiling that each worker's own cap adapts under (the option was not given). */
  adaptiveConcurrency: boolean;
  maxMemory: number;
  isolateWorkers: boolean;
  env: NodeJS.ProcessEnv | undefined;
  execArgv: string[];
  stdout: WorkerOutput;
  stderr: WorkerOutput;
  timeout: number | undefined;
  cancelGrace: number;
  retries: number;
  unresponsiveTimeout: number | undefined;
  replaceUnresponsive: boolean;
}

function count(name: string, value: number | undefined, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !(Number.isInteger(value) || value === Infinity) || value < min) {
    throw new RangeError(`WorkerPool option ${name} must be a whole number ≥ ${min}, got ${String(value)}`);
  }
  return value;
}

function duration(name: string, value: number | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || Number.isNaN(value) || value < 0) {
    throw new RangeError(`WorkerPool option ${name} must be a number of milliseconds ≥ 0, got ${String(value)}`);
  }
  return value;
}

function output(name: string, value: unknown): WorkerOutput {
  if (value === undefined) return 'inherit';
  if (value !== 'inherit' && value !== 'ignore') {
    throw new TypeError(`WorkerPool option ${name} must be 'inherit' or 'ignore', got ${String(value)}`);
  }
  return value;
}

const parallelism = (): number =>
  typeof availableParallelism === 'function' ? availableParallelism() : Math.max(1, cpus().length);

export function resolveOptions(options: WorkerPoolOptions): ResolvedPoolOptions {
  const minWorkers = count('minWorkers', options.minWorkers, 0, 0);
  const maxWorkers = count('maxWorkers', options.maxWorkers, Math.max(parallelism(), minWorkers, 1), 1);
  if (minWorkers > maxWorkers) {
    throw new RangeError(`WorkerPool option minWorkers (${minWorkers}) is above maxWorkers (${maxWorkers})`);
  }
  const isolateWorkers = options.isolateWorkers === true;
  const stdio = options.stdio;
  const both = typeof stdio === 'string' ? stdio : undefined;
  const each = typeof stdio === 'object' && stdio !== null ? stdio : {};
  return {
    minWorkers,
    maxWorkers,
    idleTimeout: duration('idleTimeout', options.idleTimeout) ?? 10_000,
    maxQueue: count('maxQueue', options.maxQueue, Infinity, 0),
    // An isolated worker runs one task: a second one would share it.
    concurrency: isolateWorkers ? 1 : count('concurrentTasksPerWorker', options.concurrentTasksPerWorker, 128, 1),
    adaptiveConcurrency: !isolateWorkers && options.concurrentTasksPerWorker === undefined,
    maxMemory: duration('maxMemory', options.maxMemory) ?? 0,
    isolateWorkers,
    env: options.env,
    execArgv: options.execArgv ?? process.execArgv,
    stdout: output('stdio.stdout', both ?? each.stdout),
    stderr: output('stdio.stderr', both ?? each.stderr),
    timeout: duration('timeout', options.timeout),
    cancelGrace: duration('cancelGrace', options.cancelGrace) ?? 1000,
    retries: count('retries', options.retries, 0, 0),
    unresponsiveTimeout: duration('unresponsiveTimeout', options.unresponsiveTimeout),
    replaceUnresponsive: options.replaceUnresponsive === true,
  };
}
