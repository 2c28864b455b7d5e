import { existsSync } from 'fs';
import { resolve as resolvePath, sep } from 'path';
import { performance } from 'perf_hooks';
import { fileURLToPath } from 'url';
import { Emitter, type Event } from '../common/event';
import { supportAwaitUsing } from '../common/lifecycle';
import { reportTo, warnUnhandled } from '../common/warn';
import { ConnectionClosedError } from '../rpc/errors';
import { RemoteStream } from '../rpc/protocol/streams/RemoteStream';
import { createMemberProxy, type Remote } from '../rpc/services';
import {
  PoolClosedError,
  QueueFullError,
  TaskAbortedError,
  TaskTimeoutError,
  WorkerExitedError,
  WorkerModuleError,
  taskLabel,
  type WorkerExit,
} from './errors';
import { resolveOptions, type ResolvedPoolOptions, type WorkerPoolOptions } from './options';
import { PoolWorker, type WorkerHost } from './PoolWorker';
import { DurationRing, type PoolStats } from './stats';
import { StreamHold, type HoldHost } from './StreamHold';
import { Task, TaskQueue, TaskState } from './Task';
import { CANCELLABLE_TARGET, CONTROL_TARGET, TASK_TARGET } from './wire';

export interface RunOptions {
  /** Aborting it rejects the task with TaskAbortedError: a waiting task never starts, a running one's signal fires. */
  signal?: AbortSignal;
  /** Milliseconds from the call until the task rejects with TaskTimeoutError and is cancelled. Default: the pool's. */
  timeout?: number;
  /** The task may run again, on another worker, when its worker dies under it (up to the pool's retries). */
  idempotent?: boolean;
}

export type ProxyRunOptions = Omit<RunOptions, 'signal'>;

export interface CloseOptions {
  /** Kill the workers now: running tasks reject with PoolClosedError instead of finishing. */
  force?: boolean;
}

/** A worker whose event loop did not answer a heartbeat within unresponsiveTimeout. */
export interface UnresponsiveWorkerEvent {
  pid: number | undefined;
  /** How long it has not answered, in ms of time the pool's own loop was free to read an answer. */
  silentFor: number;
  /** Its tasks (they fail with WorkerExitedError if it is replaced). */
  running: number;
  /** Whether the pool killed it to start another (replaceUnresponsive). */
  replaced: boolean;
}

const MAX_START_FAILURES = 3;

/**
 * Worker processes running one module's exported functions, each task on the least busy worker, over fdpipe's RPC
 * on fd 4. The module needs no fdpipe code.
 *
 *     const pool = new WorkerPool(require.resolve('./math-worker.js'));
 *     await pool.run('add', [1, 2]);            // 3
 *     const math = pool.proxy<typeof import('./math-worker')>();
 *     await math.add(1, 2);                     // typed
 *     await pool.close();
 */
export class WorkerPool {
  /** close(), for `await using`. */
  declare readonly [Symbol.asyncDispose]: () => Promise<void>;
  private readonly options: ResolvedPoolOptions;
  /** What the bootstrap loads: an absolute path or a file: URL. */
  readonly module: string;
  /** Workers that are starting or running (not those leaving). */
  private readonly workers: PoolWorker[] = [];
  /** Every process not yet exited, leaving ones included: close() waits for all of them. */
  private readonly processes = new Set<PoolWorker>();
  private readonly queue = new TaskQueue();
  private readonly runTimes = new DurationRing();
  private readonly waitTimes = new DurationRing();
  private lastTaskId = 0;
  private running = 0;
  /** Cancelled tasks, rejected already, whose worker has not given their slot back yet. */
  private stopping = 0;
  private completed = 0;
  private failed = 0;
  private replaced = 0;
  private startFailures = 0;
  private closing: Promise<void> | undefined;
  private forcing = false;
  private idleTimer: NodeJS.Timeout | undefined;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  /** What the workers tell the pool: kept off the pool's public face. */
  private readonly host: WorkerHost = {
    workerReady: () => this.workerReady(),
    workerOverMemory: (worker) => this.workerOverMemory(worker),
    workerGone: (worker) => this.workerGone(worker),
    reportError: (error) => reportTo(this.errorEmitter, error),
  };
  /** A task, its streams included, is over. */
  private readonly holdHost: HoldHost = {
    released: (worker, startedAt, ok, streamFailed) => {
      // A failed reply was counted when it came; a stream that failed after a good one makes the task a failure.
      if (ok && !streamFailed) this.completed++;
      else if (ok) this.failed++;
      this.end(worker, startedAt);
    },
  };
  private readonly errorEmitter = new Emitter<Error>({ onListenerError: warnUnhandled });
  private readonly unresponsiveEmitter = new Emitter<UnresponsiveWorkerEvent>({ onListenerError: warnUnhandled });

