'use strict';
// The pipe suite: fdpipe's BinaryMessagePipe and IPCChannel against raw fd-4 bytes (the ceiling, with the
// bench's own minimal framing) and Node's built-in IPC ('json' and 'advanced'), each peer over its own forked
// child, all measured in the same run.
//
// Every implementation runs the same scenario code (lib/transports.js gives them one interface). The scenarios are
// interleaved: each round runs every scenario for every implementation, starting with a different implementation
// each round, so a noisy stretch on the shared machine hits everyone alike. Before the rounds, each
// (scenario, implementation) pair is warmed up and calibrated, so each measurement lasts about opts.budgetMs;
// within a round, a scenario's work is cut into slices and the peers' slices alternate (see scenarios()).

const path = require('path');
const { canPin, pinnedTogether } = require('../lib/affinity');
const { IMPLS } = require('../lib/transports');
const { kill, nextMessage, rejectOnExit } = require('../lib/child');
const { median, percentileOfSorted, sortedCopy } = require('../lib/stats');
const { nowNs, withTimeout } = require('../lib/timing');

const WORKER = path.join(__dirname, '..', 'workers', 'pipe-peer.js');
const BASELINE = 'raw';
const IMPL_ORDER = ['raw', 'raw-stream', 'pipe', 'channel', 'node-json', 'node-advanced'];
const FDPIPE_IMPLS = new Set(['pipe', 'channel']);
/** Implementations that cannot keep message boundaries, so they only take part in byte-count scenarios. */
const STREAM_ONLY = new Set(['raw-stream']);
const MiB = 1024 * 1024;
const SMALL = 32;
const WINDOW = 1000;
/** No single measurement may take longer than this; a stalled transport fails the bench instead of hanging it. */
const STEP_TIMEOUT_MS = 60_000;

/** The parent's end of one forked peer. */
class Peer {
  constructor(impl) {
    this.impl = impl;
    const { child, transport } = IMPLS[impl].fork(WORKER, [impl]);
    this.child = child;
    this.transport = transport;
    this.dead = rejectOnExit(child, impl);
    this.handler = (bytes) => {
      this.failure = new Error(`${impl}: unexpected ${bytes.length}-byte message`);
    };
    transport.onMessage((bytes) => this.handler(bytes));
  }

  guard(promise, what) {
    return withTimeout(Promise.race([promise, this.dead]), STEP_TIMEOUT_MS, `${this.impl}: ${what}`);
  }

  async ready() {
    await this.guard(nextMessage(this.child, (m) => m && m.cmd === 'ready'), 'worker start');
  }

  async control(command) {
    const answered = nextMessage(this.child, (m) => m && m.cmd === 'ok');
    this.child.send(command);
    await this.guard(answered, `control ${command.cmd}`);
  }

  /** One-way: `count` messages of `payload` to the child, which acknowledges the byte total once. Seconds. */
  async throughput(payload, count) {
    const total = payload.length * count;
    await this.control({ cmd: 'sink', expect: total });
    const ack = new Promise((resolve) => (this.handler = resolve));
    const t = this.transport;
    const started = nowNs();
    const sending = (async () => {
      for (let i = 0; i < count; i++) if (!t.send(payload)) await t.whenWritable();
    })();
    const ackBytes = await this.guard(Promise.all([ack, sending]), `throughput of ${count} × ${payload.length} B`);
    const seconds = (nowNs() - started) / 1e9;
    const acknowledged = ackBytes[0].readDoubleBE(0);
    if (acknowledged !== total) throw new Error(`${this.impl}: child acknowledged ${acknowledged} of ${total} bytes`);
    return seconds;
  }

  /** `total` echoed round trips of `payload` with up to `window` in flight. Seconds. */
  async pipelined(payload, total, window) {
    await this.control({ cmd: 'echo' });
    const t = this.transport;
    let sent = 0;
    let received = 0;
    const done = new Promise((resolve) => {
      this.handler = () => {
        received++;
        if (sent < total) {
          sent++;
          t.send(payload);
        } else if (received === total) {
          resolve();
        }
      };
    });
    const started = nowNs();
    const initial = Math.min(window, total);
    for (; sent < initial; sent++) t.send(payload);
    await this.guard(done, `pipelined ${total} × ${payload.length} B`);
    return (nowNs() - started) / 1e9;
  }

  /** `count` sequential round trips of `payload`; each round trip's time in µs. */
  async pingpong(payload, count) {
    await this.control({ cmd: 'echo' });
    const t = this.transport;
    const samples = new Float64Array(count);
    let resolveEcho;
    this.handler = () => resolveEcho();
    const run = async () => {
      for (let i = 0; i < count; i++) {
        const echoed = new Promise((resolve) => (resolveEcho = resolve));
        const started = nowNs();
        t.send(payload);
        await echoed;
        samples[i] = (nowNs() - started) / 1e3;
      }
    };
    await this.guard(run(), `ping-pong ${count} × ${payload.length} B`);
    return samples;
  }

