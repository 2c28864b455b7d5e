'use strict';
// The pool suite: fdpipe's WorkerPool against the worker pools people use today, side by side in one run, each
// with 2 workers (the machine's cores) and its other options at their defaults:
// - fdpipe            WorkerPool over fd 4 (processes), workers/pool-tasks.js
// - tinypool-process  tinypool, runtime 'child_process' (vitest's forks pool), workers/pool-tasks-single.js
// - tinypool-threads  tinypool, worker_threads
// - piscina           piscina, worker_threads
// - workerpool        workerpool, workerType 'process', workers/pool-workerpool.js
// - jest-worker       jest-worker, child processes, workers/pool-tasks.js
//
// Scenarios: tiny `add` tasks with 256 in flight (tasks/s); a 1 MiB Uint8Array echoed one task at a time (MiB/s;
// a pool whose bytes come back as something else, or changed, has no figure: the row says what came back); a
// CPU-bound task (~1 ms of integer hashing) with 16 in flight (tasks/s), where the pools should be even: it shows
// what each pool's own cost is against real work. Each (scenario, pool) is warmed up and calibrated to about one
// budget; then every round measures every pool, rotating which goes first. Values are medians over rounds.
// Targets (fdpipe): tiny tasks ≥ 10× every process pool and ≥ 3× every thread pool; 1 MiB echo ≥ 1.5×
// jest-worker.
// About a minute at the runner's defaults.

const fs = require('fs');
const path = require('path');
const { WorkerPool } = require('fdpipe');
const { median } = require('../lib/stats');
const { nowNs, pipelined, withTimeout } = require('../lib/timing');

const MiB = 1024 * 1024;
const WINDOW = 256;
const CPU_WINDOW = 16;
const CPU_ROUNDS = 20;
const WORKERS = 2;
const STEP_TIMEOUT_MS = 60_000;
const TASKS = path.join(__dirname, '..', 'workers', 'pool-tasks.js');
const TASKS_SINGLE = path.join(__dirname, '..', 'workers', 'pool-tasks-single.js');
const TASKS_WORKERPOOL = path.join(__dirname, '..', 'workers', 'pool-workerpool.js');

const PROCESS_POOLS = ['tinypool-process', 'workerpool', 'jest-worker'];
const THREAD_POOLS = ['tinypool-threads', 'piscina'];

/** Each pool as { add(a, b), echo(bytes), cpu(rounds), close() }. */
const POOLS = {
  fdpipe: {
    description: `fdpipe WorkerPool, ${WORKERS} workers (processes), defaults`,
    open() {
      const pool = new WorkerPool(TASKS, { maxWorkers: WORKERS, minWorkers: WORKERS });
      return {
        add: (a, b) => pool.run('add', [a, b]),
        echo: (bytes) => pool.run('echo', [bytes]),
        cpu: (rounds) => pool.run('cpu', [rounds]),
        close: () => pool.close(),
      };
    },
  },
  'tinypool-process': {
    description: `tinypool ${version('tinypool')}, runtime 'child_process', ${WORKERS} workers`,
    open: () => tinypool('child_process'),
  },
  'tinypool-threads': {
    description: `tinypool ${version('tinypool')}, worker_threads, ${WORKERS} threads`,
    open: () => tinypool('worker_threads'),
  },
  piscina: {
    description: `piscina ${version('piscina')}, worker_threads, ${WORKERS} threads`,
    open() {
      const Piscina = require('piscina');
      const pool = new Piscina({ filename: TASKS_SINGLE, minThreads: WORKERS, maxThreads: WORKERS });
      return {
        add: (a, b) => pool.run({ a, b }, { name: 'add' }),
        echo: (bytes) => pool.run(bytes, { name: 'echo' }),
        cpu: (rounds) => pool.run(rounds, { name: 'cpu' }),
        close: () => pool.destroy(),
      };
    },
  },
  workerpool: {
    description: `workerpool ${version('workerpool')}, workerType 'process', ${WORKERS} workers`,
    open() {
      const workerpool = require('workerpool');
      const options = { workerType: 'process', minWorkers: WORKERS, maxWorkers: WORKERS };
      const pool = workerpool.pool(TASKS_WORKERPOOL, options);
      return {
        add: (a, b) => pool.exec('add', [a, b]),
        echo: (bytes) => pool.exec('echo', [bytes]),
        cpu: (rounds) => pool.exec('cpu', [rounds]),
        close: () => pool.terminate(true),
      };
    },
  },
  'jest-worker': {
    description: `jest-worker ${version('jest-worker')}, child processes, ${WORKERS} workers`,
    open() {
      const { Worker } = require('jest-worker');
      const pool = new Worker(TASKS, { numWorkers: WORKERS, exposedMethods: ['add', 'echo', 'cpu'] });
      return {
        add: (a, b) => pool.add(a, b),
        echo: (bytes) => pool.echo(bytes),
        cpu: (rounds) => pool.cpu(rounds),
        close: () => pool.end(),
      };
    },
  },
};
const IMPLS = Object.keys(POOLS);

