import { taskLabel } from './errors';
import type { PoolWorker } from './PoolWorker';

export enum TaskState {
  Queued,
  Running,
  Settled,
}

/**
 * A task that can be cancelled, retried or has to wait: it has a promise of its own. (A plain task that a worker
 * takes at once needs none of this, and the pool runs it without a Task.)
 */
export class Task {
  state = TaskState.Queued;
  worker: PoolWorker | undefined;
  attempts = 0;
  startedAt = 0;
  /** The deadline of `timeout`, from the call. */
  timer: NodeJS.Timeout | undefined;
  /** After a cancel: when it fires, the worker that has not given the task back is killed. */
  graceTimer: NodeJS.Timeout | undefined;
  onAbort: (() => void) | undefined;

  constructor(
    readonly id: number,
    readonly name: string,
    readonly args: readonly unknown[],
    readonly signal: AbortSignal | undefined,
    readonly timeout: number | undefined,
    readonly idempotent: boolean,
    readonly submittedAt: number,
    private readonly resolveTask: (value: unknown) => void,
    private readonly rejectTask: (reason: unknown) => void,
  ) {}

  get label(): string {
    return taskLabel(this.name, this.id);
  }

  get cancellable(): boolean {
    return this.signal !== undefined || this.timeout !== undefined;
  }

  /** Settles once; releases the timeout and the signal's listener. Returns whether this call settled it. */
  settle(ok: boolean, value: unknown): boolean {
    if (this.state === TaskState.Settled) return false;
    this.state = TaskState.Settled;
    if (this.timer !== undefined) clearTimeout(this.timer);
    if (this.onAbort) this.signal!.removeEventListener('abort', this.onAbort);
    this.timer = this.onAbort = undefined;
    if (ok) this.resolveTask(value);
    else this.rejectTask(value);
    return true;
  }
}

/** Tasks waiting for a worker, in order; a task settled while waiting (aborted) is skipped, not searched for. */
export class TaskQueue {
  private items: Task[] = [];
  private head = 0;
  /** Waiting tasks that have not settled. */
  size = 0;

  push(task: Task): void {
    this.items.push(task);
    this.size++;
  }

  /** Back at the front: a retried task goes before the ones that came after it. */
  unshift(task: Task): void {
    if (this.head > 0) this.items[--this.head] = task;
    else this.items.unshift(task);
    this.size++;
  }

  /** A waiting task settled (aborted, timed out): it stays in place, to be skipped. */
  forget(): void {
    this.size--;
  }

  shift(): Task | undefined {
    while (this.head < this.items.length) {
      const task = this.items[this.head++];
      if (this.head > 1024 && this.head * 2 > this.items.length) {
        this.items = this.items.slice(this.head);
        this.head = 0;
      }
      if (task.state === TaskState.Queued) {
        this.size--;
        return task;
      }
    }
    return undefined;
  }

  /** Takes every waiting task out. */
  drain(): Task[] {
    const waiting = this.items.slice(this.head).filter((task) => task.state === TaskState.Queued);
    this.items = [];
    this.head = 0;
    this.size = 0;
    return waiting;
  }
}
