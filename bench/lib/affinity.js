'use strict';
// CPU affinity for bench processes, through util-linux's `taskset` (Linux only).
//
// Why: on this kind of VM a round trip between two processes costs ~18 µs when both run on the same CPU and
// 50–80 µs when the reply has to wake the other CPU, and the scheduler picks one or the other at random for each
// process pair. Latency scenarios pin the parent and its workers to one CPU so that every peer is measured under the
// same placement and the figure shows the transport's own cost, not a coin flip.

const { execFileSync } = require('child_process');
const os = require('os');

let available;

/** True when processes can be pinned here (Linux with taskset). */
function canPin() {
  if (available === undefined) {
    available = false;
    if (process.platform === 'linux') {
      try {
        execFileSync('taskset', ['-p', String(process.pid)], { stdio: 'ignore' });
        available = true;
      } catch {
        available = false;
      }
    }
  }
  return available;
}

/** Restricts every thread of each process to `cpus` (a taskset list such as "1" or "0-3"). */
function setAffinity(pids, cpus) {
  for (const pid of pids) execFileSync('taskset', ['-a', '-p', '-c', cpus, String(pid)], { stdio: 'ignore' });
}

function allCpus() {
  return `0-${os.cpus().length - 1}`;
}

/** Runs `fn` with `pids` pinned to one CPU (the last one), then lets them run anywhere again. */
async function pinnedTogether(pids, fn) {
  const cpu = String(os.cpus().length - 1);
  setAffinity(pids, cpu);
  try {
    return await fn();
  } finally {
    setAffinity(pids.filter(isAlive), allCpus());
  }
}

function isAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

module.exports = { canPin, pinnedTogether, setAffinity };