/** A package's version, read from its folder (some packages' exports leave out package.json). */
function version(name) {
  const file = path.join(__dirname, '..', '..', 'node_modules', name, 'package.json');
  return JSON.parse(fs.readFileSync(file, 'utf8')).version;
}

function tinypool(runtime) {
  const { Tinypool } = require('tinypool');
  const pool = new Tinypool({ filename: TASKS_SINGLE, runtime, minThreads: WORKERS, maxThreads: WORKERS });
  return {
    add: (a, b) => pool.run({ a, b }, { name: 'add' }),
    echo: (bytes) => pool.run(bytes, { name: 'echo' }),
    cpu: (rounds) => pool.run(rounds, { name: 'cpu' }),
    close: () => pool.destroy(),
  };
}

// ---- measurements ---------------------------------------------------------------------------------------------------

/** A Buffer over the same memory: Buffer.from(aUint8Array) would copy it (the MiB sent, on every check, for every pool). */
const view = (bytes) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);

/** What an echo brought back, when it is not the bytes sent. */
function echoProblem(sent, got) {
  if (!(got instanceof Uint8Array)) {
    const kind =
      got === null ? 'null' : Array.isArray(got) ? 'an array' : typeof got === 'object' ? 'a plain object' : typeof got;
    return `bytes come back as ${kind}`;
  }
  return Buffer.compare(view(got), view(sent)) === 0
    ? undefined
    : `bytes come back changed (${got.byteLength} bytes)`;
}

function scenarios(budgetMs) {
  const payload = new Uint8Array(MiB).map((_, i) => (i * 31 + 7) & 0xff);
  const budget = budgetMs / 1000;
  const calibrate = (min, max) => (count, seconds) =>
    Math.min(max, Math.max(min, Math.round((count * budget) / seconds)));
  return [
    {
      id: 'tiny',
      scenario: `tiny add tasks, ${WINDOW} in flight`,
      unit: 'tasks/s',
      warmCount: 5000,
      countFor: calibrate(2000, 1_000_000),
      async measure(pool, count) {
        const seconds = await pipelined((i) => pool.add(i, 1), count, WINDOW, (i, sum) => {
          if (sum !== i + 1) throw new Error(`task ${i} returned ${sum}`);
        });
        return count / seconds;
      },
      targets: (impl) =>
        impl === 'fdpipe'
          ? [
              ...PROCESS_POOLS.map((vs) => ({ vs, atLeast: 10 })),
              ...THREAD_POOLS.map((vs) => ({ vs, atLeast: 3 })),
            ]
          : undefined,
    },
    {
      id: 'echo',
      scenario: 'echo 1 MiB Uint8Array, one at a time',
      unit: 'MiB/s',
      warmCount: 20,
      countFor: calibrate(5, 2000),
      async check(pool) {
        return echoProblem(payload, await pool.echo(payload));
      },
      async measure(pool, count) {
        const started = nowNs();
        for (let i = 0; i < count; i++) {
          const problem = echoProblem(payload, await pool.echo(payload));
          if (problem) throw new Error(problem);
        }
        return count / ((nowNs() - started) / 1e9);
      },
      targets: (impl) => (impl === 'fdpipe' ? [{ vs: 'jest-worker', atLeast: 1.5 }] : undefined),
    },
    {
      id: 'cpu',
      scenario: `CPU-bound task (~1 ms), ${CPU_WINDOW} in flight`,
      unit: 'tasks/s',
      warmCount: 200,
      countFor: calibrate(50, 100_000),
      async measure(pool, count) {
        const seconds = await pipelined(() => pool.cpu(CPU_ROUNDS), count, CPU_WINDOW);
        return count / seconds;
      },
    },
  ];
}

