// The bulk lane between a parent and the children it forks (PROTOCOL.md, "Bulk lane"): forkWithChannel and the
// worker pool give each child one on fd 5, in /dev/shm; messages of 256 KiB to 2 MiB then go through it.
import type { ChildProcess } from 'child_process';
import * as path from 'path';
import { forkWithChannel, type ForkWithChannelOptions } from '../src';
import { expectSameMessages, pattern } from './helpers/bytes';
import { poolsClosedAfterEach } from './helpers/pools';
import { killAll } from './helpers/processes';
import { until } from './helpers/wait';

const KiB = 1024;
const MiB = 1024 * KiB;

const children = new Set<ChildProcess>();
afterEach(() => killAll(children));

interface LaneReport {
  type: 'lane';
  lane: { open: boolean; sent: number; received: number } | null;
  env: string | null;
}

function startEcho(options: ForkWithChannelOptions = {}) {
  const { child, channel } = forkWithChannel(path.join(__dirname, 'fixtures', 'echo-worker.js'), [], {
    stdin: 'ignore',
    stdout: 'ignore',
    ...options,
  });
  children.add(child);
  const received: Uint8Array[] = [];
  channel.onMessage((read) => received.push(read().sliceAtReadPosition()));
  const reports: Array<{ type: string }> = [];
  child.on('message', (report: { type: string }) => reports.push(report));
  const lane = async (): Promise<LaneReport> => {
    const before = reports.length;
    child.send({ type: 'lane' });
    await until(() => reports.slice(before).some((r) => r.type === 'lane'), "the child's lane report");
    return reports.slice(before).find((r) => r.type === 'lane') as LaneReport;
  };
  return { child, channel, received, lane, ready: until(() => reports.some((r) => r.type === 'ready'), 'the child') };
}

/** Sends each message and waits for its echo before the next, as a caller waiting for replies does. */
async function echoEach(worker: ReturnType<typeof startEcho>, messages: Buffer[]): Promise<void> {
  for (const message of messages) {
    const count = worker.received.length;
    worker.channel.getWriteBuffer().writeRaw(message).commit();
    await until(() => worker.received.length === count + 1, 'the echo');
  }
}

test('a forked child echoes large messages through the lane, intact, and its environment no longer names it', async () => {
  const worker = startEcho();
  await worker.ready;
  await until(() => worker.channel.pipe.bulkLane?.open === true, 'the child to say it reads the lane');
  const messages = [300 * KiB, MiB, 2 * MiB, 5 * MiB, 100].map((size, i) => pattern(size, i));
  await echoEach(worker, [...messages, ...messages]);
  expectSameMessages(worker.received, [...messages, ...messages]);
  // 300 KiB, 1 MiB and 2 MiB, twice each, went through the lane both ways; 5 MiB and 100 bytes through the pipe.
  expect(worker.channel.pipe.bulkLane).toEqual({ open: true, sent: 6, received: 6 });
  const report = await worker.lane();
  expect(report.lane).toEqual({ open: true, sent: 6, received: 6 });
  // A child of the child does not take fd 5 for a lane of its own.
  expect(report.env).toBeNull();
});

test('bulkLane: false forks the child without a lane; the messages go through the pipe', async () => {
  const worker = startEcho({ bulkLane: false });
  await worker.ready;
  const messages = [MiB, 2 * MiB].map((size, i) => pattern(size, i));
  await echoEach(worker, messages);
  expectSameMessages(worker.received, messages);
  expect(worker.channel.pipe.bulkLane).toBeUndefined();
  expect((await worker.lane()).lane).toBeNull();
});

test('FDPIPE_NO_BULK_LANE=1 turns lanes off for every fork', async () => {
  process.env.FDPIPE_NO_BULK_LANE = '1';
  let worker: ReturnType<typeof startEcho>;
  try {
    worker = startEcho();
  } finally {
    delete process.env.FDPIPE_NO_BULK_LANE;
  }
  await worker.ready;
  await echoEach(worker, [pattern(MiB, 1)]);
  expectSameMessages(worker.received, [pattern(MiB, 1)]);
  expect(worker.channel.pipe.bulkLane).toBeUndefined();
});

describe('a worker pool', () => {
  const pool = poolsClosedAfterEach();

  test("echoes bytes of every size through its workers' lanes, intact", async () => {
    const p = pool({ maxWorkers: 2 });
    const sizes = [100, 256 * KiB, 300 * KiB, MiB, 2 * MiB, 3 * MiB];
    for (let round = 0; round < 3; round++) {
      const sent = sizes.map((size, i) => new Uint8Array(pattern(size, i + round)));
      const back = await Promise.all(sent.map((bytes) => p.run<Uint8Array>('echo', [bytes])));
      expectSameMessages(back, sent);
    }
    // Each worker holds its lane on fd 5, a file already unlinked from /dev/shm, and its channel took the lane's name.
    const lane = await p.run<{ file: string | null; env: string | null }>('lane');
    expect(lane.file).toMatch(/^\/dev\/shm\/fdpipe-lane-\d+-[0-9a-f]+ \(deleted\)$/);
    expect(lane.env).toBeNull();
  });
});
