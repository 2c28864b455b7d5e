// The module of examples/pool.js: plain exported functions. It needs no fdpipe code; the pool's workers load it.
exports.add = (a, b) => a + b;

// Counts primes below `limit`, checking its signal now and then so a cancelled task stops.
exports.countPrimes = (limit, signal) => {
  let count = 0;
  for (let n = 2; n < limit; n++) {
    if (n % 10_000 === 0 && signal?.aborted) throw signal.reason;
    let prime = true;
    for (let d = 2; d * d <= n; d++) {
      if (n % d === 0) {
        prime = false;
        break;
      }
    }
    if (prime) count++;
  }
  return count;
};

// Waits for its signal, the way a task that awaits I/O would stop when cancelled.
exports.wait = (ms, signal) =>
  new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms, 'done');
    signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      reject(signal.reason);
    });
  });

exports.crash = () => {
  process.stderr.write('about to crash on purpose\n');
  process.exit(7);
};
