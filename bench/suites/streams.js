'use strict';
// The streams suite: streams as RPC values between a parent and a forked child over fd 4, each figure against a
// baseline measured in the same run.
//
// - 1 GiB of 64 KiB chunks child → parent through one stream, against the pipe suite's raw 64 MiB throughput
//   (raw bytes over fd 4 with the bench's own framing, parent → child), measured here in the same rounds; and how
//   far each side's RSS rose above where it stood before the stream (peak, sampled every 5 ms).
// - Small items (numbers) through one stream, in items per second, against a goal of a million a second.
// - 100 streams at once over one connection, read concurrently: how far apart they finish, as the spread between
//   the first and the last to finish over the last one's time.
// Rounds interleave the baseline and fdpipe, so a noisy stretch of the shared machine hits both; values are medians.

const path = require('path');
const fdpipe = require('fdpipe');
const { IMPLS } = require('../lib/transports');
const { kill, nextMessage, rejectOnExit, track } = require('../lib/child');
const { median } = require('../lib/stats');
const { nowNs, withTimeout } = require('../lib/timing');

const PIPE_PEER = path.join(__dirname, '..', 'workers', 'pipe-peer.js');
const STREAMS_PEER = path.join(__dirname, '..', 'workers', 'streams-peer.js');
const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
const CHUNK = 64 * 1024;
const STEP_TIMEOUT_MS = 120_000;

/** Raw fd-4 bytes: `count` messages of 64 MiB parent → child, acknowledged once by the child. MiB/s. */
async function rawThroughput(peer, payload, count) {
  const { child, transport } = peer;
  const total = payload.length * count;
  const answered = nextMessage(child, (m) => m && m.cmd === 'ok');
  child.send({ cmd: 'sink', expect: total });
  await answered;
  const ack = new Promise((resolve) => (peer.handler = resolve));
  const started = nowNs();
  for (let i = 0; i < count; i++) if (!transport.send(payload)) await transport.whenWritable();
  await ack;
  return total / MiB / (Number(nowNs() - started) / 1e9);
}

async function startRaw() {
  const { child, transport } = IMPLS.raw.fork(PIPE_PEER, ['raw']);
  const peer = { child, transport, handler: () => {} };
  transport.onMessage((bytes) => peer.handler(bytes));
  await withTimeout(nextMessage(child, (m) => m && m.cmd === 'ready'), STEP_TIMEOUT_MS, 'raw peer start');
  return peer;
}

function startStreams(streamWindow) {
  const { child, channel } = fdpipe.forkWithChannel(STREAMS_PEER, []);
  track(child);
  const rpc = new fdpipe.RpcPeer(channel, streamWindow ? { streamWindow } : {});
  return { child, rpc, source: rpc.proxy('source'), dead: rejectOnExit(child, 'streams peer') };
}

function guard(peer, promise, what) {
  return withTimeout(Promise.race([promise, peer.dead]), STEP_TIMEOUT_MS, what);
}

/** One stream of `total` bytes in 64 KiB chunks; MiB/s and each side's RSS growth in MiB. */
async function byteStream(peer, total) {
  const childBefore = await peer.source.startMemory();
  const parentBefore = process.memoryUsage.rss();
  let parentPeak = parentBefore;
  const sampler = setInterval(() => (parentPeak = Math.max(parentPeak, process.memoryUsage.rss())), 5);
  let received = 0;
  const started = nowNs();
  try {
    for await (const chunk of peer.source.bytes(total, CHUNK)) received += chunk.byteLength;
  } finally {
    clearInterval(sampler);
  }
  const seconds = Number(nowNs() - started) / 1e9;
  parentPeak = Math.max(parentPeak, process.memoryUsage.rss());
  if (received !== total) throw new Error(`the stream brought ${received} of ${total} bytes`);
  const childPeak = await peer.source.peakMemory();
  return {
    rate: total / MiB / seconds,
    parentGrowth: (parentPeak - parentBefore) / MiB,
    childGrowth: (childPeak - childBefore) / MiB,
  };
}

async function itemStream(peer, count) {
  let seen = 0;
  const started = nowNs();
  for await (const item of peer.source.items(count)) {
    if (item !== seen) throw new Error(`item ${seen} arrived as ${item}`);
    seen++;
  }
  return count / (Number(nowNs() - started) / 1e9);
}

