'use strict';
// The rpc suite: fdpipe's typed proxy (RpcPeer over forkWithChannel) against Node's IPC with a minimal
// id → promise RPC, birpc, vscode-jsonrpc, and the raw fd-4 ceiling — every peer talking to its own forked child,
// all measured in the same run. The child serves { add(a, b), echo(bytes) }.
//
// Peers (parent side here, child side in bench/workers/rpc-*.js):
// - raw            bench/workers/pipe-peer.js in echo mode over fd 4 with the bench's framing (lib/framing.js): no
//                  ids, no codec, replies matched in order. The ceiling; `add` is a 16-byte ping-pong, about the size
//                  of fdpipe's add request.
// - fdpipe         new RpcPeer(channel).proxy('svc') over forkWithChannel; defaults (caller stacks captured, no
//                  timeout).
// - node-json      child.send / process.send, serialization 'json', the bench's own id → promise Map RPC; bytes as
//                  base64 strings (encoded and decoded on both sides).
// - node-advanced  the same with serialization 'advanced'; bytes go as the Uint8Array itself.
// - birpc-send     birpc over child.send / process.send ('json' serialization, birpc's serialize/deserialize left
//                  as the identity: Node's IPC does the JSON); bytes as base64.
// - birpc-fd4      birpc over fd 4 with the same 4-byte length-prefix framing as raw (lib/framing.js);
//                  serialize/deserialize = v8.serialize/v8.deserialize, so bytes go as bytes — the fairest choice
//                  for a binary echo, and what 'advanced' IPC does too.
// - jsonrpc        vscode-jsonrpc MessageConnection over the fd-4 stream (StreamMessageReader/Writer, its own
//                  Content-Length framing); bytes as base64 strings.
// Library options are their defaults (birpc keeps its 60 s per-call timeout timer, fdpipe captures caller stacks).
//
// Scenarios, sized so the suite stays under ~3 minutes at the runner's defaults (5 rounds, 300 ms budget):
// - sequential add(a, b): SEQ_CALLS × budget/300 ms calls per round per peer (20 000 by default, so the default 5
//   rounds make the issue's 100 000 calls a peer); p50 and p99 of each round, median over rounds.
// - pipelined add with 256 in flight: calls/s; each peer's count is calibrated to PIPELINED_BUDGETS (2) budgets of
//   time — a fixed time budget per peer instead of the issue's 1M calls, which the slow peers would take minutes
//   over; each peer's count is in the results.
// - echo of a 1 MiB Uint8Array, one call at a time: payload MiB/s (each call carries it there and back);
//   count calibrated to the budget.
// - echo of a 64 MiB Uint8Array: ms for one call, once per round in the first BIG_ROUNDS (3) rounds only.
// - add p99 while a 64 MiB echo is in flight: an add call every millisecond (not waiting for the previous one) from
//   just after the echo is sent until it resolves, p99 of their round trips (with one stream per peer they queue
//   behind the 64 MiB, so this is about how long a big transfer blocks small calls); first BIG_ROUNDS rounds only.
//   The number of add calls made in each round is the row's `count`.
// Each (scenario, peer) is warmed up first; then every round runs each scenario for every peer, rotating which
// peer goes first (sequential calls in SEQ_SLICES turns), so a noisy stretch of the shared machine hits everyone
// alike. Values are medians over rounds.

const path = require('path');
const v8 = require('v8');
const fdpipe = require('fdpipe');
const { IMPLS } = require('../lib/transports');
const { FrameReader, FrameWriter } = require('../lib/framing');
const { forkWorker, track, kill, nextMessage, rejectOnExit } = require('../lib/child');
const { median, percentileOfSorted, sortedCopy } = require('../lib/stats');
const { nowNs, withTimeout } = require('../lib/timing');

