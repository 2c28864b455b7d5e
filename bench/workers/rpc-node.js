'use strict';
// rpc suite, Node IPC peer: `node rpc-node.js json|advanced`, forked with that `serialization`. The bench's minimal
// RPC over process.send: requests { i, m, a }, replies { i, r } or { i, e }. With 'json' bytes travel as base64
// strings (decoded here, encoded again for the reply, so the service sees real bytes); 'advanced' sends them as
// they are.

const { onParentGone } = require('../lib/child');

const json = process.argv[2] === 'json';
onParentGone();
process.on('SIGTERM', () => process.exit(0));

const service = {
  add: (a, b) => a + b,
  echo: (bytes) => bytes,
};

process.on('message', (message) => {
  if (message === null || typeof message !== 'object' || typeof message.i !== 'number') return;
  const fn = service[message.m];
  if (typeof fn !== 'function' || !Object.hasOwn(service, message.m)) {
    process.send({ i: message.i, e: `no method ${message.m}` });
    return;
  }
  let args = message.a;
  if (json && message.m === 'echo') args = [Buffer.from(args[0], 'base64')];
  let result = fn(...args);
  if (json && message.m === 'echo') result = Buffer.from(result.buffer, result.byteOffset, result.byteLength).toString('base64');
  process.send({ i: message.i, r: result });
});
process.send({ cmd: 'ready' });
