#!/usr/bin/env node
'use strict';
// The bench runner: `node bench/run.js [suite ...] [options]` (or `npm run bench`, which builds dist/ first).
//
// A suite is a module in bench/suites/ exporting { name, description, run: async (opts) => ({ rows, config }) }
// (or just rows): see bench/README.md. The runner runs the suites asked for (all by default), computes ratios against the
// baseline measured in the same run and the verdict on each target, prints one table per suite, and writes
// bench/results/latest.json.

const fs = require('fs');
const path = require('path');
const { killAll } = require('./lib/child');
const { evaluate, countTargets } = require('./lib/targets');
const { formatSuite } = require('./lib/table');
const { environment, writeResults } = require('./lib/results');
const { writeChart } = require('./lib/chart');

const SUITES_DIR = path.join(__dirname, 'suites');
const RESULTS_FILE = path.join(__dirname, 'results', 'latest.json');

const USAGE = `usage: node bench/run.js [suite ...] [options]

options:
  --rounds N        measurement rounds per scenario; values are medians over rounds (default 5)
  --budget MS       target duration of one measurement, in ms (default 300)
  --quick           3 rounds of 100 ms: a fast smoke run
  --impls A,B       only these implementations (suites that support it; the baseline always runs)
  --scenarios A,B   only scenarios whose id contains one of these (suites that support it)
  --no-pin          do not pin latency scenarios to one CPU (suites that pin; see bench/lib/affinity.js)
  --no-save         do not write ${path.relative(process.cwd(), RESULTS_FILE)}
  --list            list the suites and exit`;

/** A mistake on the command line: printed without a stack trace. */
class UsageError extends Error {}

function loadSuites() {
  const suites = new Map();
  for (const file of fs.readdirSync(SUITES_DIR).filter((f) => f.endsWith('.js')).sort()) {
    const suite = require(path.join(SUITES_DIR, file));
    if (!suite || typeof suite.name !== 'string' || typeof suite.run !== 'function') {
      throw new Error(`bench/suites/${file} does not export { name, run }`);
    }
    suites.set(suite.name, suite);
  }
  return suites;
}

function parseArgs(argv) {
  const options = { names: [], rounds: 5, budgetMs: 300, save: true, list: false };
  const list = (value) => value.split(',').map((s) => s.trim()).filter(Boolean);
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) throw new UsageError(`${arg} needs a value`);
      return argv[++i];
    };
    switch (arg) {
      case '--rounds':
        options.rounds = positiveInteger(arg, value());
        break;
      case '--budget':
        options.budgetMs = positiveInteger(arg, value());
        break;
      case '--quick':
        options.rounds = 3;
        options.budgetMs = 100;
        break;
      case '--impls':
        options.impls = list(value());
        break;
      case '--scenarios':
        options.scenarios = list(value());
        break;
      case '--no-pin':
        options.pin = false;
        break;
      case '--no-save':
        options.save = false;
        break;
      case '--list':
        options.list = true;
        break;
      case '-h':
      case '--help':
        console.log(USAGE);
        process.exit(0);
        break;
      default:
        if (arg.startsWith('-')) throw new UsageError(`unknown option ${arg}\n${USAGE}`);
        options.names.push(arg);
    }
  }
  return options;
}

function positiveInteger(name, text) {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`${name} takes a whole number ≥ 1, got ${text}`);
  return n;
}

async function main() {
  const options = parseArgs(process.argv.slice(2));
  const suites = loadSuites();
  if (options.list) {
    for (const suite of suites.values()) console.log(`${suite.name.padEnd(12)} ${suite.description ?? ''}`);
    return;
  }
  const names = options.names.length > 0 ? options.names : [...suites.keys()];
  const unknown = names.filter((name) => !suites.has(name));
  if (unknown.length > 0) throw new UsageError(`unknown suite ${unknown.join(', ')}; known: ${[...suites.keys()].join(', ')}`);

  const env = environment();
  console.log(`fdpipe bench — node ${env.node}, ${env.cpus} cpus (${env.cpuModel}), ${env.platform}/${env.arch}`);
  const date = new Date().toISOString();
  const results = [];
  for (const name of names) {
    const suite = suites.get(name);
    console.error(`running ${name} (${options.rounds} rounds, ~${options.budgetMs} ms per measurement)…`);
    const started = Date.now();
    const outcome = await suite.run({
      rounds: options.rounds,
      budgetMs: options.budgetMs,
      impls: options.impls,
      scenarios: options.scenarios,
      pin: options.pin,
      log: (line) => console.error(line),
    });
    // A suite returns { rows, config } or just its rows.
    const { rows, config } = Array.isArray(outcome) ? { rows: outcome, config: undefined } : outcome;
    const evaluated = evaluate(rows);
    const { met, total } = countTargets(evaluated);
    const result = {
      name,
      description: suite.description ?? '',
      durationSeconds: (Date.now() - started) / 1000,
      targetsMet: met,
      targetsTotal: total,
      config,
      rows: evaluated,
    };
    results.push(result);
    console.log(`\n${formatSuite(result)}\n`);
  }
  if (options.save) {
    writeResults(RESULTS_FILE, results, date);
    const chart = writeChart(RESULTS_FILE);
    console.log(`results written to ${path.relative(process.cwd(), RESULTS_FILE)} and ${path.relative(process.cwd(), chart)}`);
  }
}

main()
  .catch((error) => {
    console.error(error instanceof UsageError ? error.message : error && error.stack ? error.stack : error);
    process.exitCode = 1;
  })
  .finally(() => killAll());
