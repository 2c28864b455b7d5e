'use strict';
// rpc suite, fdpipe peer: exposes the bench service over fd 4 with RpcPeer; the parent calls it through a typed proxy.

const { IPCChannel, RpcPeer } = require('fdpipe');
const { onParentGone } = require('../lib/child');

onParentGone();
// Exit normally on SIGTERM (the bench's way of stopping workers), so `node --cpu-prof` can write the profile.
process.on('SIGTERM', () => process.exit(0));

const channel = new IPCChannel();
channel.onError(() => {}); // EPIPE/ECONNRESET when the bench kills the parent's end at the end
channel.onClose(() => process.exit(0));
new RpcPeer(channel).expose('svc', {
  add: (a, b) => a + b,
  echo: (bytes) => bytes, // a view of the request message; the reply copies it into its own frame
});
process.send({ cmd: 'ready' });
