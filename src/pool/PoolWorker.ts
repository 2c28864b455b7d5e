import { spawn, type ChildProcess } from 'child_process';
import type { Socket } from 'net';
import { startWithLane, type StdioEntry } from '../channel/bulkLane';
import { IPCChannel } from '../channel/IPCChannel';
import { OutputTail } from '../channel/OutputTail';
import { RpcProtocol } from '../rpc/RpcProtocol';
import { bootstrapPath } from './bootstrapPath';
import type { WorkerExit, WorkerStopCause } from './errors';
import type { ResolvedPoolOptions } from './options';
import { POOL_TARGET, type BootstrapConfig } from './wire';

const BOOTSTRAP = bootstrapPath();

/** An adaptive worker is given as many tasks as this many ms of its recent work per task. */
const QUEUED_WORK_MS = 2;
/** The weight of the newest sample in the service time's moving average. */
const SMOOTHING = 1 / 16;

/** After a worker is asked to leave (its channel closed), how long it gets before it is killed. */
const EXIT_GRACE_MS = 2000;
/** How much of a worker's stderr its death report keeps. */
const STDERR_TAIL_CHARS = 4096;
/** After a worker exits, how long to wait for the rest of its stderr. */
const STDERR_GRACE_MS = 200;

/** What a worker tells its pool. */
export interface WorkerHost {
  workerReady(worker: PoolWorker): void;
  workerOverMemory(worker: PoolWorker): void;
  /** The worker's channel closed: it is gone, or going; its pending tasks are rejecting. */
  workerGone(worker: PoolWorker): void;
  reportError(error: Error): void;
}

/** One worker process: the child, its channel on fd 4, the RPC protocol over it, and its tasks' count. */
export class PoolWorker {
  readonly child: ChildProcess;
  readonly protocol: RpcProtocol;
  private readonly channel: IPCChannel;
  /** The last few KiB of the worker's stderr, for the error that reports its death. */
  private readonly stderr: OutputTail | undefined;
  /** Resolves once the process has exited and its stderr is read. */
  readonly exited: Promise<WorkerExit>;
  /** Tasks given to this worker that have not come back, cancelled ones included. */
  active = 0;
  /** The module has loaded. */
  ready = false;
  /** False once the pool stops giving it tasks (recycling, closing, killed). */
  accepting = true;
  /** Set when the pool killed the worker, so its tasks' errors can say why. */
  stopCause: WorkerStopCause | undefined;
  /** Killed by close({ force: true }). */
  forced = false;
  /** The most tasks to give it at once. */
  cap: number;
  /** Moving average of the time between its replies while it had work: what a task costs it, in ms. */
  private serviceMs = 0;
  private lastReplyAt = 0;
  /** The last reply left it with tasks: the time to the next one is all work. */
  private busyAfterReply = false;
  /** When it last became idle (performance.now()). */
  idleSince = 0;
  /** When the heartbeat waiting for an answer was sent, if one is. */
  pingSentAt: number | undefined;
  /** How long (ms of the pool's free loop time) the heartbeat in pingSentAt has waited. */
  silence = 0;
  unresponsiveReported = false;
  private referenced = true;
  private gone = false;
  private killTimer: NodeJS.Timeout | undefined;