const WORKERS = path.join(__dirname, '..', 'workers');
const BASELINE = 'raw';
const IMPL_ORDER = ['raw', 'fdpipe', 'node-json', 'node-advanced', 'birpc-send', 'birpc-fd4', 'jsonrpc'];
/** The absolute pipelined target (≥ 500 000 calls/s), as a reference row the harness can compare with. */
const GOAL = 'goal';
const PIPELINED_GOAL = 500_000;
const MiB = 1024 * 1024;
const WINDOW = 256;
/** Sequential calls per round at the default 300 ms budget: 5 rounds make the issue's 100 000 calls a peer. */
const SEQ_CALLS = 20_000;
/** A pipelined measurement lasts this many budgets, so the fast peers make a few hundred thousand calls. */
const PIPELINED_BUDGETS = 2;
const RAW_CALL_BYTES = 16;
/** The 64 MiB scenarios take seconds for the JSON-based peers: they run in at most this many rounds. */
const BIG_ROUNDS = 3;
/** How often an add call is made while a 64 MiB echo is in flight. */
const ADD_INTERVAL_MS = 1;
/** Sequential calls of one round are made in this many slices, the peers taking turns, so a burst of load from
 * elsewhere on the machine lands on several peers rather than on one peer's whole round. */
const SEQ_SLICES = 4;
/** No single measurement may take longer than this: a stalled peer fails instead of hanging the bench. */
const STEP_TIMEOUT_MS = 30_000;
const FD4_STDIO = ['inherit', 'inherit', 'inherit', 'ipc', 'pipe'];

// ---- parent ends of the peers -------------------------------------------------------------------------------------
// Each open() resolves to { child, add(a, b), echo(bytes), checksResults } once its worker is ready; echo resolves
// with the bytes echoed.

/** The bench's minimal id → promise map, for the RPC it writes itself over Node's IPC. */
class PendingCalls {
  constructor() {
    this.calls = new Map();
    this.lastId = 0;
  }

  add(resolve, reject) {
    let id = this.lastId;
    do id = id >= 0x7fffffff ? 1 : id + 1;
    while (this.calls.has(id));
    this.lastId = id;
    this.calls.set(id, { resolve, reject });
    return id;
  }

  settle(id, error, value) {
    const call = this.calls.get(id);
    if (call === undefined) return;
    this.calls.delete(id);
    if (error !== undefined) call.reject(new Error(String(error)));
    else call.resolve(value);
  }

  rejectAll(error) {
    for (const call of this.calls.values()) call.reject(error);
    this.calls.clear();
  }
}

