'use strict';
// Forking bench workers, and making sure none outlives the bench: every child forked here is remembered and killed
// by killAll(), which the runner calls in a finally block and which also runs on exit, SIGINT and SIGTERM.
// Workers add their own guard: they exit when Node's IPC channel to the parent disconnects (see onParentGone).

const { fork } = require('child_process');

const live = new Set();
let cleanupInstalled = false;

/** Forks `modulePath` like child_process.fork and registers the child for killAll(). */
function forkWorker(modulePath, args = [], options = {}) {
  installCleanup();
  return track(fork(modulePath, args, options));
}

/** Registers a child forked elsewhere (by fdpipe's forkWithChannel, say) for killAll(); returns it. */
function track(child) {
  installCleanup();
  live.add(child);
  child.once('exit', () => live.delete(child));
  // A dead child's pipes may emit EPIPE/ECONNRESET; the bench reports failures through exited(), never by crashing.
  for (const stream of child.stdio) if (stream && typeof stream.on === 'function') stream.on('error', () => {});
  child.on('error', () => {});
  return child;
}

/** Resolves when the child has exited (at once if it already has). */
function exited(child) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/** A promise that rejects when the child exits, naming it: race it against work that needs the child alive. */
function rejectOnExit(child, name) {
  const promise = new Promise((_, reject) => {
    child.once('exit', (code, signal) =>
      reject(new Error(`worker ${name} (pid ${child.pid}) exited: ${signal ?? `code ${code}`}`)),
    );
  });
  promise.catch(() => {}); // only a failure for whoever races it
  return promise;
}

/** Resolves with the next IPC message (fd 3) from `child` for which `accept` returns true. */
function nextMessage(child, accept = () => true) {
  return new Promise((resolve, reject) => {
    const onMessage = (message) => {
      if (!accept(message)) return;
      cleanup();
      resolve(message);
    };
    const onExit = (code, signal) => {
      cleanup();
      reject(new Error(`worker pid ${child.pid} exited (${signal ?? `code ${code}`}) before answering`));
    };
    const cleanup = () => {
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

/** Kills `child` (SIGKILL after `graceMs` if SIGTERM did not end it) and resolves once it has exited. */
async function kill(child, graceMs = 1000) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = exited(child);
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await gone;
  clearTimeout(timer);
}

/** Kills every child forked through forkWorker() that is still running. */
async function killAll() {
  await Promise.all([...live].map((child) => kill(child)));
}

function killAllNow() {
  for (const child of live) {
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
}

function installCleanup() {
  if (cleanupInstalled) return;
  cleanupInstalled = true;
  process.on('exit', killAllNow);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.once(signal, () => {
      killAllNow();
      process.exit(128 + (signal === 'SIGINT' ? 2 : signal === 'SIGTERM' ? 15 : 1));
    });
  }
}

/** For workers: exit as soon as the parent's IPC channel goes away, so no worker lives on as an orphan. */
function onParentGone(exit = () => process.exit(0)) {
  if (!process.connected) return exit();
  process.once('disconnect', exit);
}

module.exports = { forkWorker, track, exited, rejectOnExit, nextMessage, kill, killAll, onParentGone };
