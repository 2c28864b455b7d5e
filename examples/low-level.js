// The low-level face: RpcProtocol's sendRequest / sendNotification / onNotification over a forked worker's fd 4.
// Run it with `node examples/low-level.js` after `npm run build`.
const path = require('path');
const { forkWithChannel, RpcProtocol } = require('fdpipe');

async function main() {
  const { child, channel } = forkWithChannel(path.join(__dirname, 'low-level-worker.js'));
  const rpc = new RpcProtocol(channel);
  rpc.onNotification(({ method, args }) => console.log(`notification ${method}(${args.join(', ')})`));

  console.log('add(5) =', await rpc.sendRequest('add', [5]));
  console.log('add(7) =', await rpc.sendRequest('add', [7]));
  const bytes = await rpc.sendRequest('bytes', [1 << 20]);
  console.log(`bytes(1 MiB): a ${bytes.constructor.name} of ${bytes.length} bytes, first 0x${bytes[0].toString(16)}`);
  try {
    await rpc.sendRequest('nope');
  } catch (error) {
    console.log(`nope() rejected: ${error.message}`);
  }

  const exited = new Promise((resolve) => child.once('exit', resolve));
  channel.close();
  console.log('worker exited with code', await exited);
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
