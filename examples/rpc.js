// The quick start: fork a worker and call its `math` service through a typed proxy.
// Run it with `node examples/rpc.js` after `npm run build`.
const path = require('path');
const { forkWithChannel, RpcPeer, TimeoutError } = require('fdpipe');

async function main() {
  const { child, channel } = forkWithChannel(path.join(__dirname, 'math-worker.js'));
  const rpc = new RpcPeer(channel);

  // The worker calls this back while it works.
  rpc.expose('log', { line: (text) => console.log(`[worker says] ${text}`) });

  const math = rpc.proxy('math');
  console.log('max(1, 2, 3) =', await math.max(1, 2, 3));

  const listener = math.onProgress(({ done, of }) => {
    if (done === of) console.log(`[progress] ${done}/${of}`);
  });
  console.log('sum(1..1000) =', await math.sum(Array.from({ length: 1000 }, (_, i) => i + 1)));
  listener.dispose();

  try {
    await math.fail('too big');
  } catch (error) {
    console.log(`fail() rejected with ${error.name} (code ${error.code}): ${error.message}`);
  }

  try {
    await rpc.proxy('math', { timeout: 50 }).spin();
  } catch (error) {
    console.log(`spin() ${error instanceof TimeoutError ? 'timed out and was cancelled' : 'failed'}: ${error.message}`);
  }

  const exited = new Promise((resolve) => child.once('exit', resolve));
  channel.close();
  console.log('worker exited with code', await exited);
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
