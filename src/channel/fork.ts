import { fork, type ChildProcess, type ForkOptions } from 'child_process';
import type { Stream } from 'stream';

/** What one of stdin, stdout and stderr may be: as in child_process's stdio array. */
export type StdioSlot = 'pipe' | 'ignore' | 'inherit' | 'overlapped' | Stream | number | null | undefined;
import { IPCChannel, type IPCChannelOptions } from './IPCChannel';

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
}

export interface ForkedWorker {
  child: ChildProcess;
  channel: IPCChannel;
}

/**
 * Forks a Node.js worker with a pipe on fd 4 and returns the parent's channel over it. Node's own IPC stays on
 * fd 3, so process.send() keeps working; the worker opens its side with `new IPCChannel()`.
 */
export function forkWithChannel(
  modulePath: string,
  args: readonly string[] = [],
  options: ForkWithChannelOptions = {},
): ForkedWorker {
  const { stdin = 'inherit', stdout = 'inherit', stderr = 'inherit', channel: channelOptions, ...forkOptions } =
    options;
  const child = fork(modulePath, args, { ...forkOptions, stdio: [stdin, stdout, stderr, 'ipc', 'pipe'] });
  return { child, channel: new IPCChannel(child, channelOptions) };
}
