'use strict';
// The results file: bench/results/latest.json, meant to be committed. Keys come out in a fixed order (known keys
// first in a set order, the rest alphabetically) and measured figures are rounded, so a diff shows changed figures and
// nothing else. Running some suites replaces their entries and keeps the others.

const fs = require('fs');
const os = require('os');
const path = require('path');
const { roundSignificant } = require('./stats');

const KEY_ORDER = [
  'schema', 'date', 'environment', 'suites',
  'node', 'v8', 'platform', 'arch', 'cpus', 'cpuModel', 'totalMemoryMiB',
  'name', 'description', 'durationSeconds', 'targetsMet', 'targetsTotal', 'config', 'rows',
  'scenario', 'impl', 'value', 'unit', 'higherIsBetter', 'baselineImpl', 'ratio', 'targets', 'vs', 'atLeast',
  'atMost', 'met', 'samples', 'count',
];
const RANK = new Map(KEY_ORDER.map((key, i) => [key, i]));

function compareKeys(a, b) {
  const ra = RANK.has(a) ? RANK.get(a) : Infinity;
  const rb = RANK.has(b) ? RANK.get(b) : Infinity;
  if (ra !== rb) return ra - rb;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A copy with keys in the fixed order, fractional numbers rounded to 4 significant digits, undefined dropped. */
function normalize(value) {
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return null;
    return Number.isInteger(value) ? value : roundSignificant(value, 4);
  }
  if (Array.isArray(value) || ArrayBuffer.isView(value)) return Array.from(value, normalize);
  if (value !== null && typeof value === 'object') {
    const out = {};
    for (const key of Object.keys(value).sort(compareKeys)) {
      if (value[key] !== undefined) out[key] = normalize(value[key]);
    }
    return out;
  }
  return value;
}

function stableStringify(value) {
  return `${JSON.stringify(normalize(value), null, 2)}\n`;
}

function environment() {
  const cpus = os.cpus();
  return {
    node: process.version,
    v8: process.versions.v8,
    platform: process.platform,
    arch: process.arch,
    cpus: cpus.length,
    cpuModel: cpus[0] ? cpus[0].model.trim() : 'unknown',
    totalMemoryMiB: Math.round(os.totalmem() / 1024 / 1024),
  };
}

function readResults(file) {
  try {
    const parsed = JSON.parse(fs.readFileSync(file, 'utf8'));
    return parsed && typeof parsed === 'object' && parsed.suites ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/** Merges this run's suites into `file` (replacing same-named ones) and writes it atomically. */
function writeResults(file, suites, date) {
  const previous = readResults(file);
  const merged = { ...(previous ? previous.suites : {}) };
  for (const suite of suites) merged[suite.name] = { ...suite, date };
  const document = { schema: 1, date, environment: environment(), suites: merged };
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const temporary = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temporary, stableStringify(document));
  fs.renameSync(temporary, file);
}

module.exports = { environment, stableStringify, writeResults };
