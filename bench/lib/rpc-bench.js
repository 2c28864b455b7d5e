'use strict';
// The RPC scenarios and the loop that runs them, shared by the suites that measure a whole RPC stack (rpc.js:
// libraries compared; transports.js: fdpipe over several transports).
//
// A peer is { description, open() } where open() resolves, once the other end is ready, to a client:
//   { add(a, b), echo(bytes), checksResults, child?, thread?, close?() }
// `child` (a ChildProcess) or `thread` (a worker_threads Worker, see lib/child.js startThread) is watched: its
// exit fails the peer, and it is stopped at the end; close() releases whatever else the peer holds (a listening
// socket, a temp dir). echo resolves with the bytes echoed; checksResults says whether add returns the sum.
//
// Scenarios (see rpcScenarios): sequential add (p50/p99), pipelined add with WINDOW in flight (calls/s), echo of a
// 1 MiB Uint8Array (MiB/s), echo of 64 MiB (ms) and the p99 of adds made while a 64 MiB echo is in flight. Each
// (scenario, peer) is warmed up first; then every round runs each scenario for every peer, rotating which peer goes
// first (sequential calls in SEQ_SLICES turns), so a noisy stretch of the shared machine hits everyone alike.
// Values are medians over rounds.

const { canPin, pinnedTogether } = require('./affinity');
const { kill, rejectOnExit } = require('./child');
const { median, percentileOfSorted, sortedCopy } = require('./stats');
const { nowNs, pipelined, withTimeout } = require('./timing');

const MiB = 1024 * 1024;
const WINDOW = 256;
/** Sequential calls per round at the default 300 ms budget: 5 rounds make 100 000 calls a peer. */
const SEQ_CALLS = 20_000;
/** A pipelined measurement lasts this many budgets, so the fast peers make a few hundred thousand calls. */
const PIPELINED_BUDGETS = 2;
/** The 64 MiB scenarios take seconds for the JSON-based peers: they run in at most this many rounds. */
const BIG_ROUNDS = 3;
/** How often an add call is made while a 64 MiB echo is in flight. */
const ADD_INTERVAL_MS = 1;
/** Sequential calls of one round are made in this many slices, the peers taking turns, so a burst of load from
 * elsewhere on the machine lands on several peers rather than on one peer's whole round. */
const SEQ_SLICES = 4;
/** No single measurement may take longer than this: a stalled peer fails instead of hanging the bench. */
const STEP_TIMEOUT_MS = 30_000;
/** The impl name of a reference row holding a scenario's absolute goal. */
const GOAL = 'goal';

// ---- measurements ---------------------------------------------------------------------------------------------------

function checkEcho(impl, sent, got) {
  const n = sent.byteLength;
  if (!got || got.byteLength !== n || got[0] !== sent[0] || got[n >> 1] !== sent[n >> 1] || got[n - 1] !== sent[n - 1]) {
    throw new Error(`${impl}: echo of ${n} bytes came back as ${got ? got.byteLength : got} bytes or different`);
  }
}

function checkSum(impl, a, b, got) {
  if (got !== a + b) throw new Error(`${impl}: add(${a}, ${b}) returned ${got}`);
}

/** `count` sequential add calls; each round trip in µs. */
async function sequentialAdds(peer, count) {
  const { client } = peer;
  const samples = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    const started = nowNs();
    const sum = await client.add(i, 1);
    samples[i] = (nowNs() - started) / 1e3;
    if (client.checksResults) checkSum(peer.impl, i, 1, sum);
  }
  return samples;
}

/** `total` add calls with up to `window` in flight; seconds. */
function pipelinedAdds(peer, total, window) {
  const { client } = peer;
  const check = client.checksResults ? (a, sum) => checkSum(peer.impl, a, 1, sum) : undefined;
  return pipelined((a) => client.add(a, 1), total, window, check);
}

/** `count` echoes of `payload`, one at a time; seconds. */
async function echoes(peer, payload, count) {
  const started = nowNs();
  for (let i = 0; i < count; i++) checkEcho(peer.impl, payload, await peer.client.echo(payload));
  return (nowNs() - started) / 1e9;
}

