import type { ChildProcess } from 'child_process';
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
export interface PreparedLane {
  readonly fd: number;
  /** For the child's environment. */
  readonly env: Record<string, string>;
}

const forChild = new WeakMap<ChildProcess, number>();

/**
 * Makes a lane file for a child about to be forked: unlinked at once, so it lives only while a process holds it
 * open. Undefined where there is no shared memory to put it in (not Linux, no writable /dev/shm) or lanes are off;
 * the child is then forked as before, and everything goes through the pipe.
 */
export function prepareLane(): PreparedLane | undefined {
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

/**
 * After the fork: the child has its copy of the lane on fd 5, and the parent's end waits for the child's channel
 * (takeLane). A fork that failed to start closes it.
 */
export function attachLane(child: ChildProcess, lane: PreparedLane | undefined): void {
  if (lane === undefined) return;
  if (child.pid === undefined) discardLane(lane);
  else forChild.set(child, lane.fd);
}

/** A lane made for a fork that threw. */
export function discardLane(lane: PreparedLane | undefined): void {
  if (lane !== undefined) closeSync(lane.fd);
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
