'use strict';
// The other end of fdpipe's RPC peers (rpc suite: fdpipe; transports suite: every peer, see lib/fdpipe-peers.js):
// serves the bench service { add(a, b), echo(bytes) } as 'svc' over the transport named by its first argument,
// and says { cmd: 'ready' } to the parent (Node's IPC, or parentPort in a thread) once it is served.
//   node rpc-fdpipe.js [fd4]                   RpcPeer over `new IPCChannel()` (fd 4, from forkWithChannel)
//   node rpc-fdpipe.js unix-socket PATH        RpcPeer over connect(PATH)
//   node rpc-fdpipe.js unix-session PATH       RpcPeer over connectPersistent(PATH): a session that survives drops
//   node rpc-fdpipe.js ipc-client PATH CTX     IPCClient.connect(PATH, CTX) serving ProxyChannel.fromService
//   new Worker(this file, { workerData: { port } })   RpcPeer over a MessagePortChannel on `port`

const { isMainThread, parentPort, workerData } = require('worker_threads');
const fdpipe = require('fdpipe');
const { onParentGone } = require('../lib/child');

const service = {
  add: (a, b) => a + b,
  echo: (bytes) => bytes, // a view of the request message; the reply copies it into its own frame
};

/** Serves the bench service on `channel`; leaves when the other side closes it. */
function serve(channel, leave) {
  channel.onError(() => {}); // EPIPE/ECONNRESET when the bench stops its end
  channel.onClose(leave);
  new fdpipe.RpcPeer(channel).expose('svc', service);
}

async function main() {
  if (!isMainThread) {
    serve(new fdpipe.MessagePortChannel(workerData.port), () => {});
    parentPort.postMessage({ cmd: 'ready' });
    return;
  }
  onParentGone();
  // Exit normally on SIGTERM (the bench's way of stopping workers), so `node --cpu-prof` can write the profile.
  process.on('SIGTERM', () => process.exit(0));
  const exit = () => process.exit(0);
  const [mode = 'fd4', address, ctx] = process.argv.slice(2);
  switch (mode) {
    case 'fd4':
      serve(new fdpipe.IPCChannel(), exit);
      break;
    case 'unix-socket':
      serve(await fdpipe.connect(address), exit);
      break;
    case 'unix-session':
      serve(await fdpipe.connectPersistent(address), exit);
      break;
    case 'ipc-client': {
      const client = await fdpipe.IPCClient.connect(address, ctx);
      client.onDidClose(exit);
      client.registerChannel('svc', fdpipe.ProxyChannel.fromService(service));
      break;
    }
    default:
      throw new Error(`rpc-fdpipe: unknown transport ${mode}`);
  }
  process.send({ cmd: 'ready' });
}

main().catch((error) => {
  console.error(error);
  process.exit(2);
});