/**
 * One echo of `payload`, and meanwhile an add call every ADD_INTERVAL_MS (without waiting for the previous one)
 * from just after the echo is sent until it resolves; the round trip of each add in µs. Calls made one after
 * another would give a single sample, since the first one waits behind the big message.
 */
async function addsDuringEcho(peer, payload) {
  const { client } = peer;
  let echoed = false;
  const big = client.echo(payload).then((bytes) => {
    echoed = true;
    return bytes;
  });
  big.catch(() => {});
  const calls = [];
  await new Promise((resolve) => {
    let i = 0;
    const tick = () => {
      if (echoed) return resolve();
      const a = i++;
      const started = nowNs();
      calls.push(
        client.add(a, 1).then((sum) => {
          if (client.checksResults) checkSum(peer.impl, a, 1, sum);
          return (nowNs() - started) / 1e3;
        }),
      );
      setTimeout(tick, ADD_INTERVAL_MS);
    };
    // Let the big call start on its way first.
    setImmediate(tick);
  });
  const samples = await Promise.all(calls);
  checkEcho(peer.impl, payload, await big);
  return samples;
}

function percentiles(samples) {
  const sorted = sortedCopy(samples);
  return { p50: percentileOfSorted(sorted, 50), p99: percentileOfSorted(sorted, 99) };
}

// ---- scenarios ------------------------------------------------------------------------------------------------------

/** The rate of a round measured in slices: all its calls over all its time. */
function callRate(parts) {
  let count = 0;
  let seconds = 0;
  for (const part of parts) {
    count += part.count;
    seconds += part.seconds;
  }
  return { rate: count / seconds };
}

/**
 * The scenarios. Each: measure(peer, count) → { seconds, values }; warmCount for the warm-up runs; countFor(warm,
 * seconds) the count used in the rounds (fixed, or calibrated from the warm-up run's seconds to one budget of time).
 * options:
 * - targets(scenarioId, metricKey, impl) → the row's targets, or undefined
 * - goals: { [`${scenarioId}.${metricKey}`]: value } — adds a reference row (impl GOAL) with that value
 * - pinSequential: run the sequential scenario with the parent and its workers on one CPU (lib/affinity.js)
 * - slices: { [scenarioId]: n } — cut a round of the pipelined or echo-1MiB scenario into n slices, the peers taking
 *   turns (default 1: each peer's round in one go)
 */
