/** Percentiles of recent task times, in ms. NaN before any task has finished. */
export interface TimePercentiles {
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

/** A snapshot of the pool. */
export interface PoolStats {
  /** Worker processes, starting or running. */
  workers: number;
  /** Workers without a task. */
  idleWorkers: number;
  /** Tasks waiting for a worker. */
  queued: number;
  /**
   * Tasks a worker has been given and that have not settled, or whose streams (in the result or the arguments)
   * have not ended: the worker is still producing or reading them.
   */
  running: number;
  /**
   * Tasks that were cancelled (aborted, timed out) and have rejected, but whose worker has not stopped them yet:
   * each still takes a slot in its worker, until the worker gives it back or is killed after cancelGrace.
   */
  stopping: number;
  /** Tasks that resolved; one whose result holds a stream, once the stream has ended well. */
  completed: number;
  /**
   * Tasks that rejected (thrown, aborted, timed out, or failed with their worker), and tasks whose stream failed
   * after their reply (its producer threw, the reader aborted it, the worker died).
   */
  failed: number;
  /** Workers that died or were replaced (crash, maxMemory, cancelGrace, unresponsive); not idle ones let go. */
  replacedWorkers: number;
  /** From a worker taking the task to it settling (or its streams ending), over the last SAMPLES tasks. */
  runTime: TimePercentiles;
  /** From the call to a worker taking the task, over the last SAMPLES tasks. */
  waitTime: TimePercentiles;
}

const SAMPLES = 4096;

/** The last SAMPLES durations in a ring: recording is one store, the percentiles are computed when asked for. */
export class DurationRing {
  private readonly values = new Float64Array(SAMPLES);
  private count = 0;

  record(ms: number): void {
    this.values[this.count++ & (SAMPLES - 1)] = ms;
  }

  percentiles(): TimePercentiles {
    const n = Math.min(this.count, SAMPLES);
    if (n === 0) return { p50: NaN, p90: NaN, p99: NaN, max: NaN };
    const sorted = this.values.slice(0, n).sort();
    const at = (p: number) => sorted[Math.min(n - 1, Math.floor((p / 100) * n))];
    return { p50: at(50), p90: at(90), p99: at(99), max: sorted[n - 1] };
  }
}
