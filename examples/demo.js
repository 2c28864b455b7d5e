// Forks a worker, talks to it over fd 4 with fdpipe's channel, and prints what happened.
// Run it with `npm run demo` (that builds dist/ first).
const path = require('path');
const { forkWithChannel } = require('fdpipe');

const { child, channel } = forkWithChannel(path.join(__dirname, 'demo-worker.js'));

// Each reply is answered by the next message from the worker, in order.
const waiting = [];
channel.onMessage((read) => waiting.shift()(read()));
const reply = () => new Promise((resolve) => waiting.push(resolve));

async function main() {
  console.log(`[parent] forked worker ${child.pid}; messages go over fd 4, fd 3 stays Node's IPC`);

  channel.getWriteBuffer().writeString('greet').writeString('parent').commit();
  let message = await reply();
  console.log(`[parent] ${message.readString()}: ${message.readString()}`);

  const numbers = [1.5, 2.25, 3, 40];
  const buffer = channel.getWriteBuffer().writeString('sum').writeLength(numbers.length);
  for (const n of numbers) buffer.writeNumber(n);
  buffer.commit();
  message = await reply();
  console.log(`[parent] ${message.readString()} of ${numbers.join(' + ')} = ${message.readNumber()}`);

  const payload = Buffer.alloc(8 * 1024 * 1024, 7);
  const started = process.hrtime.bigint();
  channel.getWriteBuffer().writeString('echo').writeBytes(payload).commit();
  message = await reply();
  message.readString();
  const echoed = message.readBytes();
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  console.log(
    `[parent] echoed ${echoed.length} bytes in ${ms.toFixed(1)} ms, byte-exact: ${Buffer.compare(echoed, payload) === 0}`,
  );

  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  channel.onClose((event) => console.log(`[parent] channel closed: ${event.reason}`));
  channel.close();
  const { code } = await exited;
  console.log(`[parent] worker exited with code ${code}`);
}

main().catch((error) => {
  console.error(error);
  child.kill();
  process.exitCode = 1;
});
