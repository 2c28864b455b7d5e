'use strict';
// rpc suite, birpc peer: `node rpc-birpc.js send|fd4`.
// - send: over process.send / 'message' (the parent forks with serialization 'json'); birpc's serialize and
//   deserialize stay the identity and Node's IPC does the JSON; bytes travel as base64 strings.
// - fd4: over fd 4 with the bench's 4-byte length-prefix framing (lib/framing.js, as the raw ceiling uses);
//   serialize/deserialize are v8.serialize/v8.deserialize, so Uint8Array arguments and results go as bytes.
// birpc's other options are its defaults (including its 60 s per-call timeout timer).

const net = require('net');
const { onParentGone } = require('../lib/child');
const { framedV8Channel } = require('../lib/framing');

const mode = process.argv[2];
onParentGone();
process.on('SIGTERM', () => process.exit(0));

const base64 = mode === 'send';
const functions = {
  add: (a, b) => a + b,
  // base64 is decoded into bytes and encoded again for the reply, so the service sees real bytes.
  echo: (bytes) => (base64 ? Buffer.from(bytes, 'base64').toString('base64') : bytes),
};

function channelOptions() {
  if (mode === 'send') {
    return {
      post: (data) => process.send(data),
      on: (fn) => process.on('message', (m) => m && m.t !== undefined && fn(m)),
    };
  }
  if (mode === 'fd4') {
    const socket = new net.Socket({ fd: 4, readable: true, writable: true });
    socket.on('error', () => {});
    socket.on('end', () => process.exit(0));
    return framedV8Channel(socket);
  }
  console.error(`rpc-birpc: unknown mode ${mode}`);
  process.exit(2);
}

async function main() {
  // birpc 4 ships as an ES module only; import() loads it on every Node version fdpipe supports.
  const { createBirpc } = await import('birpc');
  createBirpc(functions, channelOptions());
  process.send({ cmd: 'ready' });
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
