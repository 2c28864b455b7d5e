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

module.exports = { nowNs, withTimeout, sleep };