  /** Errors no task owns (a worker that could not be started, a malformed message). Unheard, they are warnings. */
  readonly onError: Event<Error> = this.errorEmitter.event;
  /** A worker's event loop stopped answering (unresponsiveTimeout). Unheard, it is a warning. */
  readonly onUnresponsive: Event<UnresponsiveWorkerEvent> = this.unresponsiveEmitter.event;

  /**
   * @param module the worker module: a path (relative to the current directory) or a file: URL; CommonJS or ESM.
   * @throws TypeError when there is no such file, RangeError for an option out of range.
   */
  constructor(module: string | URL, options: WorkerPoolOptions = {}) {
    this.module = resolveModule(module);
    this.options = resolveOptions(options);
    for (let i = 0; i < this.options.minWorkers; i++) this.spawn();
    if (this.options.unresponsiveTimeout !== undefined) this.startHeartbeat(this.options.unresponsiveTimeout);
  }

  /** Runs the exported function `name` with `args` on the least busy worker. */
  run<R = unknown>(name: string, args: readonly unknown[] = [], options?: RunOptions): Promise<R> {
    if (typeof name !== 'string') {
      return Promise.reject(new TypeError(`WorkerPool.run() takes the task's name first, got ${typeof name}`));
    }
    if (!Array.isArray(args)) {
      return Promise.reject(
        new TypeError(`WorkerPool.run('${name}', args): pass the arguments as an array, as in run('add', [1, 2])`),
      );
    }
    const id = ++this.lastTaskId;
    if (this.closing) return Promise.reject(new PoolClosedError(taskLabel(name, id), 'submitted'));
    const timeout = options?.timeout ?? this.options.timeout;
    const signal = options?.signal;
    const idempotent = options?.idempotent === true;
    // The common case goes straight to a worker, without a Task, a promise of its own or a timer.
    if (signal === undefined && timeout === undefined && !idempotent && this.queue.size === 0) {
      const worker = this.pick();
      if (worker) return this.runDirect(worker, name, args, id) as Promise<R>;
    }
    return new Promise<R>((resolve, reject) => {
      const task = new Task(
        id,
        name,
        args,
        signal,
        timeout,
        idempotent,
        performance.now(),
        resolve as (value: unknown) => void,
        reject,
      );
      this.submit(task);
    });
  }

  /**
   * The module's functions as methods: each call is a task. An AbortSignal as a call's last argument cancels it
   * (the worker's function gets a live signal in its place). `options` apply to every call.
   */
  proxy<T>(options: ProxyRunOptions = {}): Remote<T> {
    const shared = options.timeout !== undefined || options.idempotent === true ? options : undefined;
    return createMemberProxy<T>(
      (method, args, signal) => this.run(method, args, signal ? { ...options, signal } : shared),
      (event) => () => {
        throw new TypeError(
          `A pool's proxy has no events ('${event}'): a task runs on whichever worker is free. Return the values ` +
            'from the task instead.',
        );
      },
    );
  }

  get stats(): PoolStats {
    let idle = 0;
    for (const worker of this.workers) if (worker.active === 0) idle++;
    return {
      workers: this.workers.length,
      idleWorkers: idle,
      queued: this.queue.size,
      running: this.running,
      stopping: this.stopping,
      completed: this.completed,
      failed: this.failed,
      replacedWorkers: this.replaced,
      runTime: this.runTimes.percentiles(),
      waitTime: this.waitTimes.percentiles(),
    };
  }