  async close() {
    await kill(this.child);
  }
}

function fdpipeTargets(...targets) {
  return (impl) => (FDPIPE_IMPLS.has(impl) ? targets : undefined);
}

/**
 * Each scenario: how to measure a part of it with `count` units of work (`measure` returns the part: at least the
 * seconds it took), how to turn a round's parts into the value of each metric (`combine`), the count for the
 * warm-up runs, the bounds for the calibrated count, and into how many slices a round's work is cut (`slices`).
 * Slices of all peers alternate, so every peer samples the same stretch of time: this matters for latency on a
 * shared 2-core machine, where a round trip takes ~20 µs while a core is free and ~70 µs when it is not.
 */
function scenarios() {
  const payload1M = Buffer.alloc(MiB, 0xa5);
  const payload64M = Buffer.alloc(64 * MiB, 0x5a);
  const small = Buffer.alloc(SMALL, 0x33);
  const rate = (parts, perUnit) => {
    let units = 0;
    let seconds = 0;
    for (const part of parts) {
      units += part.count * perUnit;
      seconds += part.seconds;
    }
    return units / seconds;
  };
  const throughput = (payload) => ({
    measure: async (peer, count) => ({ count, seconds: await peer.throughput(payload, count) }),
    combine: (parts) => ({ rate: rate(parts, payload.length / MiB) }),
  });
  return [
    {
      id: 'throughput-1MiB',
      warmCount: 32,
      minCount: 8,
      maxCount: 8192,
      slices: 4,
      ...throughput(payload1M),
      metrics: [
        {
          key: 'rate',
          scenario: 'throughput 1 MiB',
          unit: 'MiB/s',
          higherIsBetter: true,
          targets: fdpipeTargets({ vs: 'raw', atLeast: 0.7 }, { vs: 'node-advanced', atLeast: 3 }),
        },
      ],
    },
    {
      id: 'throughput-64MiB',
      warmCount: 1,
      minCount: 4,
      maxCount: 32,
      slices: 1,
      ...throughput(payload64M),
      metrics: [
        {
          key: 'rate',
          scenario: 'throughput 64 MiB',
          unit: 'MiB/s',
          higherIsBetter: true,
          targets: fdpipeTargets({ vs: 'raw', atLeast: 0.7 }),
        },
      ],
    },
    {
      id: 'pipelined-32B',
      needsBoundaries: true,
      warmCount: 20_000,
      minCount: 10_000,
      maxCount: 10_000_000,
      slices: 4,
      measure: async (peer, count) => ({ count, seconds: await peer.pipelined(small, count, WINDOW) }),
      combine: (parts) => ({ rate: rate(parts, 1) }),
      metrics: [
        {
          key: 'rate',
          scenario: `pipelined 32 B, window ${WINDOW}`,
          unit: 'msg/s',
          higherIsBetter: true,
          targets: fdpipeTargets({ vs: 'raw', atLeast: 0.5 }),
        },
      ],
    },
    {
      id: 'pingpong-32B',
      needsBoundaries: true,
      // Latency: parent and workers share one CPU while this runs (see lib/affinity.js), unless --no-pin.
      pinToOneCpu: true,
      warmCount: 500,
      minCount: 1000,
      maxCount: 20_000,
      slices: 10,
      measure: async (peer, count) => {
        const samples = await peer.pingpong(small, count);
        let seconds = 0;
        for (const sample of samples) seconds += sample / 1e6;
        return { count, seconds, samples };
      },
      combine: (parts) => {
        const sorted = sortedCopy(parts.flatMap((part) => Array.from(part.samples)));
        return { p50: percentileOfSorted(sorted, 50), p99: percentileOfSorted(sorted, 99) };
      },
      metrics: [
        {
          key: 'p50',
          scenario: 'ping-pong 32 B, p50',
          unit: 'µs',
          higherIsBetter: false,
          targets: fdpipeTargets({ vs: 'raw', atMost: 1.2 }),
        },
        { key: 'p99', scenario: 'ping-pong 32 B, p99', unit: 'µs', higherIsBetter: false },
      ],
    },
  ];
}

/**
 * How many units of work make one measurement last about `budgetSeconds`: at least scenario.minCount, so a short
 * measurement still averages over a few units, unless that would take more than SLOW_CAP budgets (a very slow peer,
 * such as Node's 'json' IPC with 64 MiB messages, then does what fits in that time, at least one unit).
 */
