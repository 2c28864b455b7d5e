// The worker for examples/invoke.js: registers functions with a Callee over Node's own IPC (process), as event-invoke
// code does. Only the import changed.
const { Callee, currentCallSignal } = require('fdpipe/event-invoke');

const callee = new Callee(process);
callee.register(function max(...numbers) {
  return Math.max(...numbers);
});
callee.register(async function slowUpper(text) {
  // The caller's signal (its AbortSignal or its timeout) reaches the function without taking an argument's place.
  const signal = currentCallSignal();
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