  /** The pids of the workers that are starting or running. */
  get pids(): number[] {
    return this.workers.map((worker) => worker.pid).filter((pid): pid is number => pid !== undefined);
  }

  get isClosed(): boolean {
    return this.closing !== undefined;
  }

  /**
   * Stops the pool: waiting tasks reject with PoolClosedError, running ones finish, streams they return or take
   * included (or, with `force`, reject and their workers are killed), then every worker exits. Resolves once no
   * worker process is left.
   */
  close(options: CloseOptions = {}): Promise<void> {
    if (options.force && !this.forcing) {
      this.forcing = true;
      for (const worker of this.processes) {
        worker.forced = true;
        worker.kill();
      }
    }
    if (this.closing) return this.closing;
    let stopped!: () => void;
    this.closing = new Promise<void>((resolve) => (stopped = resolve));
    this.stopTimers();
    for (const task of this.queue.drain()) this.fail(task, new PoolClosedError(task.label, 'queued'));
    for (const worker of [...this.workers]) {
      worker.accepting = false;
      if (worker.active === 0) this.retire(worker);
    }
    this.whenNoProcesses().then(stopped);
    return this.closing;
  }

  // ---- dispatch ------------------------------------------------------------------------------------------------

  /**
   * The worker for the next task: a ready one before one still starting, then the least busy, among those with
   * room. When every worker is busy and there is room for another, one is started (it takes tasks at once: they wait
   * in its pipe while it loads the module).
   */
  private pick(): PoolWorker | undefined {
    let best: PoolWorker | undefined;
    let anyIdle = false;
    for (const worker of this.workers) {
      if (!worker.accepting) continue;
      const active = worker.active;
      if (active === 0) anyIdle = true;
      if (active >= worker.cap) continue;
      const better =
        best === undefined || (worker.ready && !best.ready) || (worker.ready === best.ready && active < best.active);
      if (better) best = worker;
    }
    // Workers on their way out do not count: they have no tasks left, and exit within moments.
    if (!anyIdle && this.workers.length < this.options.maxWorkers && !this.closing && this.mayStart()) {
      const fresh = this.spawn();
      if (best === undefined || !best.ready) best = fresh;
    }
    return best;
  }

  /** After repeated start failures, workers are started again only for new tasks. */
  private mayStart(): boolean {
    return this.startFailures < MAX_START_FAILURES;
  }

  private spawn(): PoolWorker {
    const worker = new PoolWorker(this.host, this.module, this.options);
    this.workers.push(worker);
    this.processes.add(worker);
    worker.exited.then(() => {
      this.processes.delete(worker);
      this.keepMinimum();
    });
    return worker;
  }

  private begin(worker: PoolWorker): void {
    if (worker.active++ === 0) worker.ref();
    this.running++;
    // An isolated worker runs this one task, then leaves.
    if (this.options.isolateWorkers) worker.accepting = false;
  }

  /** A worker gave a task back (settled, or `cancelled` and stopped). */
  private end(worker: PoolWorker, startedAt: number, cancelled = false): void {
    const now = performance.now();
    this.runTimes.record(now - startedAt);
    if (cancelled) this.stopping--;
    else this.running--;
    const active = --worker.active;
    if (this.options.adaptiveConcurrency) worker.replied(now, startedAt, active, this.options.concurrency);
    if (active === 0) {
      worker.unref();
      if (!worker.accepting) this.retire(worker);
      else this.becameIdle(worker);
    }
    if (this.queue.size > 0) this.pump();
  }

  private runDirect(worker: PoolWorker, name: string, args: readonly unknown[], id: number): Promise<unknown> {
    const startedAt = performance.now();
    this.waitTimes.record(0);
    this.begin(worker);
    const hold = new StreamHold(this.holdHost, worker, startedAt);
    return worker.protocol.request(TASK_TARGET, name, args, hold).then(
      (value) => {
        hold.replied(true);
        return value;
      },
      (error) => {
        this.failed++;
        hold.replied(false);
        if (!(error instanceof ConnectionClosedError)) throw ownError(error);
        return worker.exited.then((exit) => {
          throw this.workerFailure(worker, taskLabel(name, id), exit, 1, false);
        });
      },
    );
  }