const toBuffer = (bytes) => (Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
const toBase64 = (bytes) => toBuffer(bytes).toString('base64');
const fromBase64 = (text) => Buffer.from(text, 'base64');

function openFdSocket(child) {
  const socket = child.stdio[4];
  socket.on('error', () => {});
  return socket;
}

const PEERS = {
  raw: {
    description: 'raw fd-4 bytes, bench framing, ordered echo (ceiling; add = 16-byte ping-pong)',
    async open() {
      const { child, transport } = IMPLS.raw.fork(path.join(WORKERS, 'pipe-peer.js'), ['raw']);
      // Replies come back in order: a FIFO of resolvers is all the matching there is.
      const waiting = [];
      let head = 0;
      transport.onMessage((bytes) => {
        const resolve = waiting[head];
        waiting[head++] = undefined;
        if (head === waiting.length) waiting.length = head = 0;
        resolve(bytes);
      });
      const call = (bytes) =>
        new Promise((resolve) => {
          waiting.push(resolve);
          transport.send(bytes);
        });
      const small = Buffer.alloc(RAW_CALL_BYTES, 7);
      await nextMessage(child, (m) => m && m.cmd === 'ready');
      const ok = nextMessage(child, (m) => m && m.cmd === 'ok');
      child.send({ cmd: 'echo' });
      await ok;
      return { child, checksResults: false, add: () => call(small), echo: call };
    },
  },
  fdpipe: {
    description: "fdpipe RpcPeer typed proxy over forkWithChannel (fd 4), defaults",
    async open() {
      const { child, channel } = fdpipe.forkWithChannel(path.join(WORKERS, 'rpc-fdpipe.js'));
      track(child);
      channel.onError(() => {});
      const svc = new fdpipe.RpcPeer(channel).proxy('svc');
      await nextMessage(child, (m) => m && m.cmd === 'ready');
      return { child, checksResults: true, add: (a, b) => svc.add(a, b), echo: (bytes) => svc.echo(bytes) };
    },
  },
  'node-json': {
    description: "Node IPC, serialization 'json', minimal id→promise Map RPC, bytes as base64",
    open: () => openNodeIpc('json'),
  },
  'node-advanced': {
    description: "Node IPC, serialization 'advanced', minimal id→promise Map RPC, bytes as Uint8Array",
    open: () => openNodeIpc('advanced'),
  },
  'birpc-send': {
    description: () => `birpc ${packageVersion('birpc')} over process.send ('json'), identity serialize, bytes as base64`,
    async open() {
      const { createBirpc } = await import('birpc');
      const child = forkWorker(path.join(WORKERS, 'rpc-birpc.js'), ['send'], { serialization: 'json' });
      const rpc = createBirpc(
        {},
        {
          post: (data) => child.send(data),
          on: (fn) => child.on('message', (m) => m && m.t !== undefined && fn(m)),
        },
      );
      await nextMessage(child, (m) => m && m.cmd === 'ready');
      return {
        child,
        checksResults: true,
        add: (a, b) => rpc.add(a, b),
        echo: (bytes) => rpc.echo(toBase64(bytes)).then(fromBase64),
      };
    },
  },
  'birpc-fd4': {
    description: () => `birpc ${packageVersion('birpc')} over fd 4, bench framing, v8.serialize/deserialize, bytes as bytes`,
    async open() {
      const { createBirpc } = await import('birpc');
      const child = forkWorker(path.join(WORKERS, 'rpc-birpc.js'), ['fd4'], { stdio: FD4_STDIO });
      const socket = openFdSocket(child);
      const writer = new FrameWriter(socket);
      const rpc = createBirpc(
        {},
        {
          post: (data) => writer.send(data),
          on: (fn) => {
            const reader = new FrameReader(fn);
            socket.on('data', (chunk) => reader.push(chunk));
          },
          serialize: (value) => v8.serialize(value),
          deserialize: (bytes) => v8.deserialize(bytes),
        },
      );
      await nextMessage(child, (m) => m && m.cmd === 'ready');
      return { child, checksResults: true, add: (a, b) => rpc.add(a, b), echo: (bytes) => rpc.echo(bytes) };
    },
  },
  jsonrpc: {
    description: () =>
      `vscode-jsonrpc ${packageVersion('vscode-jsonrpc')} over the fd-4 stream (StreamMessageReader/Writer), bytes as base64`,
    async open() {
      const { createMessageConnection, StreamMessageReader, StreamMessageWriter } = require('vscode-jsonrpc/node');
      const child = forkWorker(path.join(WORKERS, 'rpc-jsonrpc.js'), [], { stdio: FD4_STDIO });
      const socket = openFdSocket(child);
      const connection = createMessageConnection(new StreamMessageReader(socket), new StreamMessageWriter(socket));
      connection.onError(() => {});
      connection.listen();
      await nextMessage(child, (m) => m && m.cmd === 'ready');
      return {
        child,
        checksResults: true,
        add: (a, b) => connection.sendRequest('add', a, b),
        echo: (bytes) => connection.sendRequest('echo', toBase64(bytes)).then(fromBase64),
      };
    },
  },
};

async function openNodeIpc(serialization) {
  const json = serialization === 'json';
  const child = forkWorker(path.join(WORKERS, 'rpc-node.js'), [serialization], { serialization });
  const pending = new PendingCalls();
  child.on('message', (m) => {
    if (m !== null && typeof m === 'object' && typeof m.i === 'number') pending.settle(m.i, m.e, m.r);
  });
  child.once('exit', () => pending.rejectAll(new Error(`node-${serialization} worker exited`)));
  const call = (method, args) =>
    new Promise((resolve, reject) => {
      child.send({ i: pending.add(resolve, reject), m: method, a: args });
    });
  await nextMessage(child, (m) => m && m.cmd === 'ready');
  return {
    child,
    checksResults: true,
    add: (a, b) => call('add', [a, b]),
    echo: json ? (bytes) => call('echo', [toBase64(bytes)]).then(fromBase64) : (bytes) => call('echo', [bytes]),
  };
}

const describe = (peer) => (typeof peer.description === 'function' ? peer.description() : peer.description);

/** The version of an installed package, read from its package.json wherever the package resolves. */
function packageVersion(name) {
  const fs = require('fs');
  let dir = path.dirname(require.resolve(name === 'vscode-jsonrpc' ? 'vscode-jsonrpc/node' : name));
  while (!fs.existsSync(path.join(dir, 'package.json'))) dir = path.dirname(dir);
  return JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')).version;
}

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
  return new Promise((resolve, reject) => {
    let issued = 0;
    let done = 0;
    let started;
    const issue = () => {
      const a = issued++;
      client.add(a, 1).then((sum) => {
        if (client.checksResults && sum !== a + 1) return reject(new Error(`${peer.impl}: add(${a}, 1) returned ${sum}`));
        done++;
        if (issued < total) issue();
        else if (done === total) resolve((nowNs() - started) / 1e9);
      }, reject);
    };
    started = nowNs();
    for (let k = 0; k < Math.min(window, total); k++) issue();
  });
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

/**
 * Each scenario: measure(peer, count) → { seconds, values }; warmCount for the warm-up runs; countFor(opts, warm) the
 * count used in the rounds (fixed, or calibrated from the warm-up run's seconds to one budget of time).
 */
function scenarios(budgetMs) {
  const payload1M = new Uint8Array(MiB).map((_, i) => (i * 31 + 7) & 0xff);
  const payload64M = new Uint8Array(64 * MiB);
  for (let i = 0; i < payload64M.length; i += 4096) payload64M[i] = i >> 12;
  payload64M[payload64M.length - 1] = 0x5a;
  const budgetSeconds = budgetMs / 1000;
  const calibrated = (min, max, budgets = 1) => (warmCount, seconds) =>
    Math.min(max, Math.max(min, Math.round((warmCount * budgetSeconds * budgets) / Math.max(seconds, 1e-6))));
  const fixed = (count) => () => count;
  const fdpipeOnly = (...targets) => (impl) => (impl === 'fdpipe' ? targets : undefined);
  return [
    {
      id: 'sequential',
      warmCount: 3000,
      countFor: fixed(Math.max(500, Math.round((SEQ_CALLS * budgetMs) / 300))),
      slices: SEQ_SLICES,
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
        {
          key: 'p50',
          scenario: 'sequential add(a, b), p50',
          unit: 'µs',
          higherIsBetter: false,
          targets: fdpipeOnly({ vs: 'raw', atMost: 1.3 }),
        },
        { key: 'p99', scenario: 'sequential add(a, b), p99', unit: 'µs', higherIsBetter: false },
      ],
    },
    {
      id: 'pipelined',
      warmCount: 5000,
      calibrated: true,
      countFor: calibrated(2000, 1_000_000, PIPELINED_BUDGETS),
      goal: PIPELINED_GOAL,
      async measure(peer, count) {
        const seconds = await pipelinedAdds(peer, count, WINDOW);
        return { seconds, values: { rate: count / seconds } };
      },
      metrics: [
        {
          key: 'rate',
          scenario: `pipelined add, ${WINDOW} in flight`,
          unit: 'calls/s',
          higherIsBetter: true,
          targets: fdpipeOnly({ vs: GOAL, atLeast: 1 }, { vs: 'birpc-send', atLeast: 2 }),
          goal: PIPELINED_GOAL,
        },
      ],
    },
    {
      id: 'echo-1MiB',
      warmCount: 16,
      calibrated: true,
      countFor: calibrated(4, 2000),
      async measure(peer, count) {
        const seconds = await echoes(peer, payload1M, count);
        return { seconds, values: { rate: count / seconds } };
      },
      metrics: [
        {
          key: 'rate',
          scenario: 'echo 1 MiB Uint8Array',
          unit: 'MiB/s',
          higherIsBetter: true,
          targets: fdpipeOnly({ vs: 'node-advanced', atLeast: 1.5 }),
        },
      ],
    },
    {
      id: 'echo-64MiB',
      warmCount: 1,
      countFor: fixed(1),
      maxRounds: BIG_ROUNDS,
      async measure(peer, count) {
        const seconds = await echoes(peer, payload64M, count);
        return { seconds, values: { ms: (seconds * 1000) / count } };
      },
      metrics: [{ key: 'ms', scenario: 'echo 64 MiB Uint8Array', unit: 'ms', higherIsBetter: false }],
    },
    {
      id: 'adds-during-64MiB',
      warmCount: 0, // the echo-64MiB scenario has warmed the same paths
      countFor: fixed(1),
      maxRounds: BIG_ROUNDS,
      async measure(peer) {
        const started = nowNs();
        const samples = await addsDuringEcho(peer, payload64M);
        return {
          seconds: (nowNs() - started) / 1e9,
          values: { p99: percentiles(samples).p99, calls: samples.length },
        };
      },
      metrics: [
        { key: 'p99', scenario: 'add p99 during a 64 MiB echo', unit: 'µs', higherIsBetter: false, countKey: 'calls' },
      ],
    },
  ];
}

