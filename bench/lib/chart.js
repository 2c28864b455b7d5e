'use strict';
// The chart of a results document (bench/results/latest.json) as a hand-written SVG: one bar per fdpipe result,
// its speed relative to the baseline measured in the same run. Written without a dependency, with fixed rounding,
// so the file changes only when the figures do.

const fs = require('fs');
const path = require('path');

// The rows that measure fdpipe itself; the other impls are the baselines and peers it is compared with.
const FDPIPE_IMPLS = new Set(['fdpipe', 'pipe', 'channel', 'last million', 'unix-socket', 'message-port', 'ipc-server']);

const WIDTH = 980;
const LABEL_WIDTH = 330;
const BAR_AREA = 380;
const ROW = 20;
const HEADER = 26;
const TOP = 58;
// Log scale: speeds from 1/4 to 8 times the baseline's; beyond that the bar is clipped and its label says so.
const MIN_SPEED = 1 / 4;
const MAX_SPEED = 8;

function escapeXml(text) {
  return String(text).replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
}

function round(value, digits = 3) {
  if (!Number.isFinite(value)) return 'n/a';
  return Number(value.toPrecision(digits)).toLocaleString('en-US');
}

/** Speed relative to the baseline, higher is better whatever the unit: a time's ratio is inverted. */
function relativeSpeed(row) {
  if (!Number.isFinite(row.ratio) || row.ratio <= 0) return NaN;
  return row.higherIsBetter ? row.ratio : 1 / row.ratio;
}

function xOf(speed) {
  const clamped = Math.min(MAX_SPEED, Math.max(MIN_SPEED, speed));
  const span = Math.log(MAX_SPEED) - Math.log(MIN_SPEED);
  return LABEL_WIDTH + ((Math.log(clamped) - Math.log(MIN_SPEED)) / span) * BAR_AREA;
}

function baselineValue(rows, row) {
  const base = rows.find((r) => r.scenario === row.scenario && r.impl === row.baselineImpl);
  return base ? base.value : NaN;
}

/** The groups to draw: per suite, its fdpipe rows that have a baseline other than themselves. */
function chartGroups(document) {
  const groups = [];
  for (const name of Object.keys(document.suites ?? {}).sort()) {
    const suite = document.suites[name];
    const rows = (suite.rows ?? []).filter((r) => FDPIPE_IMPLS.has(r.impl) && r.impl !== r.baselineImpl);
    if (rows.length > 0) groups.push({ name, rows, all: suite.rows });
  }
  return groups;
}

function renderChart(document) {
  const groups = chartGroups(document);
  const bars = groups.reduce((n, g) => n + g.rows.length, 0);
  const height = TOP + groups.length * HEADER + bars * ROW + 40;
  const x1 = xOf(1);
  const out = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}"` +
    ' font-family="system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif" font-size="12">');
  out.push(`<rect width="${WIDTH}" height="${height}" fill="#ffffff"/>`);
  const env = document.environment ?? {};
  out.push(`<text x="12" y="22" font-size="15" font-weight="bold">fdpipe against the baseline of each scenario (same run, medians)</text>`);
  out.push(`<text x="12" y="40" fill="#555">${escapeXml(`bar: speed relative to the baseline, log scale, right is faster · ${env.node ?? ''} · ` +
    `${env.cpus ?? '?'} CPUs · ${String(document.date ?? '').slice(0, 10)}`)}</text>`);

  const bottom = height - 30;
  for (const tick of [0.25, 0.5, 1, 2, 4, 8]) {
    const x = xOf(tick).toFixed(1);
    out.push(`<line x1="${x}" y1="${TOP - 6}" x2="${x}" y2="${bottom}" stroke="${tick === 1 ? '#333' : '#ddd'}"/>`);
    out.push(`<text x="${x}" y="${bottom + 14}" text-anchor="middle" fill="#555">${tick < 1 ? `1/${1 / tick}` : tick}×</text>`);
  }

  let y = TOP;
  for (const group of groups) {
    y += HEADER;
    out.push(`<text x="12" y="${y - 8}" font-weight="bold">${escapeXml(group.name)}</text>`);
    for (const row of group.rows) {
      const speed = relativeSpeed(row);
      const x = xOf(Number.isFinite(speed) ? speed : 1);
      const left = Math.min(x, x1).toFixed(1);
      const width = Math.abs(x - x1).toFixed(1);
      const colour = !Number.isFinite(speed) ? '#999' : speed >= 1 ? '#2b7bb9' : '#d9822b';
      const label = `${row.scenario} · ${row.impl}`;
      out.push(`<text x="12" y="${y + 14}">${escapeXml(label.length > 52 ? `${label.slice(0, 51)}…` : label)}</text>`);
      out.push(`<rect x="${left}" y="${y + 4}" width="${width}" height="${ROW - 7}" fill="${colour}"/>`);
      const base = baselineValue(group.all, row);
      const figures = `${round(row.value)} vs ${round(base)} ${row.unit} ${row.baselineImpl}`;
      out.push(`<text x="${(LABEL_WIDTH + BAR_AREA + 6)}" y="${y + 14}" fill="#333">${escapeXml(figures)}</text>`);
      y += ROW;
    }
  }
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

/** Reads a results file and writes its chart next to it (same name, .svg). Returns the chart's path. */
function writeChart(resultsFile, chartFile = resultsFile.replace(/\.json$/, '.svg')) {
  const document = JSON.parse(fs.readFileSync(resultsFile, 'utf8'));
  const temporary = `${chartFile}.${process.pid}.tmp`;
  fs.mkdirSync(path.dirname(chartFile), { recursive: true });
  fs.writeFileSync(temporary, renderChart(document));
  fs.renameSync(temporary, chartFile);
  return chartFile;
}

module.exports = { renderChart, writeChart, relativeSpeed, chartGroups };
