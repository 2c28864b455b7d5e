'use strict';
// Order statistics for bench samples. Percentiles interpolate linearly between the two nearest ranks.

function sortedCopy(values) {
  return Float64Array.from(values).sort();
}

/** The p-th percentile (0–100) of `values`; NaN for an empty list. */
function percentile(values, p) {
  if (values.length === 0) return NaN;
  const sorted = sortedCopy(values);
  return percentileOfSorted(sorted, p);
}

/** Like percentile(), for values already sorted ascending (a Float64Array from sortedCopy, say). */
function percentileOfSorted(sorted, p) {
  if (sorted.length === 0) return NaN;
  const rank = (Math.min(Math.max(p, 0), 100) / 100) * (sorted.length - 1);
  const low = Math.floor(rank);
  const high = Math.ceil(rank);
  return sorted[low] + (sorted[high] - sorted[low]) * (rank - low);
}

function median(values) {
  return percentile(values, 50);
}

const p50 = (values) => percentile(values, 50);
const p99 = (values) => percentile(values, 99);

/** Rounds to `digits` significant digits, so results files do not carry noise in the 15th decimal. */
function roundSignificant(value, digits = 4) {
  if (!Number.isFinite(value) || value === 0) return value;
  const scale = 10 ** (digits - 1 - Math.floor(Math.log10(Math.abs(value))));
  return Math.round(value * scale) / scale;
}

module.exports = { percentile, percentileOfSorted, sortedCopy, median, p50, p99, roundSignificant };