// ---- the run ------------------------------------------------------------------------------------------------------------

class Peer {
  constructor(impl) {
    this.impl = impl;
    this.client = undefined;
    this.child = undefined;
    this.dead = undefined;
    this.failure = undefined;
  }

  async open() {
    this.client = await withTimeout(PEERS[this.impl].open(), STEP_TIMEOUT_MS, `${this.impl}: worker start`);
    this.child = this.client.child;
    this.dead = rejectOnExit(this.child, this.impl);
  }

  /** Runs one measurement, racing the child's exit and a timeout. */
  run(promise, what) {
    return withTimeout(Promise.race([promise, this.dead]), STEP_TIMEOUT_MS, `${this.impl}: ${what}`);
  }

  async close() {
    if (this.child) await kill(this.child);
  }
}

async function run(opts) {
  const log = opts.log ?? (() => {});
  const rounds = opts.rounds;
  const impls = IMPL_ORDER.filter((impl) => !opts.impls || opts.impls.includes(impl) || impl === BASELINE);
  const list = scenarios(opts.budgetMs).filter((s) => !opts.scenarios || opts.scenarios.some((f) => s.id.includes(f)));

  const peers = new Map(impls.map((impl) => [impl, new Peer(impl)]));
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

  try {
    await Promise.all(
      [...peers.values()].map((peer) => peer.open().catch((error) => fail(peer, error))),
    );

    // Warm up (JIT on both sides, socket buffers, allocators) and size each measurement: calibrated scenarios
    // are measured twice and sized from the second run; fixed-count ones are run once (or not at all: warmCount 0).
    const counts = {};
    for (const scenario of list) {
      counts[scenario.id] = {};
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
        for (let slice = 0; slice < slices; slice++) {
          for (const impl of order) {
            if (peers.get(impl).failure || counts[scenario.id][impl] === undefined) continue;
            const count = Math.ceil(counts[scenario.id][impl] / slices);
            const result = await measure(scenario, impl, count, `round ${round + 1}`);
            if (result) parts[impl].push(result);
          }
        }
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
            baselineImpl: BASELINE,
            samples: values,
            count: metric.countKey ? perRound.map((v) => v[metric.countKey]) : counts[scenario.id][impl],
            targets: metric.targets ? metric.targets(impl) : undefined,
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
            baselineImpl: BASELINE,
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
        sequentialCallsPerRound: list.find((s) => s.id === 'sequential')?.countFor(),
        rawCallBytes: RAW_CALL_BYTES,
        impls: Object.fromEntries(impls.map((impl) => [impl, describe(PEERS[impl])])),
        goal: `the absolute pipelined target (≥ ${PIPELINED_GOAL} calls/s), as a row to compare with`,
        counts:
          `sequential: calls per round; pipelined: calls per round, calibrated to ${PIPELINED_BUDGETS} budgets; ` +
          'echo 1 MiB: calls per round, calibrated to one budget; ' +
          `echo 64 MiB: 1 call per round, in the first ${BIG_ROUNDS} rounds only; add p99 during a 64 MiB echo: add ` +
          `calls made in each round, one every ${ADD_INTERVAL_MS} ms (first ${BIG_ROUNDS} rounds)`,
      },
    };
  } finally {
    await Promise.all([...peers.values()].map((peer) => peer.close().catch(() => {})));
  }
}

module.exports = {
  name: 'rpc',
  description: 'RPC round trips: fdpipe typed proxy vs Node IPC, birpc, vscode-jsonrpc and raw fd 4, forked children',
  run,
};
