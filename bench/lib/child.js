'use strict';
// Forking bench workers, and making sure none outlives the bench: every child forked here is remembered and killed
// by killAll(), which the runner calls in a finally block and which also runs on exit, SIGINT and SIGTERM.
// Workers add their own guard: they exit when Node's IPC channel to the parent disconnects (see onParentGone).
// Worker threads started through startThread() are remembered too, and terminated by kill() and killAll().

const { fork } = require('child_process');
const { Worker } = require('worker_threads');

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

/**
 * Starts a worker_threads Worker running `modulePath` (options as for `new Worker`) and registers it for killAll();
 * kill(), exited(), rejectOnExit() and nextMessage() take it as they take a child process.
 */
function startThread(modulePath, options = {}) {
  installCleanup();
  const thread = new Worker(modulePath, options);
  live.add(thread);
  thread.once('exit', () => live.delete(thread));
  // An uncaught error in the thread ends it: rejectOnExit() reports it with the exit.
  thread.on('error', (error) => (thread.lastError = error));
  return thread;
}

const isThread = (child) => child instanceof Worker;
/** A thread's threadId is -1 once it has stopped. */
const hasExited = (child) =>
  isThread(child) ? child.threadId === -1 : child.exitCode !== null || child.signalCode !== null;
const nameOf = (child) => (isThread(child) ? `thread ${child.threadId}` : `pid ${child.pid}`);

/** Resolves when the child has exited (at once if it already has). */
function exited(child) {
  if (hasExited(child)) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/** A promise that rejects when the child exits, naming it: race it against work that needs the child alive. */
function rejectOnExit(child, name) {
  const label = nameOf(child);
  const promise = new Promise((_, reject) => {
    child.once('exit', (code, signal) => {
      const cause = child.lastError ? ` (${child.lastError.message})` : '';
      reject(new Error(`worker ${name} (${label}) exited: ${signal ?? `code ${code}`}${cause}`));
    });
  });
  promise.catch(() => {}); // only a failure for whoever races it
  return promise;
}

/** Resolves with the next IPC message (fd 3; a thread's parentPort) from `child` for which `accept` returns true. */
function nextMessage(child, accept = () => true) {
  const label = nameOf(child);
  return new Promise((resolve, reject) => {
    const onMessage = (message) => {
      if (!accept(message)) return;
      cleanup();
      resolve(message);
    };
    const onExit = (code, signal) => {
      cleanup();
      reject(new Error(`worker ${label} exited (${signal ?? `code ${code}`}) before answering`));
    };
    const cleanup = () => {
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

/**
 * Kills `child` (SIGKILL after `graceMs` if SIGTERM did not end it; a thread is terminated) and resolves once it
 * has exited.
 */
async function kill(child, graceMs = 1000) {
  if (hasExited(child)) return;
  if (isThread(child)) {
    await child.terminate();
    return;
  }
  const gone = exited(child);
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await gone;
  clearTimeout(timer);
}

/** Kills every child forked through forkWorker() (or tracked, or started by startThread()) that is still running. */
async function killAll() {
  await Promise.all([...live].map((child) => kill(child)));
}

function killAllNow() {
  for (const child of live) {
    if (isThread(child)) continue; // threads end with this process
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

module.exports = { forkWorker, startThread, track, exited, rejectOnExit, nextMessage, kill, killAll, onParentGone };
