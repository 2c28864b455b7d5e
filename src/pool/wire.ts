// What the pool and the bootstrap in each worker say to each other, over one RpcProtocol on fd 4. Names are one
// character: every task carries its target's name, and tiny tasks are what a pool is measured by.

/** Requests to the worker: `method` is the task's name, the arguments are the task's. */
export const TASK_TARGET = 't';
/** Requests to the worker for a task that can be cancelled: the first argument is the task's id. */
export const CANCELLABLE_TARGET = 'c';
/** Requests and notifications to the worker's control: ping, cancel. */
export const CONTROL_TARGET = 'p';
/** Notifications to the pool: ready, loadFailed, overMemory. */
export const POOL_TARGET = 'pool';

/** How the parent tells the bootstrap what to load and how to run it (argv[2] of the bootstrap, as JSON). */
export interface BootstrapConfig {
  /** An absolute path, or a file: URL. */
  module: string;
  /** Bytes of JavaScript heap past which the worker asks to be recycled after a task; 0 for no limit. */
  maxMemory: number;
}