function rpcScenarios(budgetMs, options = {}) {
  const { targets = () => undefined, goals = {}, pinSequential = false, slices = {} } = options;
  const payload1M = new Uint8Array(MiB).map((_, i) => (i * 31 + 7) & 0xff);
  let payload64M;
  const big = () => {
    if (payload64M === undefined) {
      payload64M = new Uint8Array(64 * MiB);
      for (let i = 0; i < payload64M.length; i += 4096) payload64M[i] = i >> 12;
      payload64M[payload64M.length - 1] = 0x5a;
    }
    return payload64M;
  };
  const budgetSeconds = budgetMs / 1000;
  const calibrated = (min, max, budgets = 1) => (warmCount, seconds) =>
    Math.min(max, Math.max(min, Math.round((warmCount * budgetSeconds * budgets) / Math.max(seconds, 1e-6))));
  const fixed = (count) => () => count;
  const metric = (id, m) => ({ ...m, targets: (impl) => targets(id, m.key, impl), goal: goals[`${id}.${m.key}`] });
  return [
    {
      id: 'sequential',
      warmCount: 3000,
      countFor: fixed(Math.max(500, Math.round((SEQ_CALLS * budgetMs) / 300))),
      countNote: 'sequential: calls per round',
      slices: SEQ_SLICES,
      pinToOneCpu: pinSequential,
      async measure(peer, count) {
        const samples = await sequentialAdds(peer, count);
        let seconds = 0;
        for (const s of samples) seconds += s / 1e6;
        return { seconds, values: percentiles(samples), samples };
      },
      /** The values of a round measured in slices: percentiles over all its calls. */
      combine(parts) {
        const all = new Float64Array(parts.reduce((n, part) => n + part.samples.length, 0));
        let offset = 0;
        for (const part of parts) {
          all.set(part.samples, offset);
          offset += part.samples.length;
        }
        return percentiles(all);
      },
      metrics: [
        metric('sequential', { key: 'p50', scenario: 'sequential add(a, b), p50', unit: 'µs', higherIsBetter: false }),
        metric('sequential', { key: 'p99', scenario: 'sequential add(a, b), p99', unit: 'µs', higherIsBetter: false }),
      ],
    },
    {
      id: 'pipelined',
      warmCount: 5000,
      calibrated: true,
      countFor: calibrated(2000, 1_000_000, PIPELINED_BUDGETS),
      countNote: `pipelined: calls per round, calibrated to ${PIPELINED_BUDGETS} budgets`,
      slices: slices.pipelined ?? 1,
      async measure(peer, count) {
        const seconds = await pipelinedAdds(peer, count, WINDOW);
        return { seconds, count, values: { rate: count / seconds } };
      },
      combine: callRate,
      metrics: [
        metric('pipelined', {
          key: 'rate',
          scenario: `pipelined add, ${WINDOW} in flight`,
          unit: 'calls/s',
          higherIsBetter: true,
        }),
      ],
    },
    {
      id: 'echo-1MiB',
      warmCount: 16,
      calibrated: true,
      countFor: calibrated(4, 2000),
      countNote: 'echo 1 MiB: calls per round, calibrated to one budget',
      slices: slices['echo-1MiB'] ?? 1,
      async measure(peer, count) {
        const seconds = await echoes(peer, payload1M, count);
        return { seconds, count, values: { rate: count / seconds } };
      },
      combine: callRate,
      metrics: [
        metric('echo-1MiB', { key: 'rate', scenario: 'echo 1 MiB Uint8Array', unit: 'MiB/s', higherIsBetter: true }),
      ],
    },
    {
      id: 'echo-64MiB',
      warmCount: 1,
      countFor: fixed(1),
      countNote: `echo 64 MiB: 1 call per round, in the first ${BIG_ROUNDS} rounds only`,
      maxRounds: BIG_ROUNDS,
      async measure(peer, count) {
        const seconds = await echoes(peer, big(), count);
        return { seconds, values: { ms: (seconds * 1000) / count } };
      },
      metrics: [
        metric('echo-64MiB', { key: 'ms', scenario: 'echo 64 MiB Uint8Array', unit: 'ms', higherIsBetter: false }),
      ],
    },
    {
      id: 'adds-during-64MiB',
      warmCount: 0, // the echo-64MiB scenario has warmed the same paths
      countFor: fixed(1),
      countNote:
        `add p99 during a 64 MiB echo: add calls made in each round, one every ${ADD_INTERVAL_MS} ms ` +
        `(first ${BIG_ROUNDS} rounds)`,
      maxRounds: BIG_ROUNDS,
      async measure(peer) {
        const payload = big();
        const started = nowNs();
        const samples = await addsDuringEcho(peer, payload);
        return {
          seconds: (nowNs() - started) / 1e9,
          values: { p99: percentiles(samples).p99, calls: samples.length },
        };
      },
      metrics: [
        metric('adds-during-64MiB', {
          key: 'p99',
          scenario: 'add p99 during a 64 MiB echo',
          unit: 'µs',
          higherIsBetter: false,
          countKey: 'calls',
        }),
      ],
    },
  ];
}

// ---- the run ------------------------------------------------------------------------------------------------------------

class Peer {
  constructor(impl, definition) {
    this.impl = impl;
    this.definition = definition;
    this.client = undefined;
    this.process = undefined;
    this.dead = undefined;
    this.failure = undefined;
  }

  async open() {
    this.client = await withTimeout(this.definition.open(), STEP_TIMEOUT_MS, `${this.impl}: worker start`);
    this.process = this.client.child ?? this.client.thread;
    this.dead = rejectOnExit(this.process, this.impl);
  }

  /** The pid of the peer's own process, if it has one (a thread lives in this process). */
  get pid() {
    return this.client?.child?.pid;
  }

