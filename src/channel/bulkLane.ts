import type { ChildProcess, IOType, StdioNull, StdioPipe } from 'child_process';
import type { Stream } from 'stream';
import { randomBytes } from 'crypto';
import { closeSync, fstatSync, ftruncateSync, openSync, unlinkSync } from 'fs';
import { join } from 'path';
import { BulkLane, LANE_REGION_SIZE } from '../pipe/BulkLane';

/** The descriptor a child finds its bulk lane on: the stdio slot after the channel's fd 4. */
export const LANE_FD = 5;
/**
 * How a parent tells its child where the lane is: `<fd>:<region size>:<parent pid>`. The child removes it from its
 * environment; the pid keeps a grandchild that inherited both the variable and fd 5 from taking its parent's lane.
 */
const LANE_ENV = 'FDPIPE_LANE';
/** Set to 1 in the parent's environment, children are forked without a lane. */
const NO_LANE_ENV = 'FDPIPE_NO_BULK_LANE';
/** Shared memory: a lane in a disk-backed directory would be written back to the disk. */
const SHARED_MEMORY_DIR = '/dev/shm';

/** A lane file made for a child about to be forked. */
interface PreparedLane {
  readonly fd: number;
  /** For the child's environment. */
  readonly env: Record<string, string>;
}

/** What a child's stdio array holds. */
export type StdioEntry = IOType | 'ipc' | Stream | number | null | undefined | StdioNull | StdioPipe;

/**
 * Starts a child with a bulk lane on fd 5 when `withLane` and one can be made (see prepareLane), else as it is:
 * `start` gets the environment and stdio to start it with, the lane's added. The parent's end then waits for the
 * channel to the child (takeLane); a start that throws or fails closes it.
 */
export function startWithLane(
  withLane: boolean,
  env: NodeJS.ProcessEnv | undefined,
  stdio: StdioEntry[],
  start: (env: NodeJS.ProcessEnv | undefined, stdio: StdioEntry[]) => ChildProcess,
): ChildProcess {
  const lane = withLane ? prepareLane() : undefined;
  if (lane === undefined) return start(env, stdio);
  let child: ChildProcess;
  try {
    child = start({ ...(env ?? process.env), ...lane.env }, [...stdio, lane.fd]);
  } catch (error) {
    closeSync(lane.fd);
    throw error;
  }
  if (child.pid === undefined) closeSync(lane.fd);
  else forChild.set(child, lane.fd);
  return child;
}

const forChild = new WeakMap<ChildProcess, number>();

/**
 * Makes a lane file for a child about to be forked: unlinked at once, so it lives only while a process holds it
 * open. Undefined where there is no shared memory to put it in (not Linux, no writable /dev/shm) or lanes are off;
 * the child is then forked as before, and everything goes through the pipe.
 */
function prepareLane(): PreparedLane | undefined {
  if (process.platform !== 'linux' || process.env[NO_LANE_ENV] === '1') return undefined;
  let fd: number | undefined;
  try {
    const path = join(SHARED_MEMORY_DIR, `fdpipe-lane-${process.pid}-${randomBytes(6).toString('hex')}`);
    fd = openSync(path, 'wx+', 0o600);
    unlinkSync(path);
    // Sparse: memory is taken only as messages are written, and then reused.
    ftruncateSync(fd, 2 * LANE_REGION_SIZE);
    return { fd, env: { [LANE_ENV]: `${LANE_FD}:${LANE_REGION_SIZE}:${process.pid}` } };
  } catch {
    if (fd !== undefined) closeSync(fd);
    return undefined;
  }
}

/** The parent's end of the lane `child` was forked with, once (the channel to the child owns it). */
export function takeLane(child: ChildProcess): BulkLane | undefined {
  const fd = forChild.get(child);
  if (fd === undefined) return undefined;
  forChild.delete(child);
  return new BulkLane(fd, LANE_REGION_SIZE, 'maker', false);
}

/**
 * In a child: the lane its parent forked it with, if the environment names one and the descriptor is that file.
 * The name is removed from the environment, so the child's own children do not take fd 5 for a lane.
 */
export function laneFromEnvironment(): BulkLane | undefined {
  const named = process.env[LANE_ENV];
  if (named === undefined) return undefined;
  delete process.env[LANE_ENV];
  const match = /^(\d+):(\d+):(\d+)$/.exec(named);
  if (match === null || Number(match[3]) !== process.ppid) return undefined;
  const fd = Number(match[1]);
  const regionSize = Number(match[2]);
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile() || stat.size !== 2 * regionSize) return undefined;
  } catch {
    return undefined;
  }
  return new BulkLane(fd, regionSize, 'joiner', true);
}