/** `streams` streams of `bytesEach` read at once; the spread of their finishing times over the slowest one's. */
async function concurrentStreams(peer, streams, bytesEach) {
  const started = nowNs();
  const finished = await Promise.all(
    Array.from({ length: streams }, async () => {
      let received = 0;
      for await (const chunk of peer.source.bytes(bytesEach, 16 * 1024)) received += chunk.byteLength;
      if (received !== bytesEach) throw new Error(`a stream brought ${received} of ${bytesEach} bytes`);
      return Number(nowNs() - started) / 1e6;
    }),
  );
  const first = Math.min(...finished);
  const last = Math.max(...finished);
  return { spread: (last - first) / last, lastMs: last };
}

function row(scenario, impl, samples, unit, higherIsBetter, baselineImpl, targets) {
  return { scenario, impl, value: median(samples), unit, higherIsBetter, baselineImpl, samples, targets };
}

module.exports = {
  name: 'streams',
  description: 'streams as RPC values: 1 GiB of 64 KiB chunks, small items, 100 at once, against raw fd 4',
  async run(opts) {
    const { rounds, log } = opts;
    const quick = opts.budgetMs < 300;
    const total = quick ? 256 * MiB : GiB;
    const itemCount = quick ? 1_000_000 : 3_000_000;
    const payload = Buffer.alloc(64 * MiB, 0x5a);
    const raw = await startRaw();
    const peer = startStreams();
    const samples = { raw: [], rate: [], parent: [], child: [], items: [], spread: [] };
    try {
      // Warm-up: both code paths compiled, and the baseline RSS taken where a working process stands.
      await rawThroughput(raw, payload, 2);
      await guard(peer, byteStream(peer, 64 * MiB), 'warm-up stream');
      await guard(peer, itemStream(peer, 200_000), 'warm-up items');
      for (let round = 0; round < rounds; round++) {
        samples.raw.push(await rawThroughput(raw, payload, quick ? 4 : 8));
        const bytes = await guard(peer, byteStream(peer, total), `${total / MiB} MiB stream`);
        samples.rate.push(bytes.rate);
        samples.parent.push(bytes.parentGrowth);
        samples.child.push(bytes.childGrowth);
        samples.items.push(await guard(peer, itemStream(peer, itemCount), 'small items'));
        const many = await guard(peer, concurrentStreams(peer, 100, (quick ? 1 : 4) * MiB), '100 streams');
        samples.spread.push(many.spread);
        log(
          `  round ${round + 1}: raw ${Math.round(samples.raw[round])} MiB/s, stream ${Math.round(bytes.rate)} MiB/s ` +
            `(RSS +${bytes.parentGrowth.toFixed(1)} / +${bytes.childGrowth.toFixed(1)} MiB), ` +
            `${(samples.items[round] / 1e6).toFixed(2)} M items/s, 100 streams spread ${(many.spread * 100).toFixed(1)}% ` +
            `of ${Math.round(many.lastMs)} ms`,
        );
      }
    } finally {
      peer.rpc.dispose();
      await Promise.all([kill(raw.child), kill(peer.child)]);
    }
    const bytesScenario = `${total / MiB} MiB stream of 64 KiB chunks, child → parent`;
    const goal = (scenario, value, unit, higherIsBetter) => row(scenario, 'goal', [value], unit, higherIsBetter, 'goal');
    return {
      config: { rounds, total, chunk: CHUNK, items: itemCount, window: fdpipe.DEFAULT_STREAM_WINDOW, concurrent: 100 },
      rows: [
        row(bytesScenario, 'raw 64 MiB', samples.raw, 'MiB/s', true, 'raw 64 MiB'),
        row(bytesScenario, 'fdpipe', samples.rate, 'MiB/s', true, 'raw 64 MiB', [{ vs: 'raw 64 MiB', atLeast: 0.8 }]),
        goal('RSS growth, parent (reader)', 32, 'MiB', false),
        row('RSS growth, parent (reader)', 'fdpipe', samples.parent, 'MiB', false, 'goal', [{ vs: 'goal', atMost: 1 }]),
        goal('RSS growth, child (producer)', 32, 'MiB', false),
        row('RSS growth, child (producer)', 'fdpipe', samples.child, 'MiB', false, 'goal', [{ vs: 'goal', atMost: 1 }]),
        goal('small items through one stream', 1e6, 'items/s', true),
        row('small items through one stream', 'fdpipe', samples.items, 'items/s', true, 'goal', [
          { vs: 'goal', atLeast: 1 },
        ]),
        goal('100 streams at once: finish spread', 0.1, 'of slowest', false),
        row('100 streams at once: finish spread', 'fdpipe', samples.spread, 'of slowest', false, 'goal', [
          { vs: 'goal', atMost: 1 },
        ]),
      ],
    };
  },
};
