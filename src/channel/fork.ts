import { fork, type ChildProcess, type ForkOptions } from 'child_process';
import type { Stream } from 'stream';
import { supportAwaitUsing } from '../common/lifecycle';
import { startWithLane } from './bulkLane';
import { IPCChannel, type IPCChannelOptions } from './IPCChannel';
import { modulePathOf, type ModulePath } from './modulePath';

/** What one of stdin, stdout and stderr may be: as in child_process's stdio array. */
export type StdioSlot = 'pipe' | 'ignore' | 'inherit' | 'overlapped' | Stream | number | null | undefined;

export interface ForkWithChannelOptions extends Omit<ForkOptions, 'stdio' | 'silent'> {
  /** Default 'inherit'. */
  stdin?: StdioSlot;
  /** Default 'inherit'. */
  stdout?: StdioSlot;
  /**
   * Default 'inherit'. With 'pipe', the channel keeps the worker's last stderr lines (20 lines, 8 KiB at most), and
   * a worker that dies reports them in its close event (`stderrTail`) and in the errors of the calls it leaves
   * pending. `child.stderr` still gives you every line: attach your listener right after the fork.
   */
  stderr?: StdioSlot;
  /** Options for the parent's end of the channel. */
  channel?: IPCChannelOptions;
  /**
   * Give the channel a bulk lane (PROTOCOL.md, "Bulk lane"): messages of 256 KiB to 2 MiB go through shared memory
   * on fd 5, and the pipe carries only where they lie. Default true, on Linux with a writable /dev/shm; the
   * environment variable FDPIPE_NO_BULK_LANE=1 turns it off for every fork.
   */
  bulkLane?: boolean;
}

/** How a child process ended: as child_process's 'exit' reports it. */
export interface ChildExit {
  /** The exit code, or null if a signal ended the child. */
  code: number | null;
  /** The signal that ended the child, or null if it exited by itself. */
  signal: NodeJS.Signals | null;
}

/** How long close() gives a worker to exit by itself before killing it, by default. */
export const DEFAULT_EXIT_GRACE_MS = 5000;

/**
 * A forked worker and the parent's channel to it. It owns the child: `await using worker = forkWithChannel(…)`
 * (or `await worker.close()`) closes the channel and waits until the child has exited.
 */
export class ForkedWorker {
  /** close(), for `await using`: resolves once the child has exited. */
  declare readonly [Symbol.asyncDispose]: () => Promise<void>;
  private exited: Promise<ChildExit> | undefined;

  constructor(
    readonly child: ChildProcess,
    readonly channel: IPCChannel,
  ) {}

  /**
   * Closes the channel, then waits for the child to exit, which a worker does by itself once its channel closes
   * (unless something else keeps it alive); one still running after `graceMs` is killed with SIGKILL. Resolves with
   * how the child ended; calling it again gives the same answer. A child that never started resolves at once.
   */
  close(graceMs: number = DEFAULT_EXIT_GRACE_MS): Promise<ChildExit> {
    this.channel.close();
    this.exited ??= waitForExit(this.child, graceMs);
    return this.exited;
  }
}
supportAwaitUsing(ForkedWorker.prototype);

function waitForExit(child: ChildProcess, graceMs: number): Promise<ChildExit> {
  const exit = (): ChildExit => ({ code: child.exitCode, signal: child.signalCode });
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) {
    return Promise.resolve(exit());
  }
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(exit());
    });
  });
}

/**
 * Forks a Node.js worker with a pipe on fd 4 and returns the parent's channel over it. Node's own IPC stays on
 * fd 3, so process.send() keeps working; the worker opens its side with `new IPCChannel()`.
 *
 * @param modulePath the worker's file: a `file:` URL (`new URL('./worker.js', import.meta.url)`, or the string
 *   `import.meta.resolve()` gives) names it wherever this process runs; a relative path is resolved, as by
 *   child_process.fork, against the child's working directory (`options.cwd`, by default this process's), not
 *   against the calling file. See {@link ModulePath}.
 */
export function forkWithChannel(
  modulePath: ModulePath,
  args: readonly string[] = [],
  options: ForkWithChannelOptions = {},
): ForkedWorker {
  const {
    stdin = 'inherit',
    stdout = 'inherit',
    stderr = 'inherit',
    channel: channelOptions,
    bulkLane = true,
    ...forkOptions
  } = options;
  const child = startWithLane(bulkLane, forkOptions.env, [stdin, stdout, stderr, 'ipc', 'pipe'], (env, stdio) =>
    fork(modulePathOf(modulePath), args, { ...forkOptions, env, stdio }),
  );
  return new ForkedWorker(child, new IPCChannel(child, channelOptions));
}