const SLOW_CAP = 4;
function calibratedCount(scenario, secondsPerUnit, budgetSeconds) {
  const perUnit = Math.max(secondsPerUnit, 1e-9);
  let count = Math.max(scenario.minCount, Math.round(budgetSeconds / perUnit));
  if (count * perUnit > SLOW_CAP * budgetSeconds) count = Math.max(1, Math.floor((SLOW_CAP * budgetSeconds) / perUnit));
  return Math.min(scenario.maxCount, count);
}

/** The share of `count` units that slice `slice` of `slices` does (the shares add up to `count`). */
function sliceCount(count, slices, slice) {
  return Math.floor((count * (slice + 1)) / slices) - Math.floor((count * slice) / slices);
}

async function run(opts) {
  const log = opts.log ?? (() => {});
  const rounds = opts.rounds;
  const budgetSeconds = opts.budgetMs / 1000;
  const impls = IMPL_ORDER.filter((impl) => !opts.impls || opts.impls.includes(impl) || impl === BASELINE);
  const list = scenarios().filter((s) => !opts.scenarios || opts.scenarios.some((f) => s.id.includes(f)));

  const implsFor = (scenario) => impls.filter((impl) => !(scenario.needsBoundaries && STREAM_ONLY.has(impl)));

  const pin = opts.pin !== false && canPin();
  const peers = new Map();
  // Runs fn with the parent and every worker on one CPU if the scenario asks for it and pinning is possible.
  const placed = (scenario, fn) =>
    pin && scenario.pinToOneCpu
      ? pinnedTogether([process.pid, ...[...peers.values()].map((peer) => peer.child.pid)], fn)
      : fn();
  try {
    for (const impl of impls) peers.set(impl, new Peer(impl));
    await Promise.all([...peers.values()].map((peer) => peer.ready()));

    // Warm up (JIT, socket buffers, allocator) and size each measurement to the time budget.
    const counts = {};
    for (const scenario of list) {
      counts[scenario.id] = {};
      await placed(scenario, async () => {
        for (const impl of implsFor(scenario)) {
          const peer = peers.get(impl);
          await scenario.measure(peer, scenario.warmCount);
          const { seconds } = await scenario.measure(peer, scenario.warmCount);
          counts[scenario.id][impl] = calibratedCount(scenario, seconds / scenario.warmCount, budgetSeconds);
        }
      });
      log(`  calibrated ${scenario.id}: ${Object.entries(counts[scenario.id]).map(([i, n]) => `${i} ${n}`).join(', ')}`);
    }

    // samples[scenarioId][metricKey][impl] = one value per round, in round order
    const samples = {};
    for (const scenario of list) {
      samples[scenario.id] = {};
      for (const metric of scenario.metrics) {
        samples[scenario.id][metric.key] = Object.fromEntries(implsFor(scenario).map((impl) => [impl, []]));
      }
    }
    for (let round = 0; round < rounds; round++) {
      const started = Date.now();
      for (const scenario of list) {
        const own = implsFor(scenario);
        const order = own.map((_, i) => own[(i + round) % own.length]);
        const parts = Object.fromEntries(own.map((impl) => [impl, []]));
        await placed(scenario, async () => {
          for (let slice = 0; slice < scenario.slices; slice++) {
            for (const impl of order) {
              const count = sliceCount(counts[scenario.id][impl], scenario.slices, slice);
              if (count > 0) parts[impl].push(await scenario.measure(peers.get(impl), count));
            }
          }
        });
        for (const impl of own) {
          const values = scenario.combine(parts[impl]);
          for (const metric of scenario.metrics) samples[scenario.id][metric.key][impl].push(values[metric.key]);
        }
      }
      log(`  round ${round + 1}/${rounds} done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    }
    for (const peer of peers.values()) {
      if (peer.failure) throw peer.failure;
    }

    const rows = [];
    for (const scenario of list) {
      for (const metric of scenario.metrics) {
        for (const impl of implsFor(scenario)) {
          const values = samples[scenario.id][metric.key][impl];
          rows.push({
            scenario: metric.scenario,
            impl,
            value: median(values),
            unit: metric.unit,
            higherIsBetter: metric.higherIsBetter,
            baselineImpl: BASELINE,
            samples: values,
            count: counts[scenario.id][impl],
            targets: metric.targets ? metric.targets(impl) : undefined,
          });
        }
      }
    }
    return {
      rows,
      config: {
        rounds,
        budgetMs: opts.budgetMs,
        window: WINDOW,
        latencyOnOneCpu: pin,
        smallMessageBytes: SMALL,
        impls: Object.fromEntries(impls.map((impl) => [impl, IMPLS[impl].description])),
      },
    };
  } finally {
    await Promise.all([...peers.values()].map((peer) => peer.close()));
  }
}

module.exports = {
  name: 'pipe',
  description: 'fdpipe BinaryMessagePipe and IPCChannel vs raw fd-4 bytes and Node IPC, each over a forked child',
  run,
};