// ---- the run --------------------------------------------------------------------------------------------------------

async function run(opts) {
  const log = opts.log ?? (() => {});
  const impls = IMPLS.filter((impl) => !opts.impls || opts.impls.includes(impl) || impl === 'fdpipe');
  const list = scenarios(opts.budgetMs).filter((s) => !opts.scenarios || opts.scenarios.some((f) => s.id.includes(f)));
  const pools = new Map();
  // problems[scenarioId][impl]: why a pool has no figure there (a wrong echo, a failure); it is left out of it.
  const problems = Object.fromEntries(list.map((s) => [s.id, {}]));
  const step = (promise, what) => withTimeout(promise, STEP_TIMEOUT_MS, what);
  try {
    for (const impl of impls) pools.set(impl, POOLS[impl].open());
    const counts = Object.fromEntries(list.map((s) => [s.id, {}]));
    for (const scenario of list) {
      for (const impl of impls) {
        const pool = pools.get(impl);
        try {
          const problem = scenario.check ? await step(scenario.check(pool), `${impl} ${scenario.id} check`) : undefined;
          if (problem) {
            problems[scenario.id][impl] = problem;
            continue;
          }
          await step(scenario.measure(pool, scenario.warmCount), `${impl} ${scenario.id} warm-up`);
          const started = nowNs();
          await step(scenario.measure(pool, scenario.warmCount), `${impl} ${scenario.id} calibration`);
          counts[scenario.id][impl] = scenario.countFor(scenario.warmCount, (nowNs() - started) / 1e9);
        } catch (error) {
          problems[scenario.id][impl] = error.message;
        }
      }
      const sized = Object.entries(counts[scenario.id]).map(([i, n]) => `${i} ${n}`);
      log(`  calibrated ${scenario.id}: ${sized.join(', ')}`);
    }
    const samples = Object.fromEntries(list.map((s) => [s.id, Object.fromEntries(impls.map((impl) => [impl, []]))]));
    for (let round = 0; round < opts.rounds; round++) {
      const started = Date.now();
      for (const scenario of list) {
        const order = impls.map((_, i) => impls[(i + round) % impls.length]);
        for (const impl of order) {
          if (problems[scenario.id][impl] || counts[scenario.id][impl] === undefined) continue;
          try {
            const measured = scenario.measure(pools.get(impl), counts[scenario.id][impl]);
            const value = await step(measured, `${impl} ${scenario.id}`);
            samples[scenario.id][impl].push(value);
          } catch (error) {
            problems[scenario.id][impl] = error.message;
          }
        }
      }
      log(`  round ${round + 1}/${opts.rounds} done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    }
    const rows = [];
    for (const scenario of list) {
      for (const impl of impls) {
        const values = samples[scenario.id][impl];
        const problem = problems[scenario.id][impl];
        rows.push({
          scenario: scenario.scenario,
          impl,
          value: problem || values.length === 0 ? NaN : median(values),
          unit: scenario.unit,
          higherIsBetter: true,
          baselineImpl: 'fdpipe',
          samples: values,
          count: counts[scenario.id][impl],
          targets: scenario.targets?.(impl),
          error: problem,
        });
      }
    }
    const config = {
      rounds: opts.rounds,
      budgetMs: opts.budgetMs,
      workers: WORKERS,
      window: WINDOW,
      cpuWindow: CPU_WINDOW,
      impls: Object.fromEntries(impls.map((impl) => [impl, POOLS[impl].description])),
    };
    return { rows, config };
  } finally {
    await Promise.all([...pools.values()].map((pool) => Promise.resolve().then(() => pool.close()).catch(() => {})));
  }
}

module.exports = {
  name: 'pool',
  description: 'fdpipe WorkerPool vs tinypool (both runtimes), piscina, workerpool and jest-worker, side by side',
  run,
};