  private submit(task: Task): void {
    const signal = task.signal;
    if (signal?.aborted) {
      this.fail(task, new TaskAbortedError(task.label, false, signal.reason));
      return;
    }
    if (signal) {
      task.onAbort = () =>
        this.cancel(task, new TaskAbortedError(task.label, task.state === TaskState.Running, signal.reason));
      signal.addEventListener('abort', task.onAbort, { once: true });
    }
    if (task.timeout !== undefined) {
      const timeout = task.timeout;
      task.timer = setTimeout(
        () => this.cancel(task, new TaskTimeoutError(task.label, timeout, task.state === TaskState.Running)),
        timeout,
      );
    }
    // After workers kept dying at start, a new task tries once more.
    if (!this.mayStart() && this.workers.length === 0) this.startFailures = 0;
    const worker = this.queue.size === 0 ? this.pick() : undefined;
    if (worker) {
      this.start(task, worker);
    } else if (this.queue.size >= this.options.maxQueue) {
      this.fail(task, new QueueFullError(task.label, this.options.maxQueue));
    } else {
      this.queue.push(task);
    }
  }

  private pump(): void {
    while (this.queue.size > 0) {
      const worker = this.pick();
      if (!worker) return;
      this.start(this.queue.shift()!, worker);
    }
  }

  private start(task: Task, worker: PoolWorker): void {
    task.state = TaskState.Running;
    task.worker = worker;
    task.attempts++;
    const now = performance.now();
    this.waitTimes.record(now - task.submittedAt);
    task.startedAt = now;
    this.begin(worker);
    const hold = new StreamHold(this.holdHost, worker, now);
    const request = task.cancellable
      ? worker.protocol.request(CANCELLABLE_TARGET, task.name, [task.id, ...task.args], hold)
      : worker.protocol.request(TASK_TARGET, task.name, task.args, hold);
    request.then(
      (value) => this.returned(task, worker, hold, true, value),
      (error) => this.returned(task, worker, hold, false, error),
    );
  }

  /**
   * The worker answered (or its connection closed): the task settles, unless it was cancelled already. Its slot
   * goes back once the streams of its call have ended too.
   */
  private returned(task: Task, worker: PoolWorker, hold: StreamHold, ok: boolean, value: unknown): void {
    if (task.graceTimer !== undefined) clearTimeout(task.graceTimer);
    task.graceTimer = undefined;
    // Only a cancel settles a task its worker still has: this only gives the worker's slot back.
    if (task.state === TaskState.Settled) {
      hold.drop();
      this.end(worker, task.startedAt, true);
      // Nobody will read a stream the cancelled task returned: its worker may stop producing it.
      if (ok && value instanceof RemoteStream) value.cancel();
      return;
    }
    hold.replied(ok);
    if (ok) {
      task.settle(true, value);
      return;
    }
    if (!(value instanceof ConnectionClosedError)) {
      this.fail(task, ownError(value));
      return;
    }
    worker.exited.then((exit) => {
      if (task.state === TaskState.Settled) return;
      if (task.idempotent && task.attempts <= this.options.retries && !this.closing) {
        task.state = TaskState.Queued;
        task.worker = undefined;
        this.queue.unshift(task);
        this.pump();
        return;
      }
      this.fail(task, this.workerFailure(worker, task.label, exit, task.attempts, task.idempotent));
    });
  }

  private workerFailure(
    worker: PoolWorker,
    label: string,
    exit: WorkerExit,
    attempts: number,
    idempotent: boolean,
  ): Error {
    if (worker.forced) return new PoolClosedError(label, 'running');
    return new WorkerExitedError(label, exit, worker.stopCause, attempts, idempotent);
  }

  private fail(task: Task, error: unknown): void {
    if (task.settle(false, error)) this.failed++;
  }

