// Invoker / Callee, event-invoke's API: call functions in a forked worker by name over Node's IPC channel (no fd 4
// needed), in event-invoke's own message shape — the worker could be running event-invoke itself.
// Run it with `node examples/invoke.js` after `npm run build`.
const { fork } = require('child_process');
const path = require('path');
const { Invoker, AbortError } = require('fdpipe/event-invoke');

async function main() {
  const child = fork(path.join(__dirname, 'invoke-worker.js'));
  const invoker = new Invoker(child); // every call times out after 3 s unless its options say otherwise

  console.log("invoke('max', [1, 2, 3]) =", await invoker.invoke('max', [1, 2, 3]));
  console.log("invoke('slowUpper', 'hi') =", await invoker.invoke('slowUpper', 'hi'));

  try {
    await invoker.invoke('slowUpper', 'late', { timeout: 20 });
  } catch (error) {
    console.log(`timed out: ${error.message}`);
  }

  // fdpipe's addition: an AbortSignal in the options cancels the call, and the worker sees it.
  const controller = new AbortController();
  setTimeout(() => controller.abort(), 20);
  try {
    await invoker.invoke('slowUpper', 'never', { signal: controller.signal, timeout: 5000 });
  } catch (error) {
    console.log(`aborted call rejected with ${error instanceof AbortError ? 'AbortError' : error.name}`);
  }

  // As in event-invoke, destroy() disconnects the child, which then exits on its own.
  invoker.destroy();
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
