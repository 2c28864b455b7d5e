'use strict';
// Printing: a plain text table, and the standard table for one suite's rows.

const { describeTarget, countTargets } = require('./targets');

/** columns: [{ title, align: 'left' | 'right' }]; cells: array of arrays of strings. */
function formatTable(columns, cells) {
  const widths = columns.map((column, i) => Math.max(column.title.length, ...cells.map((row) => (row[i] ?? '').length)));
  const line = (row) =>
    row
      .map((cell, i) => (columns[i].align === 'right' ? cell.padStart(widths[i]) : cell.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(columns.map((c) => c.title)), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n');
}

function formatValue(value) {
  if (!Number.isFinite(value)) return String(value);
  const abs = Math.abs(value);
  if (abs >= 1000) return Math.round(value).toLocaleString('en-US');
  if (abs >= 100) return value.toFixed(0);
  if (abs >= 10) return value.toFixed(1);
  return value.toFixed(2);
}

function formatRatio(ratio) {
  return Number.isFinite(ratio) ? `${ratio.toFixed(2)}×` : '–';
}

/** The table for one suite: one line per row, the scenario named once per group, targets with their verdicts. */
function formatSuite(suite) {
  const cells = [];
  let previous;
  for (const row of suite.rows) {
    const targets = (row.targets ?? [])
      .map((t) => `${describeTarget(t)}: ${formatRatio(t.ratio)} ${t.met ? 'met' : 'MISSED'}`)
      .join('; ');
    cells.push([
      row.scenario === previous ? '' : row.scenario,
      row.impl,
      formatValue(row.value),
      row.unit,
      formatRatio(row.ratio),
      targets,
    ]);
    previous = row.scenario;
  }
  const baselines = [...new Set(suite.rows.map((r) => r.baselineImpl))].join(', ');
  const table = formatTable(
    [
      { title: 'scenario', align: 'left' },
      { title: 'impl', align: 'left' },
      { title: 'value', align: 'right' },
      { title: 'unit', align: 'left' },
      { title: `vs ${baselines}`, align: 'right' },
      { title: 'targets', align: 'left' },
    ],
    cells,
  );
  const { met, total } = countTargets(suite.rows);
  const rounds = suite.config && suite.config.rounds;
  const header = `== ${suite.name}: ${suite.description}`;
  const notes = [
    `values: median of ${rounds ?? '?'} rounds, all peers interleaved in each round; ratio = value / baseline value`,
    `targets met: ${met}/${total}; suite took ${suite.durationSeconds.toFixed(1)} s`,
  ];
  return [header, table, ...notes].join('\n');
}

module.exports = { formatTable, formatValue, formatRatio, formatSuite };