  /** Abort or timeout: the task rejects now; a running one is cancelled in its worker, which gets cancelGrace. */
  private cancel(task: Task, reason: Error): void {
    const state = task.state;
    if (state === TaskState.Settled) return;
    this.fail(task, reason);
    if (state === TaskState.Queued) {
      if (task.worker === undefined) this.queue.forget();
      return;
    }
    // No longer running (it rejected), but its slot in the worker stays taken until the worker gives it back.
    this.running--;
    this.stopping++;
    const worker = task.worker!;
    if (worker.isGone) return;
    try {
      worker.protocol.notify(CONTROL_TARGET, 'cancel', [task.id]);
    } catch {
      // The worker is going away: its channel's close gives the slot back.
    }
    const cancelGrace = this.options.cancelGrace;
    task.graceTimer = setTimeout(() => {
      task.graceTimer = undefined;
      worker.kill({ kind: 'cancel-grace', task: task.label, cancelGrace });
    }, cancelGrace);
  }

  // ---- the workers' lives ------------------------------------------------------------------------------------

  /** No more tasks for it: it leaves now. */
  private retire(worker: PoolWorker): void {
    worker.accepting = false;
    this.removeWorker(worker);
    worker.shutDown();
    this.keepMinimum();
  }

  private removeWorker(worker: PoolWorker): boolean {
    const index = this.workers.indexOf(worker);
    if (index < 0) return false;
    this.workers.splice(index, 1);
    return true;
  }

  private keepMinimum(): void {
    if (this.closing) return;
    while (this.workers.length < this.options.minWorkers) this.spawn();
    if (this.queue.size > 0) this.pump();
  }

  private becameIdle(worker: PoolWorker): void {
    worker.idleSince = performance.now();
    if (this.idleTimer === undefined && !this.closing) this.scheduleIdleCheck(this.options.idleTimeout);
  }

  private scheduleIdleCheck(delay: number): void {
    this.idleTimer = setTimeout(() => this.checkIdle(), delay);
    this.idleTimer.unref();
  }

  /** Lets go of workers idle for idleTimeout, down to minWorkers; looks again when the next one would be due. */
  private checkIdle(): void {
    this.idleTimer = undefined;
    const now = performance.now();
    let nextDue = Infinity;
    for (const worker of [...this.workers]) {
      if (worker.active > 0 || !worker.accepting) continue;
      const due = worker.idleSince + this.options.idleTimeout;
      if (due <= now && this.workers.length > this.options.minWorkers) this.retire(worker);
      else if (due > now) nextDue = Math.min(nextDue, due);
    }
    if (nextDue !== Infinity) this.scheduleIdleCheck(nextDue - now);
  }

  private workerReady(): void {
    this.startFailures = 0;
  }

  private workerOverMemory(worker: PoolWorker): void {
    if (!worker.accepting) return;
    this.replaced++;
    worker.accepting = false;
    if (worker.active === 0) this.retire(worker);
    else this.keepMinimum();
  }

  private workerGone(worker: PoolWorker): void {
    const wasInPool = this.removeWorker(worker);
    if (!wasInPool || this.closing) return;
    this.replaced++;
    if (worker.ready || worker.stopCause !== undefined) {
      this.keepMinimum();
      return;
    }
    worker.exited.then((exit) => {
      // A worker that exits on its own before loading the module (a bad execArgv, say) would do so again: after a
      // few in a row, the waiting tasks fail instead of killing more workers. A signal came from outside.
      if (exit.signal === null && ++this.startFailures >= MAX_START_FAILURES) {
        for (const task of this.queue.drain()) {
          this.fail(task, new WorkerExitedError(task.label, exit, undefined, task.attempts, task.idempotent));
        }
      }
      this.keepMinimum();
    });
  }

  // ---- heartbeat -----------------------------------------------------------------------------------------------

  private startHeartbeat(timeout: number): void {
    const period = Math.max(5, Math.min(timeout / 4, 1000));
    let lastBeat = performance.now();
    this.heartbeatTimer = setInterval(() => {
      // Silence counts only time our own loop was free to read an answer: a beat that fires late (our loop was
      // blocked) adds at most two periods, however late it is, so a stall of the parent is not blamed on a worker.
      const now = performance.now();
      const credit = Math.min(now - lastBeat, 2 * period);
      lastBeat = now;
      this.beat(timeout, credit);
    }, period);
    this.heartbeatTimer.unref();
  }

