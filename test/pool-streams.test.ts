// A task whose result or argument is a stream is not over at its reply: the stream still flows from (or to) its
// worker. Such a task keeps its slot, and its worker, until the stream has ended.
import { poolsClosedAfterEach } from './helpers/pools';
import { until } from './helpers/wait';

const pool = poolsClosedAfterEach();

const pause = () => new Promise((resolve) => setTimeout(resolve, 2));
const upTo = (n: number) => Array.from({ length: n }, (_, i) => i);

// 40 chunks of 256 KiB: the stream window (1 MiB) lets the worker run at most a few chunks ahead of the reader, so
// for the first 30 chunks read, the worker has not finished the stream.
const CHUNKS = 40;
const CHUNK = 256 * 1024;
const EARLY = 30;

/** Reads the chunks slowly; each becomes its fill byte (-1 for a chunk of the wrong size or fill). */
async function readSlowly(stream: AsyncIterable<Uint8Array>, each?: () => void): Promise<number[]> {
  const items: number[] = [];
  for await (const chunk of stream) {
    const whole = chunk.byteLength === CHUNK && chunk.every((byte) => byte === chunk[0]);
    items.push(whole ? chunk[0] : -1);
    each?.();
    await pause();
  }
  return items;
}

test('a stream result is read whole from an isolated worker, which leaves only once the stream has ended', async () => {
  const p = pool({ maxWorkers: 1, isolateWorkers: true });
  const stream = await p.run<AsyncIterable<Uint8Array>>('chunks', [CHUNKS, CHUNK]);
  const seen: Array<{ running: number; completed: number; workers: number }> = [];
  const items = await readSlowly(stream, () => {
    const { running, completed, workers } = p.stats;
    seen.push({ running, completed, workers });
  });
  expect(items).toEqual(upTo(CHUNKS));
  // Until its end came, the task was running, not completed, and its worker was not let go.
  expect(seen.slice(0, EARLY)).toEqual(Array(EARLY).fill({ running: 1, completed: 0, workers: 1 }));
  expect(p.stats).toMatchObject({ running: 0, completed: 1, failed: 0 });
});

test('close() waits for a stream result still being read, which arrives whole', async () => {
  const p = pool({ maxWorkers: 1 });
  const stream = await p.run<AsyncIterable<Uint8Array>>('chunks', [CHUNKS, CHUNK]);
  let closed = false;
  const closing = p.close().then(() => (closed = true));
  const seen: boolean[] = [];
  const items = await readSlowly(stream, () => seen.push(closed));
  expect(items).toEqual(upTo(CHUNKS));
  expect(seen.slice(0, EARLY)).toEqual(Array(EARLY).fill(false));
  await closing;
  expect(p.stats).toMatchObject({ running: 0, completed: 1, failed: 0 });
});

test('a short idleTimeout does not take the worker of a stream still being read', async () => {
  const p = pool({ minWorkers: 0, maxWorkers: 1, idleTimeout: 1 });
  const stream = await p.run<AsyncIterable<Uint8Array>>('chunks', [CHUNKS, CHUNK]);
  expect(await readSlowly(stream)).toEqual(upTo(CHUNKS));
  expect(p.stats).toMatchObject({ running: 0, completed: 1, failed: 0 });
});

test('a consumer that breaks out of the stream gives the slot back: the next task runs', async () => {
  const p = pool({ maxWorkers: 1, concurrentTasksPerWorker: 1 });
  const stream = await p.run<AsyncIterable<number>>('count', [100_000]);
  let next: Promise<number> | undefined;
  const queuedWhileReading: number[] = [];
  for await (const n of stream) {
    if (n === 0) next = p.run<number>('add', [1, 2]);
    else queuedWhileReading.push(p.stats.queued);
    if (n === 5) break;
  }
  // The stream held the worker's only slot: the task waited for it.
  expect(queuedWhileReading).toEqual([1, 1, 1, 1, 1]);
  expect(await next).toBe(3);
  expect(p.stats).toMatchObject({ running: 0, queued: 0, completed: 2, failed: 0 });
});

test('a task that reads its stream argument after replying keeps its worker until the stream is read', async () => {
  const p = pool({ maxWorkers: 1, isolateWorkers: true });
  let ended = false;
  async function* numbers() {
    for (let i = 0; i < 200; i++) {
      await new Promise((resolve) => setImmediate(resolve));
      yield i;
    }
    ended = true;
  }
  expect(await p.run<number>('drainLater', [numbers()])).toBeGreaterThan(0);
  await until(() => p.stats.running === 0, 'the stream argument to be read');
  expect(ended).toBe(true);
  expect(p.stats).toMatchObject({ running: 0, completed: 1, failed: 0 });
});

test('a task whose stream result fails after a good reply counts as failed, not completed', async () => {
  const p = pool({ maxWorkers: 1 });
  const stream = await p.run<AsyncIterable<number>>('countThenFail', [3, 'the source broke']);
  const read: number[] = [];
  await expect(
    (async () => {
      for await (const n of stream) read.push(n);
    })(),
  ).rejects.toThrow('the source broke');
  expect(read).toEqual([0, 1, 2]);
  await until(() => p.stats.running === 0, 'the slot to come back');
  expect(p.stats).toMatchObject({ completed: 0, failed: 1 });
  // A stream read to its end still counts as completed.
  for await (const _n of await p.run<AsyncIterable<number>>('count', [3]));
  await until(() => p.stats.running === 0, 'the slot to come back');
  expect(p.stats).toMatchObject({ completed: 1, failed: 1 });
});

test('a task whose stream argument is cut by its worker dying after a good reply counts as failed', async () => {
  const p = pool({ maxWorkers: 1 });
  let produced = 0;
  let stop = false;
  async function* numbers() {
    while (!stop) {
      await new Promise((resolve) => setImmediate(resolve));
      yield produced++;
    }
  }
  const pid = await p.run<number>('drainLater', [numbers()]);
  await until(() => produced > 10, 'the worker to read its stream');
  process.kill(pid, 'SIGKILL');
  await until(() => p.stats.running === 0, 'the slot to come back');
  stop = true;
  expect(p.stats).toMatchObject({ completed: 0, failed: 1 });
});

test('a stream that failed before a good reply, which the task handled, leaves the task completed', async () => {
  const p = pool({ maxWorkers: 1 });
  async function* numbers() {
    yield 1;
    yield 2;
    throw new RangeError('the producer broke');
  }
  expect(await p.run<number>('sumOrMinusOne', [numbers()])).toBe(-1);
  await until(() => p.stats.running === 0, 'the slot to come back');
  expect(p.stats).toMatchObject({ completed: 1, failed: 0 });
});
