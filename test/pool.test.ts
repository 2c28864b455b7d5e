import { fork, type ChildProcess } from 'child_process';
import { join } from 'path';
import { pathToFileURL } from 'url';
import {
  AbortError,
  MethodNotFoundError,
  PoolClosedError,
  QueueFullError,
  TaskAbortedError,
  TaskTimeoutError,
  TimeoutError,
  WorkerExitedError,
  WorkerModuleError,
  WorkerPool,
  type UnresponsiveWorkerEvent,
} from '../src';
import { POOL_WORKER, poolsClosedAfterEach } from './helpers/pools';
import { isRunning, killAll, killPid } from './helpers/processes';
import { next, until } from './helpers/wait';

/** What test/fixtures/pool-worker.js exports. */
interface PoolWorkerModule {
  add(a: number, b: number): number;
  echo<T>(value: T): T;
  pid(): number;
  work(n: number): Promise<{ n: number; pid: number }>;
  waitForAbort(tag: string, signal?: AbortSignal): Promise<string>;
  wasAborted(tag: string): boolean;
  fail(message: string): never;
}

const WORKER = POOL_WORKER;
const children = new Set<ChildProcess>();
const strayPids = new Set<number>();

/** A pool of the test module whose stderr stays out of the test output; closed (forcibly) after each test. */
const pool = poolsClosedAfterEach();

afterEach(async () => {
  await killAll(children);
  for (const pid of strayPids) killPid(pid);
  strayPids.clear();
});

async function settled<T>(promise: Promise<T>): Promise<{ value?: T; error?: any }> {
  try {
    return { value: await promise };
  } catch (error) {
    return { error };
  }
}