  private beat(timeout: number, credit: number): void {
    const waiting: PoolWorker[] = [];
    for (const worker of [...this.workers]) {
      if (!worker.ready || worker.isGone) continue;
      if (worker.pingSentAt === undefined) {
        worker.pingSentAt = performance.now();
        worker.silence = 0;
        worker.protocol.request(CONTROL_TARGET, 'ping', []).then(
          () => {
            worker.pingSentAt = undefined;
            worker.unresponsiveReported = false;
          },
          () => {},
        );
        continue;
      }
      worker.silence += credit;
      if (worker.silence >= timeout && !worker.unresponsiveReported) waiting.push(worker);
    }
    // Timers run before the loop reads its sockets: an answer may already be waiting in the pipe. Judge after the
    // reads of this turn (setImmediate runs after the poll phase), when such an answer has cleared pingSentAt.
    if (waiting.length > 0) setImmediate(() => this.reportSilent(waiting));
  }

  private reportSilent(workers: PoolWorker[]): void {
    for (const worker of workers) {
      if (worker.pingSentAt === undefined || worker.isGone || worker.unresponsiveReported) continue;
      worker.unresponsiveReported = true;
      const silentFor = worker.silence;
      const replaced = this.options.replaceUnresponsive;
      const event: UnresponsiveWorkerEvent = { pid: worker.pid, silentFor, running: worker.active, replaced };
      if (replaced) {
        worker.kill({ kind: 'unresponsive', silentFor });
      }
      if (this.unresponsiveEmitter.hasListeners) this.unresponsiveEmitter.fire(event);
      else {
        process.emitWarning(
          `fdpipe WorkerPool: worker pid ${worker.pid} has not answered for ${Math.round(silentFor)} ms with ` +
            `${worker.active} task(s)${replaced ? '; it was killed and is being replaced' : ''} ` +
            '(listen to onUnresponsive to handle this)',
        );
      }
    }
  }

  private stopTimers(): void {
    if (this.idleTimer !== undefined) clearTimeout(this.idleTimer);
    if (this.heartbeatTimer !== undefined) clearInterval(this.heartbeatTimer);
    this.idleTimer = this.heartbeatTimer = undefined;
  }

  private async whenNoProcesses(): Promise<void> {
    while (this.processes.size > 0) await Promise.all([...this.processes].map((worker) => worker.exited));
    this.errorEmitter.dispose();
    this.unresponsiveEmitter.dispose();
  }
}

supportAwaitUsing(WorkerPool.prototype);

/** A worker's error of ours gets its class back: the codec keeps only the core's error classes. */
function ownError(error: unknown): unknown {
  if (error instanceof Error && error.name === 'WorkerModuleError' && !(error instanceof WorkerModuleError)) {
    Object.setPrototypeOf(error, WorkerModuleError.prototype);
  }
  return error;
}

function resolveModule(module: string | URL): string {
  if (module instanceof URL || (typeof module === 'string' && module.startsWith('file:'))) {
    const url = module instanceof URL ? module : new URL(module);
    if (url.protocol !== 'file:') {
      throw new TypeError(`WorkerPool: the module must be a path or a file: URL, got ${url.href}`);
    }
    if (!existsSync(fileURLToPath(url))) throw new TypeError(`WorkerPool: there is no module at ${url.href}`);
    return url.href;
  }
  if (typeof module !== 'string' || module === '') {
    throw new TypeError(`WorkerPool: the module must be a path or a file: URL, got ${String(module)}`);
  }
  const path = resolvePath(module);
  // The worker's require() finds the file as Node would (an extension left out, a folder's index).
  if (!['', '.js', '.cjs', '.mjs', '.ts', `${sep}index.js`].some((suffix) => existsSync(path + suffix))) {
    throw new TypeError(
      `WorkerPool: there is no module at ${path}. Give an absolute path (require.resolve('./worker.js') or ` +
        "new URL('./worker.mjs', import.meta.url)); a relative one is taken from the current directory.",
    );
  }
  return path;
}