  constructor(
    host: WorkerHost,
    modulePath: string,
    options: ResolvedPoolOptions,
  ) {
    this.cap = options.concurrency;
    const config: BootstrapConfig = { module: modulePath, maxMemory: options.maxMemory };
    // A bulk lane on fd 5 (channel/bulkLane.ts): a task's large argument or result goes through shared memory.
    const args = [...options.execArgv, BOOTSTRAP, JSON.stringify(config)];
    const stdio: StdioEntry[] = ['ignore', options.stdout, 'pipe', 'ignore', 'pipe'];
    const child = (this.child = startWithLane(true, options.env, stdio, (env, withLane) =>
      spawn(process.execPath, args, { env, stdio: withLane, windowsHide: true }),
    ));
    // A child that could not start reports it on 'error' and then 'exit' (or 'close'): the exit settles its tasks.
    child.on('error', (error) => host.reportError(error));
    if (child.stderr) {
      this.stderr = new OutputTail(child.stderr, Infinity, STDERR_TAIL_CHARS);
      if (options.stderr === 'inherit') child.stderr.on('data', (chunk: Buffer) => process.stderr.write(chunk));
      child.stderr.on('error', () => {});
    }
    this.exited = this.watchExit();

    this.channel = new IPCChannel(child, { exitGraceMs: 0 });
    this.channel.onError((error) => {
      if (!this.gone) host.reportError(error);
    });
    this.protocol = new RpcProtocol(this.channel);
    this.protocol.onError((error) => host.reportError(error));
    this.protocol.registerTarget(POOL_TARGET, {
      call: (method) => {
        if (method === 'ready') {
          this.ready = true;
          host.workerReady(this);
        } else if (method === 'overMemory') {
          host.workerOverMemory(this);
        }
        // 'loadFailed': every task is answered with the module's error; the worker stays, so nothing loops.
        return undefined;
      },
    });
    this.channel.onClose(() => {
      this.gone = true;
      this.accepting = false;
      host.workerGone(this);
    });
    this.unref();
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get isGone(): boolean {
    return this.gone;
  }

  /**
   * A task came back at `now` (performance.now()), started at `startedAt`; `active` tasks remain. Adapts the cap to
   * about QUEUED_WORK_MS of work. Replies that come together (one read from the pipe) give gaps near zero after a
   * long one, which average out to the time per task.
   */
  replied(now: number, startedAt: number, active: number, ceiling: number): void {
    const sample = this.busyAfterReply ? now - this.lastReplyAt : now - startedAt;
    this.lastReplyAt = now;
    this.busyAfterReply = active > 0;
    this.serviceMs += (sample - this.serviceMs) * SMOOTHING;
    const cap = Math.ceil(QUEUED_WORK_MS / this.serviceMs);
    this.cap = cap >= ceiling ? ceiling : cap > 2 ? cap : 2;
  }

  /** A worker with tasks keeps the parent's event loop alive; an idle one does not. */
  ref(): void {
    if (this.referenced) return;
    this.referenced = true;
    this.child.ref();
    (this.child.stdio[4] as Socket | null)?.ref();
    (this.child.stderr as Socket | null)?.ref();
  }

  unref(): void {
    if (!this.referenced) return;
    this.referenced = false;
    this.child.unref();
    (this.child.stdio[4] as Socket | null)?.unref();
    (this.child.stderr as Socket | null)?.unref();
  }

  /** Asks the worker to leave: its channel closes, on which the bootstrap exits; killed if it lingers. */
  shutDown(): void {
    this.accepting = false;
    if (!this.channel.isClosed) this.channel.close();
    if (this.killTimer === undefined && this.isRunning) {
      this.killTimer = setTimeout(() => this.child.kill('SIGKILL'), EXIT_GRACE_MS);
    }
  }

  /** Kills the worker at once; its pending tasks reject and can tell why from stopCause. */
  kill(cause?: WorkerStopCause): void {
    this.accepting = false;
    this.stopCause ??= cause;
    if (this.isRunning) this.child.kill('SIGKILL');
  }

  private get isRunning(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  private watchExit(): Promise<WorkerExit> {
    const child = this.child;
    return new Promise<WorkerExit>((resolve) => {
      let exitCode: number | null = null;
      let signal: NodeJS.Signals | null = null;
      let exitedYet = false;
      let stderrDone = this.stderr === undefined;
      let timer: NodeJS.Timeout | undefined;
      const finish = () => {
        if (!exitedYet || !stderrDone) return;
        if (timer !== undefined) clearTimeout(timer);
        if (this.killTimer !== undefined) clearTimeout(this.killTimer);
        // The process is gone: whatever is left of the channel goes with it.
        if (!this.channel.isClosed) this.channel.close();
        const stderrTail = this.stderr?.lines ?? '';
        this.stderr?.dispose();
        resolve({ pid: child.pid, exitCode, signal, stderrTail, wasReady: this.ready });
      };
      this.stderr?.whenEnded(() => {
        stderrDone = true;
        finish();
      });
      // A process that could not be started at all never exits: its 'error' stands for the exit.
      child.once('error', () => {
        if (child.pid !== undefined || exitedYet) return;
        exitedYet = stderrDone = true;
        finish();
      });
      child.once('exit', (code, sig) => {
        exitCode = code;
        signal = sig;
        exitedYet = true;
        if (!stderrDone) timer = setTimeout(() => ((stderrDone = true), finish()), STDERR_GRACE_MS);
        finish();
      });
    });
  }
}