describe('WorkerPool', () => {
  test('runs the exported functions of a CommonJS module, typed through proxy(), values of all kinds', async () => {
    const p = pool({ maxWorkers: 2 });
    const remote = p.proxy<PoolWorkerModule>();
    expect(await p.run('add', [2, 3])).toBe(5);
    expect(await remote.add(4, 5)).toBe(9);
    const value = { bytes: new Uint8Array([1, 2, 3]), map: new Map([['k', new Set([1n << 70n])]]), when: new Date(7) };
    expect(await remote.echo(value)).toEqual(value);
    const error = (await settled(remote.fail('bad input'))).error;
    expect(error).toBeInstanceOf(RangeError);
    expect(error.message).toBe('bad input');
    const missing = (await settled(p.run('nope'))).error;
    expect(missing).toBeInstanceOf(MethodNotFoundError);
    expect(missing.message).toMatch(/exports no function 'nope' \(it exports: add, echo/);
  });

  test('streams pass through the pool: an AsyncIterable as a result and as an argument', async () => {
    const p = pool({ maxWorkers: 2 });
    const counted: number[] = [];
    for await (const n of await p.run<AsyncIterable<number>>('count', [5])) counted.push(n);
    expect(counted).toEqual([0, 1, 2, 3, 4]);
    async function* numbers() {
      for (let i = 1; i <= 100; i++) yield i;
    }
    expect(await p.run('sum', [numbers()])).toBe(5050);
  });

  test('ES modules by path or URL, a default export object, and TypeScript through a --require hook', async () => {
    const esm = pool({ maxWorkers: 1 }, pathToFileURL(join(__dirname, 'fixtures', 'pool-worker.mjs')));
    expect(await esm.run('add', [1, 2])).toBe(3);
    expect(await esm.run('kind')).toBe('esm');
    const ts = pool(
      { maxWorkers: 1, execArgv: ['--require', join(__dirname, 'fixtures', 'register-ts.js')] },
      join(__dirname, 'fixtures', 'pool-worker-ts.ts'),
    );
    expect(await ts.proxy<typeof import('./fixtures/pool-worker-ts')>().greet('pool')).toBe('hello pool');
  });

  test('a module that fails to load: each task rejects with WorkerModuleError, no restart', async () => {
    const p = pool({ maxWorkers: 1 }, join(__dirname, 'fixtures', 'pool-broken.js'));
    const error = (await settled(p.run('anything'))).error;
    expect(error).toBeInstanceOf(WorkerModuleError);
    expect(error.message).toMatch(/could not load the pool's module .*pool-broken\.js: broken on purpose/);
    expect((await settled(p.run('again'))).error).toBeInstanceOf(WorkerModuleError);
    expect(p.stats.replacedWorkers).toBe(0);
  });

  test('wrong input gets clear errors', async () => {
    expect(() => new WorkerPool(join(__dirname, 'fixtures', 'no-such-module.js'))).toThrow(/there is no module at/);
    expect(() => new WorkerPool(WORKER, { minWorkers: 3, maxWorkers: 2 })).toThrow(RangeError);
    const p = pool({ maxWorkers: 1 });
    expect((await settled(p.run('add', 1 as any))).error.message).toMatch(/pass the arguments as an array/);
  });

  test('spreads tasks over the workers, least busy first, and reports stats', async () => {
    const p = pool({ maxWorkers: 2, concurrentTasksPerWorker: 4 });
    const tasks = Array.from({ length: 400 }, (_, n) => p.run<{ n: number; pid: number }>('work', [n]));
    const results = await Promise.all(tasks);
    expect(results.map((r) => r.n)).toEqual(Array.from({ length: 400 }, (_, n) => n));
    expect(new Set(results.map((r) => r.pid)).size).toBe(2);
    const stats = p.stats;
    expect(stats).toMatchObject({ workers: 2, idleWorkers: 2, queued: 0, running: 0, completed: 400, failed: 0 });
    expect(stats.runTime.p50).toBeGreaterThan(0);
    expect(stats.runTime.p99).toBeGreaterThanOrEqual(stats.runTime.p50);
    expect(stats.waitTime.max).toBeGreaterThan(0);
  });

  test('by default a worker holds as many tasks as its recent ones allow: long tasks two at a time', async () => {
    const p = pool({ maxWorkers: 1 });
    // Each of these takes 5 ms or more in the worker.
    for (let i = 0; i < 4; i++) await p.run('spin', [5]);
    const tasks = Array.from({ length: 10 }, () => p.run('spin', [5]));
    expect(p.stats).toMatchObject({ running: 2, queued: 8 });
    expect(await Promise.all(tasks)).toEqual(new Array(10).fill('spun'));
  });

  test('thousands of tasks, workers SIGKILLed at random: every task settles once, failures name it', async () => {
    const p = pool({ maxWorkers: 3, concurrentTasksPerWorker: 8, retries: 50 });
    const total = 3000;
    const outcomes = new Array<number>(total).fill(0);
    const wrongResults: Array<{ n: number; result: unknown }> = [];
    const idempotentFailures: unknown[] = [];
    const errors: Error[] = [];
    // A SIGKILLed worker stays in p.pids until the pool reads the end of its pipe, which on a loaded machine can
    // come after many more settled tasks: killing only pids not killed before makes each kill a worker's death.
    const killed = new Set<number>();
    let finished = 0;
    await new Promise<void>((resolve) => {
      const done = (n: number) => {
        outcomes[n]++;
        // A worker dies every 150 settled tasks (as soon after as there is one not yet killed), with tasks in flight.
        if (++finished >= 150 * (killed.size + 1) && killed.size < 12) {
          const pids = p.pids.filter((pid) => !killed.has(pid));
          const victim = pids[Math.floor(Math.random() * pids.length)];
          if (victim !== undefined) {
            killed.add(victim);
            process.kill(victim, 'SIGKILL');
          }
        }
        if (finished === total) resolve();
      };
      for (let n = 0; n < total; n++) {
        const idempotent = n % 2 === 0;
        // No expect() in here: a throw would only leave the task uncounted, and the test to time out.
        p.run<{ n: number }>('work', [n], { idempotent }).then(
          (result) => {
            if (result.n !== n) wrongResults.push({ n, result });
            done(n);
          },
          (error) => {
            if (idempotent) idempotentFailures.push(error);
            else errors.push(error);
            done(n);
          },
        );
      }
    });
    expect(outcomes.every((count) => count === 1)).toBe(true);
    expect(wrongResults).toEqual([]);
    expect(idempotentFailures).toEqual([]);
    expect(killed.size).toBe(12);
    expect(errors.length).toBeGreaterThan(0);
    for (const error of errors) {
      expect(error).toBeInstanceOf(WorkerExitedError);
      expect(error.message).toMatch(/^The task 'work' \(#\d+\) failed: its worker \(pid \d+\) was killed by SIGKILL/);
      expect(error.message).toMatch(/mark a task idempotent/);
      expect((error as WorkerExitedError).signal).toBe('SIGKILL');
    }
    // Each death is counted once, as soon as the pool has seen it.
    await until(() => !p.pids.some((pid) => killed.has(pid)), 'the pool to see every killed worker go');
    expect(p.stats).toMatchObject({
      replacedWorkers: 12,
      completed: total - errors.length,
      failed: errors.length,
      running: 0,
      queued: 0,
    });
    // The pool goes on with fresh workers.
    expect(await p.run('add', [1, 1])).toBe(2);
  });

  test('a crash names the task, the exit code and the tail of stderr; only that worker is replaced', async () => {
    const p = pool({ maxWorkers: 2, concurrentTasksPerWorker: 1 });
    const crashed = await settled(p.run('crash', [3, 'out of cheese']));
    const error = crashed.error as WorkerExitedError;
    expect(error).toBeInstanceOf(WorkerExitedError);
    expect(error.exitCode).toBe(3);
    expect(error.stderrTail).toContain('out of cheese');
    expect(error.message).toMatch(/The task 'crash' \(#1\) failed: its worker \(pid \d+\) exited with code 3\./);
    expect(error.message).toMatch(/The worker's stderr ended with:\nout of cheese$/);
    expect(await p.run('add', [1, 2])).toBe(3);
  });

  test('retries only the tasks marked idempotent', async () => {
    const p = pool({ maxWorkers: 1, retries: 2 });
    const first = await p.run<number>('pid');
    const plain = p.run('spin', [10_000]);
    const retried = p.run('work', [7], { idempotent: true });
    process.kill(first, 'SIGKILL');
    expect((await settled(plain)).error).toBeInstanceOf(WorkerExitedError);
    expect(await retried).toMatchObject({ n: 7 });
  });

  test('cancellation fires the signal in the worker; a queued aborted task never starts', async () => {
    // A generous cancelGrace: the worker stops on its own, however loaded the machine.
    const p = pool({ maxWorkers: 1, concurrentTasksPerWorker: 1, cancelGrace: 30_000 });
    const controller = new AbortController();
    const running = p.run('waitForAbort', ['first'], { signal: controller.signal });
    const queuedController = new AbortController();
    const queued = p.run('mark', ['never'], { signal: queuedController.signal });
    queuedController.abort();
    const queuedError = (await settled(queued)).error;
    expect(queuedError).toBeInstanceOf(TaskAbortedError);
    expect(queuedError).toBeInstanceOf(AbortError);
    expect(queuedError.message).toMatch(/before it started: it never ran/);
    controller.abort(new Error('enough'));
    const runningError = (await settled(running)).error;
    expect(runningError).toBeInstanceOf(TaskAbortedError);
    expect(runningError.cause).toEqual(new Error('enough'));
    // One worker, one task at a time: these run after the cancelled task gave its slot back.
    expect(await p.run('wasAborted', ['first'])).toBe(true);
    expect(await p.run('marks')).toEqual([]);
    const already = AbortSignal.abort();
    expect((await settled(p.run('mark', ['no'], { signal: already }))).error).toBeInstanceOf(TaskAbortedError);
  });

  test('through the proxy, a signal as the last argument cancels the task', async () => {
    const p = pool({ maxWorkers: 1, cancelGrace: 30_000 });
    const remote = p.proxy<PoolWorkerModule>();
    const controller = new AbortController();
    const call = remote.waitForAbort('via-proxy', controller.signal);
    controller.abort();
    expect((await settled(call)).error).toBeInstanceOf(TaskAbortedError);
    await until(() => p.stats.stopping === 0, 'the cancelled task to stop');
    expect(await remote.wasAborted('via-proxy')).toBe(true);
  });

  test('a timeout cancels the task; a worker that ignores it is killed after cancelGrace, replaced', async () => {
    const p = pool({ maxWorkers: 1, cancelGrace: 50 });
    const firstPid = await p.run<number>('pid');
    const spinning = p.run('spin', [20_000], { timeout: 30 });
    const neighbour = p.run('work', [1]); // same worker, behind the spinning task
    const timedOut = (await settled(spinning)).error;
    expect(timedOut).toBeInstanceOf(TaskTimeoutError);
    expect(timedOut).toBeInstanceOf(TimeoutError);
    expect(timedOut.message).toMatch(/did not settle within its timeout of 30 ms and was cancelled in its worker/);
    const lost = (await settled(neighbour)).error;
    expect(lost).toBeInstanceOf(WorkerExitedError);
    expect(lost.message).toMatch(
      /the pool killed it because task 'spin' \(#2\) was cancelled and had not stopped within cancelGrace \(50 ms\)/,
    );
    const secondPid = await p.run<number>('pid');
    expect(secondPid).not.toBe(firstPid);
    expect(isRunning(firstPid)).toBe(false);
  });

  test('a worker past maxMemory is recycled between tasks', async () => {
    const p = pool({ maxWorkers: 1, maxMemory: 64 * 1024 * 1024 });
    const before = await p.run<number>('pid');
    expect(await p.run('grow', [1])).toBe(before); // well under the limit: same worker
    expect(await p.run('pid')).toBe(before);
    expect(await p.run('grow', [100])).toBe(before); // the task that crosses it still finishes there
    const after = await p.run<number>('pid');
    expect(after).not.toBe(before);
    expect(p.stats.replacedWorkers).toBe(1);
    await until(() => !isRunning(before), 'the recycled worker to exit');
  });

  test('isolateWorkers runs each task in a fresh worker', async () => {
    const p = pool({ maxWorkers: 1, isolateWorkers: true });
    const pids = [await p.run<number>('pid'), await p.run<number>('pid'), await p.run<number>('pid')];
    expect(new Set(pids).size).toBe(3);
  });

  test('a full queue rejects with QueueFullError', async () => {
    const p = pool({ maxWorkers: 1, concurrentTasksPerWorker: 1, maxQueue: 2, cancelGrace: 30_000 });
    const controller = new AbortController();
    const tasks = [
      p.run('waitForAbort', ['hold'], { signal: controller.signal }),
      p.run('add', [1, 1]),
      p.run('add', [2, 2]),
    ];
    const refused = (await settled(p.run('add', [3, 3]))).error;
    expect(refused).toBeInstanceOf(QueueFullError);
    expect(refused.message).toMatch(/2 tasks are already waiting \(maxQueue\)/);
    controller.abort();
    expect((await Promise.allSettled(tasks)).map((r) => r.status)).toEqual(['rejected', 'fulfilled', 'fulfilled']);
  });

  test('close() under load: running tasks finish, queued ones reject, no child and no warning left', async () => {
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => warnings.push(warning);
    process.on('warning', onWarning);
    try {
      const p = pool({ maxWorkers: 2, concurrentTasksPerWorker: 16 });
      await p.run('pid');
      const tasks = Array.from({ length: 500 }, (_, n) => settled(p.run('work', [n])));
      const pids = p.pids;
      const closed = p.close();
      await expect(p.run('add', [1, 1])).rejects.toThrow(PoolClosedError);
      await closed;
      const results = await Promise.all(tasks);
      const done = results.filter((r) => r.value !== undefined);
      const refused = results.filter((r) => r.error !== undefined);
      expect(done.length).toBeGreaterThan(0);
      expect(done.length + refused.length).toBe(500);
      for (const { error } of refused) {
        expect(error).toBeInstanceOf(PoolClosedError);
        expect(error.message).toMatch(/never started: the pool was closed while it waited in the queue/);
      }
      expect(pids.filter(isRunning)).toEqual([]);
      expect(p.stats.workers).toBe(0);
      expect(warnings).toEqual([]);
    } finally {
      process.off('warning', onWarning);
    }
  });

  test('close({ force: true }) stops running tasks', async () => {
    const p = pool({ maxWorkers: 1 });
    const pid = await p.run<number>('pid');
    const running = p.run('spin', [20_000]);
    await p.close({ force: true });
    const error = (await settled(running)).error;
    expect(error).toBeInstanceOf(PoolClosedError);
    expect(error.message).toMatch(/closed with \{ force: true \} while it ran/);
    expect(isRunning(pid)).toBe(false);
    const q = pool({ maxWorkers: 1 });
    const qPid = await q.run<number>('pid');
    await q[Symbol.asyncDispose]();
    expect(q.isClosed).toBe(true);
    expect(isRunning(qPid)).toBe(false);
  });

  test('await using: Symbol.asyncDispose closes the pool in a real Node process', async () => {
    const stdio = ['ignore', 'ignore', 'inherit', 'ipc'] as const;
    const child = fork(join(__dirname, 'fixtures', 'pool-dispose.js'), [WORKER], { stdio: [...stdio] });
    children.add(child);
    const report = await new Promise<{ disposable: boolean; pid: number; closed: boolean }>((resolve) =>
      child.once('message', resolve as never),
    );
    strayPids.add(report.pid);
    expect(report).toMatchObject({ disposable: true, closed: true });
    expect(isRunning(report.pid)).toBe(false);
  });

  test('idle workers leave after idleTimeout, down to minWorkers', async () => {
    const p = pool({ minWorkers: 1, maxWorkers: 2, idleTimeout: 20, concurrentTasksPerWorker: 1 });
    const ran = await Promise.all([p.run<{ pid: number }>('work', [1]), p.run<{ pid: number }>('work', [2])]);
    const pids = ran.map((r) => r.pid);
    expect(new Set(pids).size).toBe(2);
    await until(() => p.stats.workers === 1, 'an idle worker to leave');
    await until(() => pids.filter(isRunning).length === 1, 'the idle worker to exit');
    expect(await p.run('add', [1, 2])).toBe(3);
  });

  test('a blocked worker is reported on onUnresponsive and, if asked, replaced', async () => {
    const p = pool({ maxWorkers: 1, unresponsiveTimeout: 60, replaceUnresponsive: true });
    await p.run('pid');
    const blocked = p.run('spin', [20_000]);
    const event: UnresponsiveWorkerEvent = await next(p.onUnresponsive);
    expect(event).toMatchObject({ running: 1, replaced: true });
    expect(event.silentFor).toBeGreaterThanOrEqual(60);
    const error = (await settled(blocked)).error;
    expect(error).toBeInstanceOf(WorkerExitedError);
    expect(error.message).toMatch(/its event loop had not answered for \d+ ms \(unresponsiveTimeout\)/);
    expect(await p.run('add', [2, 2])).toBe(4);
  });

  test('a parent whose own loop stalls does not blame a healthy worker', async () => {
    const p = pool({ maxWorkers: 1, unresponsiveTimeout: 60, replaceUnresponsive: true });
    const pid = await p.run<number>('pid');
    const reports: UnresponsiveWorkerEvent[] = [];
    p.onUnresponsive((event) => reports.push(event));
    // Block this process again and again, well past unresponsiveTimeout, letting only one turn of the loop run in
    // between: a heartbeat goes out in one turn and is judged in a later one, while its answer waits unread.
    for (let i = 0; i < 12; i++) {
      const until = performance.now() + 150;
      while (performance.now() < until);
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(reports).toEqual([]);
    expect(await p.run<number>('pid')).toBe(pid);
    expect(p.stats.replacedWorkers).toBe(0);
  });

  test('the workers exit when the parent is SIGKILLed', async () => {
    const stdio = ['ignore', 'ignore', 'inherit', 'ipc'] as const;
    const parent = fork(join(__dirname, 'fixtures', 'pool-parent.js'), [WORKER], { stdio: [...stdio] });
    children.add(parent);
    const { pids } = await new Promise<{ pids: number[] }>((resolve) => parent.once('message', resolve as never));
    for (const pid of pids) strayPids.add(pid);
    expect(pids.length).toBe(2);
    expect(pids.every(isRunning)).toBe(true);
    parent.kill('SIGKILL');
    await until(() => !pids.some(isRunning), 'the orphaned workers to exit');
  });
});
