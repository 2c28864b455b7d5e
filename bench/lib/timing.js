'use strict';
// Clocks and deadlines for bench code.

/** Monotonic time in nanoseconds, as a Number (exact up to ~104 days of uptime). */
function nowNs() {
  return Number(process.hrtime.bigint());
}

/** Rejects with a message naming `what` if `promise` has not settled within `ms`. */
function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Timed out after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * `total` calls of `call(i)` with up to `window` in flight; seconds. `check(i, result)`, if given, throws on a wrong
 * result, which rejects the run.
 */
function pipelined(call, total, window, check) {
  return new Promise((resolve, reject) => {
    let issued = 0;
    let done = 0;
    const started = nowNs();
    const issue = () => {
      const i = issued++;
      call(i).then((result) => {
        if (check) {
          try {
            check(i, result);
          } catch (error) {
            return reject(error);
          }
        }
        done++;
        if (issued < total) issue();
        else if (done === total) resolve((nowNs() - started) / 1e9);
      }, reject);
    };
    for (let k = 0; k < Math.min(window, total); k++) issue();
  });
}

module.exports = { nowNs, withTimeout, sleep, pipelined };
