// A pool of worker processes running examples/pool-tasks.js: tasks by name and through a typed-style proxy,
// cancellation, a crash that fails only its own task, and the pool's stats.
// Run it with `node examples/pool.js` after `npm run build`.
const path = require('path');
const { WorkerPool, TaskAbortedError, WorkerExitedError } = require('fdpipe');

async function main() {
  const pool = new WorkerPool(path.join(__dirname, 'pool-tasks.js'), {
    maxWorkers: 2,
    stdio: { stderr: 'ignore' }, // the crash's stderr is kept for its error all the same
  });
  try {
    console.log('add(1, 2) =', await pool.run('add', [1, 2]));

    const sums = await Promise.all(Array.from({ length: 10_000 }, (_, i) => pool.run('add', [i, 1])));
    console.log(`${sums.length} tiny tasks, the last gave ${sums[sums.length - 1]}`);

    const tasks = pool.proxy();
    console.log('primes below 200 000:', await tasks.countPrimes(200_000));

    // The worker's function gets a live signal as its last argument; aborting here fires it there.
    const controller = new AbortController();
    const waiting = pool.run('wait', [60_000], { signal: controller.signal });
    setTimeout(() => controller.abort(), 20);
    await waiting.catch((error) => {
      if (error instanceof TaskAbortedError) console.log('wait() was cancelled:', error.message);
    });

    // A worker that dies fails only its own tasks, saying which and why; the pool replaces it.
    await pool.run('crash').catch((error) => {
      if (error instanceof WorkerExitedError) console.log(`crash() failed: exit code ${error.exitCode}: ${error.message}`);
    });
    console.log('and the pool goes on: add(2, 3) =', await pool.run('add', [2, 3]));

    const { completed, failed, runTime } = pool.stats;
    console.log(`completed ${completed}, failed ${failed}, task time p50 ${runTime.p50.toFixed(3)} ms`);
  } finally {
    await pool.close(); // running tasks finish, then every worker exits
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
