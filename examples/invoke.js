// Invoker / Callee: call functions in a forked worker by name, over Node's IPC channel (no fd 4 needed).
// Run it with `node examples/invoke.js` after `npm run build`.
const { fork } = require('child_process');
const path = require('path');
const { Invoker, AbortError } = require('fdpipe');

async function main() {
  const child = fork(path.join(__dirname, 'invoke-worker.js'));
  const invoker = new Invoker(child, { timeout: 5000 });

  console.log("invoke('max', 1, 2, 3) =", await invoker.invoke('max', 1, 2, 3));
  console.log("invoke('slowUpper', 'hi') =", await invoker.invoke('slowUpper', 'hi'));

  const controller = new AbortController();
  setTimeout(() => controller.abort(), 20);
  try {
    await invoker.invoke('slowUpper', 'never', controller.signal);
  } catch (error) {
    console.log(`aborted call rejected with ${error instanceof AbortError ? 'AbortError' : error.name}`);
  }

  invoker.destroy();
  child.disconnect();
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
