// The worker for examples/invoke.js: registers functions with a Callee over Node's own IPC (process), the shape
// event-invoke code has. Only the import changed.
const { Callee } = require('fdpipe');

const callee = new Callee(process);
callee.register(function max(...numbers) {
  return Math.max(...numbers);
});
callee.register('slowUpper', async (text, signal) => {
  await new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, 200);
    signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      reject(signal.reason);
    });
  });
  return text.toUpperCase();
});
callee.listen();
process.on('disconnect', () => callee.destroy());