  /** Runs one measurement, racing the worker's exit and a timeout. */
  run(promise, what) {
    return withTimeout(Promise.race([promise, this.dead]), STEP_TIMEOUT_MS, `${this.impl}: ${what}`);
  }

  async close() {
    const client = this.client;
    this.client = undefined;
    if (!client) return;
    try {
      if (client.close) await client.close();
    } finally {
      if (this.process) await kill(this.process);
    }
  }
}

const describe = (peer) => (typeof peer.description === 'function' ? peer.description() : peer.description);

/**
 * Runs `scenarios` (from rpcScenarios) for each peer of `peers` ({ [impl]: { description, open } }) listed in
 * `implOrder` — all of them, or those in opts.impls plus the baseline — and returns the rows, with each row's
 * ratio taken against `baseline`. opts: the suite's run() options ({ rounds, scenarios?, impls?, log }); `pin`:
 * whether scenarios that ask for it run on one CPU. A peer whose worker dies or stalls (STEP_TIMEOUT_MS) is
 * dropped from the rest of the run; its rows show NaN and the error. Returns { rows, list (the scenarios run),
 * impls ({ [impl]: description }) }.
 */
async function runRpcPeers({ peers: definitions, implOrder, baseline, scenarios: all, opts, pin = false }) {
  const log = opts.log ?? (() => {});
  const rounds = opts.rounds;
  const impls = implOrder.filter((impl) => !opts.impls || opts.impls.includes(impl) || impl === baseline);
  const list = all.filter((s) => !opts.scenarios || opts.scenarios.some((f) => s.id.includes(f)));

  const peers = new Map(impls.map((impl) => [impl, new Peer(impl, definitions[impl])]));
  // A peer that fails (a stalled or dead child) is dropped from the rest of the run, and its rows say why; the
  // other peers go on.
  const fail = async (peer, error) => {
    if (peer.failure) return;
    peer.failure = error;
    log(`  ${peer.impl} failed and is left out from here on: ${error.message}`);
    await peer.close().catch(() => {});
  };
  const live = () => impls.filter((impl) => !peers.get(impl).failure);
  const measure = async (scenario, impl, count, what) => {
    const peer = peers.get(impl);
    try {
      return await peer.run(scenario.measure(peer, count), `${scenario.id} ${what} (${count})`);
    } catch (error) {
      await fail(peer, error);
      return undefined;
    }
  };
  // Runs fn with this process and every live worker process on one CPU, if the scenario asks for it and `pin`.
  const placed = (scenario, fn) => {
    if (!pin || !scenario.pinToOneCpu) return fn();
    const pids = live().map((impl) => peers.get(impl).pid).filter((pid) => pid !== undefined);
    return pinnedTogether([process.pid, ...pids], fn);
  };

  try {
    await Promise.all(
      [...peers.values()].map((peer) => peer.open().catch((error) => fail(peer, error))),
    );

    // Warm up (JIT on both sides, socket buffers, allocators) and size each measurement: calibrated scenarios
    // are measured twice and sized from the second run; fixed-count ones are run once (or not at all: warmCount 0).
    const counts = {};
    for (const scenario of list) {
      counts[scenario.id] = {};
      await placed(scenario, async () => {
        for (const impl of live()) {
          let seconds = 0;
          if (scenario.warmCount > 0) {
            const warm = await measure(scenario, impl, scenario.warmCount, 'warm-up');
            seconds = warm ? warm.seconds : 0;
          }
          if (scenario.calibrated) {
            const again = await measure(scenario, impl, scenario.warmCount, 'calibration');
            seconds = again ? again.seconds : 0;
          }
          if (!peers.get(impl).failure) counts[scenario.id][impl] = scenario.countFor(scenario.warmCount, seconds);
        }
      });
      log(`  calibrated ${scenario.id}: ${Object.entries(counts[scenario.id]).map(([i, n]) => `${i} ${n}`).join(', ')}`);
    }

    // samples[scenarioId][impl] = one values object per round
    const samples = {};
    for (const scenario of list) samples[scenario.id] = Object.fromEntries(impls.map((impl) => [impl, []]));
    const roundsOf = (scenario) => Math.min(rounds, scenario.maxRounds ?? rounds);
    for (let round = 0; round < rounds; round++) {
      const started = Date.now();
      for (const scenario of list) {
        if (round >= roundsOf(scenario)) continue;
        const order = impls.map((_, i) => impls[(i + round) % impls.length]);
        const slices = scenario.slices ?? 1;
        const parts = Object.fromEntries(order.map((impl) => [impl, []]));
        await placed(scenario, async () => {
          for (let slice = 0; slice < slices; slice++) {
            for (const impl of order) {
              if (peers.get(impl).failure || counts[scenario.id][impl] === undefined) continue;
              const count = Math.ceil(counts[scenario.id][impl] / slices);
              const result = await measure(scenario, impl, count, `round ${round + 1}`);
              if (result) parts[impl].push(result);
            }
          }
        });
        for (const impl of order) {
          const done = parts[impl];
          if (peers.get(impl).failure || done.length !== slices) continue;
          samples[scenario.id][impl].push(slices === 1 ? done[0].values : scenario.combine(done));
        }
      }
      log(`  round ${round + 1}/${rounds} done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    }

    const rows = [];
    for (const scenario of list) {
      for (const metric of scenario.metrics) {
        for (const impl of impls) {
          const perRound = samples[scenario.id][impl];
          const values = perRound.map((v) => v[metric.key]);
          const failure = peers.get(impl).failure;
          rows.push({
            scenario: metric.scenario,
            impl,
            value: values.length === roundsOf(scenario) ? median(values) : NaN,
            unit: metric.unit,
            higherIsBetter: metric.higherIsBetter,
            baselineImpl: baseline,
            samples: values,
            count: metric.countKey ? perRound.map((v) => v[metric.countKey]) : counts[scenario.id][impl],
            targets: metric.targets(impl),
            error: failure ? failure.message : undefined,
          });
        }
        if (metric.goal !== undefined) {
          rows.push({
            scenario: metric.scenario,
            impl: GOAL,
            value: metric.goal,
            unit: metric.unit,
            higherIsBetter: metric.higherIsBetter,
            baselineImpl: baseline,
          });
        }
      }
    }
    const described = Object.fromEntries(impls.map((impl) => [impl, describe(definitions[impl])]));
    return { rows, list, impls: described };
  } finally {
    await Promise.all([...peers.values()].map((peer) => peer.close().catch(() => {})));
  }
}

/**
 * A suite (see bench/README.md) running the RPC scenarios over `peers`:
 *   { name, description, peers, implOrder, baseline, scenarioIds?, scenarioOptions?, pinSequential?, config? }
 * scenarioIds: the rpcScenarios to run (default all); scenarioOptions: rpcScenarios' targets, goals, slices;
 * pinSequential: sequential calls on one CPU unless --no-pin; config: the suite's own fields for the results.
 */
function rpcSuite(spec) {
  const { name, description, peers, implOrder, baseline, scenarioIds, scenarioOptions = {} } = spec;
  const pinSequential = spec.pinSequential ?? false;
  async function run(opts) {
    const pin = pinSequential && opts.pin !== false && canPin();
    const scenarios = rpcScenarios(opts.budgetMs, { ...scenarioOptions, pinSequential }).filter(
      (scenario) => !scenarioIds || scenarioIds.includes(scenario.id),
    );
    const { rows, list, impls } = await runRpcPeers({ peers, implOrder, baseline, scenarios, opts, pin });
    const settings = { rounds: opts.rounds, budgetMs: opts.budgetMs, window: WINDOW };
    if (pinSequential) settings.sequentialOnOneCpu = pin;
    const counts = list.map((scenario) => scenario.countNote).join('; ');
    const sequential = list.find((scenario) => scenario.id === 'sequential');
    const config = { ...settings, sequentialCallsPerRound: sequential?.countFor(), impls, counts, ...spec.config };
    return { rows, config };
  }
  return { name, description, run };
}

module.exports = { rpcScenarios, runRpcPeers, rpcSuite, GOAL };
