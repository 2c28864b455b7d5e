// Cancelling a task whose large argument is still on its way, and what the pool's stats say of a cancelled task
// its worker has not stopped. A forked worker's pipe sends large messages in fragments.
import { TaskAbortedError } from '../src';
import { poolsClosedAfterEach } from './helpers/pools';
import { until } from './helpers/wait';

const pool = poolsClosedAfterEach();

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

// With a smaller task sent after the large argument, it reaches the worker first; the pool's cancel keeps its order
// behind the argument all the same.
test.each([
  ['while its large argument is being sent', false],
  ['after a smaller, later task overtook its large argument', true],
])('a task aborted %s is stopped in its worker, which keeps its other task', async (_when, overtaken) => {
  const p = pool({ maxWorkers: 1, concurrentTasksPerWorker: 3, cancelGrace: 200 });
  const pid = await p.run<number>('pid');
  // Outlives cancelGrace: a worker killed for the aborted task would take it down too.
  const sibling = p.run<number>('slow', [1000]);
  const controller = new AbortController();
  const aborted = p.run('waitForAbort', [new Uint8Array(4 * 1024 * 1024)], { signal: controller.signal });
  await nextTurn();
  const overtaking = overtaken ? p.run<number>('pid') : undefined;
  controller.abort();
  await expect(aborted).rejects.toBeInstanceOf(TaskAbortedError);
  if (overtaking) expect(await overtaking).toBe(pid);
  expect(await sibling).toBe(pid);
  await until(() => p.stats.stopping === 0, 'the aborted task to stop in its worker');
  expect(p.stats.replacedWorkers).toBe(0);
  expect(await p.run<number>('pid')).toBe(pid);
});

test('a cancelled task its worker has not stopped yet counts as stopping, not running', async () => {
  const p = pool({ maxWorkers: 1, cancelGrace: 30_000 });
  await p.run('pid');
  const controller = new AbortController();
  const ignoring = p.run('slow', [300], { signal: controller.signal });
  expect(p.stats).toMatchObject({ running: 1, stopping: 0 });
  controller.abort();
  await expect(ignoring).rejects.toBeInstanceOf(TaskAbortedError);
  expect(p.stats).toMatchObject({ running: 0, stopping: 1 });
  await until(() => p.stats.stopping === 0, 'the worker to give the slot back');
  expect(p.stats).toMatchObject({ running: 0, stopping: 0, idleWorkers: 1, replacedWorkers: 0 });
});
