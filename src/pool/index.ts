export {
  WorkerPool,
  type RunOptions,
  type ProxyRunOptions,
  type CloseOptions,
  type UnresponsiveWorkerEvent,
} from './WorkerPool';
export type { WorkerPoolOptions, WorkerOutput } from './options';
export type { PoolStats, TimePercentiles } from './stats';
export {
  WorkerExitedError,
  PoolClosedError,
  QueueFullError,
  TaskAbortedError,
  TaskTimeoutError,
  WorkerModuleError,
  type WorkerExit,
  type WorkerStopCause,
} from './errors';
