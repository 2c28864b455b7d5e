'use strict';
// The transports suite: the same fdpipe RPC — a typed proxy calling { add(a, b), echo(bytes) } served as 'svc' —
// over each of fdpipe's transports, side by side in one run. Peers (parent ends in lib/fdpipe-peers.js, the other
// end is workers/rpc-fdpipe.js):
// - fd4           RpcPeer over forkWithChannel: the child's `new IPCChannel()` on fd 4. The baseline.
// - unix-socket   RpcPeer over a Unix socket in a fresh temp dir (removed afterwards): listen(path) here,
//                 connect(path) in a forked child.
// - unix-session  the same over a persistent session (listenPersistent / connectPersistent): what acks, the replay
//                 buffer and the keep-alive cost when nothing drops; its ratio to unix-socket is the session's cost.
// - message-port  RpcPeer over MessagePortChannel on both ends of a MessageChannel, to a worker_threads Worker (the
//                 port goes in workerData and the transferList).
// - ipc-server    the channel-services face: an IPCServer listening on a Unix socket, an IPCClient in a forked
//                 child registering ProxyChannel.fromService(service); calls go through
//                 ProxyChannel.toService(server.getChannel('svc', ctx => ctx === …)), a router by context.
// No targets: the table reports each transport's ratio to fd 4.
//
// Scenarios (lib/rpc-bench.js, the rpc suite's): sequential add (p50/p99, µs), pipelined add with 256 in flight
// (calls/s), echo of a 1 MiB Uint8Array one call at a time (payload MiB/s); a round of each is made in SLICES turns,
// the peers alternating, so that a busy stretch of the shared machine lands on all of them rather than on one peer's
// whole round. The sequential calls run with this process and the workers' processes pinned to one CPU
// (lib/affinity.js; --no-pin to turn it off), as the pipe suite's ping-pong does, so that a process and a thread are
// measured under the same placement: on this 2-CPU VM a round trip that must wake the other CPU costs several times
// one that does not, and the scheduler picks either.
// About 25 s at the runner's defaults (5 rounds, 300 ms budget).

const { PEERS } = require('../lib/fdpipe-peers');
const { rpcSuite } = require('../lib/rpc-bench');

/** Turns per round of the throughput scenarios (the sequential one takes 4 turns in any suite). */
const SLICES = { pipelined: 4, 'echo-1MiB': 4 };

module.exports = rpcSuite({
  name: 'transports',
  description: 'fdpipe RPC (typed proxy) over fd 4, a Unix socket, a MessagePort and IPCServer/IPCClient, side by side',
  peers: PEERS,
  implOrder: ['fd4', 'unix-socket', 'unix-session', 'message-port', 'ipc-server'],
  baseline: 'fd4',
  scenarioIds: ['sequential', 'pipelined', 'echo-1MiB'],
  scenarioOptions: { slices: SLICES },
  pinSequential: true,
});
