import type { ChildProcess } from 'child_process';
import { readFileSync } from 'fs';

function hasExited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

/** SIGKILLs every child that is still running and waits until each has exited; empties the set. */
export async function killAll(children: Set<ChildProcess>): Promise<void> {
  const running = [...children].filter((child) => !hasExited(child));
  children.clear();
  await Promise.all(
    running.map(
      (child) =>
        new Promise<void>((resolve) => {
          if (hasExited(child)) return resolve();
          child.once('exit', () => resolve());
          child.kill('SIGKILL');
        }),
    ),
  );
}

/**
 * Whether a process that is not our child still runs. A reparented process that has exited can linger as a zombie
 * until its new parent reaps it; that counts as gone.
 */
export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    // The state is the field after the parenthesised command name.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return true;
  }
}

/** Kills a process that is not our child, if it still runs. */
export function killPid(pid: number | undefined): void {
  if (pid === undefined || !isRunning(pid)) return;
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // Gone in the meantime.
  }
}
