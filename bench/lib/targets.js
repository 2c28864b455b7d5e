'use strict';
// Ratios against the baseline measured in the same run, and the verdict on each target.
//
// A row: { scenario, impl, value, unit, higherIsBetter, baselineImpl, samples?, targets? } where targets is a list
// of { vs: impl, atLeast: r } or { vs: impl, atMost: r } about value / (the `vs` row's value in the same scenario).
// A ratio is always value / other value, the two figures the table prints, so anyone can check it by hand.

function ratioBetween(row, other) {
  return other ? row.value / other.value : NaN;
}

/** Returns new rows with `ratio` (vs baselineImpl) and each target's `ratio` and `met` filled in. */
function evaluate(rows) {
  const find = (scenario, impl) => rows.find((r) => r.scenario === scenario && r.impl === impl);
  return rows.map((row) => {
    const out = { ...row, ratio: ratioBetween(row, find(row.scenario, row.baselineImpl)) };
    if (row.targets && row.targets.length > 0) {
      // A target against a peer left out of this run (--impls) has no verdict and is dropped.
      const judged = row.targets.filter((target) => find(row.scenario, target.vs) !== undefined);
      out.targets = judged.map((target) => {
        const ratio = ratioBetween(row, find(row.scenario, target.vs));
        const met =
          Number.isFinite(ratio) && (target.atLeast !== undefined ? ratio >= target.atLeast : ratio <= target.atMost);
        return { ...target, ratio, met };
      });
      if (out.targets.length === 0) delete out.targets;
    } else {
      delete out.targets;
    }
    return out;
  });
}

/** "≥ 0.70× raw" */
function describeTarget(target) {
  return target.atLeast !== undefined ? `≥ ${target.atLeast}× ${target.vs}` : `≤ ${target.atMost}× ${target.vs}`;
}

function countTargets(rows) {
  let met = 0;
  let total = 0;
  for (const row of rows) {
    for (const target of row.targets ?? []) {
      total++;
      if (target.met) met++;
    }
  }
  return { met, total };
}

module.exports = { evaluate, describeTarget, countTargets };
