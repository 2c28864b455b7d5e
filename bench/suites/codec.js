'use strict';
// The codec suite: fdpipe's ValueCodec alone (no transport) against msgpackr (the baseline), JSON and
// v8.serialize. Each round-trip operation is what an RPC message costs its two ends: encode into bytes, then
// decode them. For fdpipe that includes a fresh Uint8ArrayWriteBuffer and Uint8ArrayReadBuffer per message, as the
// RPC layer uses them; msgpackr's pack() reuses its own output buffer between calls, to its advantage.
//
// Each implementation runs each scenario in a worker process of its own (workers/codec-worker.js), so none runs in
// a heap or JIT state left behind by another implementation or another scenario. Rounds interleave them (a
// different one first each round), so a noisy stretch on a shared machine hits everyone alike; ratios are medians
// of per-round ratios. Each worker checks its round trip of the value before anything is timed.

const path = require('path');
const { forkWorker, kill, nextMessage, rejectOnExit } = require('../lib/child');
const { median } = require('../lib/stats');
const { withTimeout } = require('../lib/timing');

const WORKER = path.join(__dirname, '..', 'workers', 'codec-worker.js');
const BASELINE = 'msgpackr';
const IMPL_ORDER = ['fdpipe', 'msgpackr', 'json', 'v8'];
/** The bytes target is absolute (≥ 1 GiB/s): a reference row of that value lets the harness judge it. */
const GOAL = 'goal';
const GOAL_MIB_PER_SECOND = 1024;
const BYTES_MIB = 1;
/** No single request may take longer; a stuck worker fails the suite instead of hanging it. */
const STEP_TIMEOUT_MS = 120_000;

const DESCRIPTIONS = {
  fdpipe: 'fdpipe ValueCodec, a fresh Uint8ArrayWriteBuffer / Uint8ArrayReadBuffer per message',
  msgpackr: 'msgpackr pack/unpack, default options (pinned in devDependencies)',
  json: 'JSON.stringify + Buffer.from, then toString + JSON.parse (bytes as base64)',
  v8: 'v8.serialize / v8.deserialize',
};

const perOp = { unit: 'ns/op', higherIsBetter: false, fromNs: (ns) => ns };
const mibPerSecond = { unit: 'MiB/s', higherIsBetter: true, fromNs: (ns) => BYTES_MIB / (ns / 1e9) };

/** Targets apply to the fdpipe row. Ids are understood by the worker: `<value>[-encode|-decode]`. */
const SCENARIOS = [
  {
    id: 'envelope',
    title: 'envelope {id, method, args} enc+dec',
    metric: perOp,
    targets: [{ vs: BASELINE, atMost: 1.2 }],
  },
  { id: 'records', title: '50 records enc+dec', metric: perOp, targets: [{ vs: BASELINE, atMost: 1.2 }] },
  { id: 'bytes', title: '1 MiB Uint8Array enc+dec', metric: mibPerSecond, targets: [{ vs: GOAL, atLeast: 1 }] },
  { id: 'envelope-encode', title: 'envelope encode', metric: perOp },
  { id: 'envelope-decode', title: 'envelope decode', metric: perOp },
  { id: 'records-encode', title: '50 records encode', metric: perOp },
  { id: 'records-decode', title: '50 records decode', metric: perOp },
];

class Worker {
  constructor(impl) {
    this.impl = impl;
    this.child = forkWorker(WORKER, [impl]);
    this.dead = rejectOnExit(this.child, `codec ${impl}`);
    this.nextId = 1;
  }

  async ready() {
    await this.guard(
      nextMessage(this.child, (m) => m && m.cmd === 'ready'),
      'start',
    );
  }

  guard(promise, what) {
    return withTimeout(Promise.race([promise, this.dead]), STEP_TIMEOUT_MS, `codec ${this.impl}: ${what}`);
  }

  async request(message) {
    const id = this.nextId++;
    const answer = nextMessage(this.child, (m) => m && m.id === id);
    this.child.send({ ...message, id });
    const reply = await this.guard(answer, `${message.cmd} ${message.scenario}`);
    if (reply.error) throw new Error(`codec ${this.impl}: ${reply.error}`);
    return reply;
  }
}

module.exports = {
  name: 'codec',
  description: 'value codec alone: encode + decode, vs msgpackr, JSON and v8.serialize (one process each)',
  async run(opts) {
    const { rounds, budgetMs, log } = opts;
    const impls = IMPL_ORDER.filter((name) => name === BASELINE || !opts.impls || opts.impls.includes(name));
    const scenarios = SCENARIOS.filter((s) => !opts.scenarios || opts.scenarios.some((part) => s.id.includes(part)));

    const counts = {};
    const samples = {};
    for (const scenario of scenarios) {
      // Fresh workers for each scenario: what one scenario taught the JIT does not carry into the next.
      const workers = new Map(impls.map((name) => [name, new Worker(name)]));
      try {
        await Promise.all([...workers.values()].map((worker) => worker.ready()));
        counts[scenario.id] = {};
        for (const name of impls) {
          const { count } = await workers.get(name).request({ cmd: 'prepare', scenario: scenario.id, budgetMs });
          counts[scenario.id][name] = count;
        }
        samples[scenario.id] = Object.fromEntries(impls.map((name) => [name, []]));
        const started = Date.now();
        for (let round = 0; round < rounds; round++) {
          const order = impls.map((_, i) => impls[(i + round) % impls.length]);
          for (const name of order) {
            const { ns } = await workers
              .get(name)
              .request({ cmd: 'measure', scenario: scenario.id, count: counts[scenario.id][name] });
            samples[scenario.id][name].push(scenario.metric.fromNs(ns));
          }
        }
        log(
          `  ${scenario.id}: ${rounds} rounds in ${((Date.now() - started) / 1000).toFixed(1)} s ` +
            `(${impls.map((name) => `${name} ×${counts[scenario.id][name]}`).join(', ')})`,
        );
      } finally {
        await Promise.all([...workers.values()].map((worker) => kill(worker.child)));
      }
    }

    const rows = [];
    for (const scenario of scenarios) {
      for (const name of impls) {
        const values = samples[scenario.id][name];
        rows.push({
          scenario: scenario.title,
          impl: name,
          value: median(values),
          unit: scenario.metric.unit,
          higherIsBetter: scenario.metric.higherIsBetter,
          baselineImpl: BASELINE,
          samples: values,
          count: counts[scenario.id][name],
          targets: name === 'fdpipe' ? scenario.targets : undefined,
        });
      }
      if (scenario.targets && scenario.targets.some((t) => t.vs === GOAL)) {
        rows.push({
          scenario: scenario.title,
          impl: GOAL,
          value: GOAL_MIB_PER_SECOND,
          unit: scenario.metric.unit,
          higherIsBetter: true,
          baselineImpl: BASELINE,
        });
      }
    }
    return {
      rows,
      config: {
        rounds,
        budgetMs,
        impls: Object.fromEntries(impls.map((name) => [name, DESCRIPTIONS[name]])),
        goal: `a reference row for the ≥ 1 GiB/s bytes target (${GOAL_MIB_PER_SECOND} MiB/s)`,
      },
    };
  },
};
