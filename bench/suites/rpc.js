'use strict';
// The rpc suite: fdpipe's typed proxy (RpcPeer over forkWithChannel) against Node's IPC with a minimal
// id → promise RPC, birpc, vscode-jsonrpc, and the raw fd-4 ceiling — every peer talking to its own forked child,
// all measured in the same run. The child serves { add(a, b), echo(bytes) }.
//
// Peers (parent side here, fdpipe's in lib/fdpipe-peers.js; child side in bench/workers/rpc-*.js):
// - raw            bench/workers/pipe-peer.js in echo mode over fd 4 with the bench's framing (lib/framing.js): no
//                  ids, no codec, replies matched in order. The ceiling; `add` is a 16-byte ping-pong, about the size
//                  of fdpipe's add request.
// - fdpipe         new RpcPeer(channel).proxy('svc') over forkWithChannel; defaults (no caller stacks, no timeout).
// - node-json      child.send / process.send, serialization 'json', the bench's own id → promise Map RPC; bytes as
//                  base64 strings (encoded and decoded on both sides).
// - node-advanced  the same with serialization 'advanced'; bytes go as the Uint8Array itself.
// - birpc-send     birpc over child.send / process.send ('json' serialization, birpc's serialize/deserialize left
//                  as the identity: Node's IPC does the JSON); bytes as base64.
// - birpc-fd4      birpc over fd 4 with the same 4-byte length-prefix framing as raw (lib/framing.js);
//                  serialize/deserialize = v8.serialize/v8.deserialize, so bytes go as bytes — the fairest choice
//                  for a binary echo, and what 'advanced' IPC does too.
// - jsonrpc        vscode-jsonrpc MessageConnection over the fd-4 stream (StreamMessageReader/Writer, its own
//                  Content-Length framing); bytes as base64 strings.
// Library options are their defaults (birpc keeps its 60 s per-call timeout timer).
//
// Scenarios (lib/rpc-bench.js, shared with the transports suite), sized so the suite stays under ~3 minutes at the
// runner's defaults (5 rounds, 300 ms budget):
// - sequential add(a, b): SEQ_CALLS × budget/300 ms calls per round per peer (20 000 by default, so the default 5
//   rounds make the 100 000 calls a peer); p50 and p99 of each round, median over rounds.
// - pipelined add with 256 in flight: calls/s; each peer's count is calibrated to PIPELINED_BUDGETS (2) budgets of
//   time — a fixed time budget per peer instead of the 1M calls, which the slow peers would take minutes
//   over; each peer's count is in the results.
// - echo of a 1 MiB Uint8Array, one call at a time: payload MiB/s (each call carries it there and back);
//   count calibrated to the budget.
// - echo of a 64 MiB Uint8Array: ms for one call, once per round in the first BIG_ROUNDS (3) rounds only.
// - add p99 while a 64 MiB echo is in flight: an add call every millisecond (not waiting for the previous one) from
//   just after the echo is sent until it resolves, p99 of their round trips (with one stream per peer they queue
//   behind the 64 MiB, so this is about how long a big transfer blocks small calls); first BIG_ROUNDS rounds only.
//   The number of add calls made in each round is the row's `count`.
// Each (scenario, peer) is warmed up first; then every round runs each scenario for every peer, rotating which
// peer goes first (sequential calls in SEQ_SLICES turns), so a noisy stretch of the shared machine hits everyone
// alike. Values are medians over rounds.

const path = require('path');
const { IMPLS } = require('../lib/transports');
const { framedV8Channel } = require('../lib/framing');
const { forkWorker, nextMessage } = require('../lib/child');
const { PEERS: FDPIPE_PEERS } = require('../lib/fdpipe-peers');
const rpcBench = require('../lib/rpc-bench');

const WORKERS = path.join(__dirname, '..', 'workers');
const BASELINE = 'raw';
const IMPL_ORDER = ['raw', 'fdpipe', 'node-json', 'node-advanced', 'birpc-send', 'birpc-fd4', 'jsonrpc'];
/** The absolute pipelined target (≥ 500 000 calls/s), as a reference row the harness can compare with. */
const PIPELINED_GOAL = 500_000;
const RAW_CALL_BYTES = 16;
const FD4_STDIO = ['inherit', 'inherit', 'inherit', 'ipc', 'pipe'];

// ---- parent ends of the peers -------------------------------------------------------------------------------------
// Each open() resolves to { child, add(a, b), echo(bytes), checksResults } once its worker is ready; echo resolves
// with the bytes echoed.

/** The bench's minimal id → promise map, for the RPC it writes itself over Node's IPC. */
class PendingCalls {
  constructor() {
    this.calls = new Map();
    this.lastId = 0;
  }

  add(resolve, reject) {
    let id = this.lastId;
    do id = id >= 0x7fffffff ? 1 : id + 1;
    while (this.calls.has(id));
    this.lastId = id;
    this.calls.set(id, { resolve, reject });
    return id;
  }

  settle(id, error, value) {
    const call = this.calls.get(id);
    if (call === undefined) return;
    this.calls.delete(id);
    if (error !== undefined) call.reject(new Error(String(error)));
    else call.resolve(value);
  }

  rejectAll(error) {
    for (const call of this.calls.values()) call.reject(error);
    this.calls.clear();
  }
}

const toBuffer = (bytes) => (Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
const toBase64 = (bytes) => toBuffer(bytes).toString('base64');
const fromBase64 = (text) => Buffer.from(text, 'base64');

function openFdSocket(child) {
  const socket = child.stdio[4];
  socket.on('error', () => {});
  return socket;
}

const PEERS = {
  raw: {
    description: 'raw fd-4 bytes, bench framing, ordered echo (ceiling; add = 16-byte ping-pong)',
    async open() {
      const { child, transport } = IMPLS.raw.fork(path.join(WORKERS, 'pipe-peer.js'), ['raw']);
      // Replies come back in order: a FIFO of resolvers is all the matching there is.
      const waiting = [];
      let head = 0;
      transport.onMessage((bytes) => {
        const resolve = waiting[head];
        waiting[head++] = undefined;
        if (head === waiting.length) waiting.length = head = 0;
        resolve(bytes);
      });
      const call = (bytes) =>
        new Promise((resolve) => {
          waiting.push(resolve);
          transport.send(bytes);
        });
      const small = Buffer.alloc(RAW_CALL_BYTES, 7);
      await nextMessage(child, (m) => m && m.cmd === 'ready');
      const ok = nextMessage(child, (m) => m && m.cmd === 'ok');
      child.send({ cmd: 'echo' });
      await ok;
      return { child, checksResults: false, add: () => call(small), echo: call };
    },
  },
  fdpipe: FDPIPE_PEERS.fd4,
  'node-json': {
    description: "Node IPC, serialization 'json', minimal id→promise Map RPC, bytes as base64",
    open: () => openNodeIpc('json'),
  },
  'node-advanced': {
    description: "Node IPC, serialization 'advanced', minimal id→promise Map RPC, bytes as Uint8Array",
    open: () => openNodeIpc('advanced'),
  },
  'birpc-send': {
    description: () => `birpc ${packageVersion('birpc')} over process.send ('json'), identity serialize, bytes as base64`,
    async open() {
      const { createBirpc } = await import('birpc');
      const child = forkWorker(path.join(WORKERS, 'rpc-birpc.js'), ['send'], { serialization: 'json' });
      const rpc = createBirpc(
        {},
        {
          post: (data) => child.send(data),
          on: (fn) => child.on('message', (m) => m && m.t !== undefined && fn(m)),
        },
      );
      await nextMessage(child, (m) => m && m.cmd === 'ready');
      return {
        child,
        checksResults: true,
        add: (a, b) => rpc.add(a, b),
        echo: (bytes) => rpc.echo(toBase64(bytes)).then(fromBase64),
      };
    },
  },
  'birpc-fd4': {
    description: () => `birpc ${packageVersion('birpc')} over fd 4, bench framing, v8.serialize/deserialize, bytes as bytes`,
    async open() {
      const { createBirpc } = await import('birpc');
      const child = forkWorker(path.join(WORKERS, 'rpc-birpc.js'), ['fd4'], { stdio: FD4_STDIO });
      const rpc = createBirpc({}, framedV8Channel(openFdSocket(child)));
      await nextMessage(child, (m) => m && m.cmd === 'ready');
      return { child, checksResults: true, add: (a, b) => rpc.add(a, b), echo: (bytes) => rpc.echo(bytes) };
    },
  },
  jsonrpc: {
    description: () =>
      `vscode-jsonrpc ${packageVersion('vscode-jsonrpc')} over the fd-4 stream (StreamMessageReader/Writer), bytes as base64`,
    async open() {
      const { createMessageConnection, StreamMessageReader, StreamMessageWriter } = require('vscode-jsonrpc/node');
      const child = forkWorker(path.join(WORKERS, 'rpc-jsonrpc.js'), [], { stdio: FD4_STDIO });
      const socket = openFdSocket(child);
      const connection = createMessageConnection(new StreamMessageReader(socket), new StreamMessageWriter(socket));
      connection.onError(() => {});
      connection.listen();
      await nextMessage(child, (m) => m && m.cmd === 'ready');
      return {
        child,
        checksResults: true,
        add: (a, b) => connection.sendRequest('add', a, b),
        echo: (bytes) => connection.sendRequest('echo', toBase64(bytes)).then(fromBase64),
      };
    },
  },
};

async function openNodeIpc(serialization) {
  const json = serialization === 'json';
  const child = forkWorker(path.join(WORKERS, 'rpc-node.js'), [serialization], { serialization });
  const pending = new PendingCalls();
  child.on('message', (m) => {
    if (m !== null && typeof m === 'object' && typeof m.i === 'number') pending.settle(m.i, m.e, m.r);
  });
  child.once('exit', () => pending.rejectAll(new Error(`node-${serialization} worker exited`)));
  const call = (method, args) =>
    new Promise((resolve, reject) => {
      child.send({ i: pending.add(resolve, reject), m: method, a: args });
    });
  await nextMessage(child, (m) => m && m.cmd === 'ready');
  return {
    child,
    checksResults: true,
    add: (a, b) => call('add', [a, b]),
    echo: json ? (bytes) => call('echo', [toBase64(bytes)]).then(fromBase64) : (bytes) => call('echo', [bytes]),
  };
}

/** The version of an installed package, read from its package.json wherever the package resolves. */
function packageVersion(name) {
  const fs = require('fs');
  let dir = path.dirname(require.resolve(name === 'vscode-jsonrpc' ? 'vscode-jsonrpc/node' : name));
  while (!fs.existsSync(path.join(dir, 'package.json'))) dir = path.dirname(dir);
  return JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')).version;
}

// ---- the run ------------------------------------------------------------------------------------------------------------

/** The absolute head-of-line target: p99 of small calls during a 64 MiB echo ≤ 5 ms. */
const HOL_GOAL_US = 5000;
/** Every peer but fdpipe: the head-of-line target is ≥ 20× better than the best of them (so than each). */
const HOL_PEERS = ['raw', 'node-json', 'node-advanced', 'birpc-send', 'birpc-fd4', 'jsonrpc'];

/**
 * fdpipe's targets: sequential p50 ≤ 1.3× raw, pipelined ≥ the goal and ≥ 2× birpc-send, echo ≥ 1.5× node-advanced,
 * add p99 during a 64 MiB echo ≤ 5 ms and ≤ 1/20 of every peer's.
 */
const TARGETS = {
  'sequential.p50': [{ vs: 'raw', atMost: 1.3 }],
  'pipelined.rate': [{ vs: rpcBench.GOAL, atLeast: 1 }, { vs: 'birpc-send', atLeast: 2 }],
  'echo-1MiB.rate': [{ vs: 'node-advanced', atLeast: 1.5 }],
  'adds-during-64MiB.p99': [{ vs: rpcBench.GOAL, atMost: 1 }, ...HOL_PEERS.map((vs) => ({ vs, atMost: 0.05 }))],
};

module.exports = rpcBench.rpcSuite({
  name: 'rpc',
  description: 'RPC round trips: fdpipe typed proxy vs Node IPC, birpc, vscode-jsonrpc and raw fd 4, forked children',
  peers: PEERS,
  implOrder: IMPL_ORDER,
  baseline: BASELINE,
  // As in the pipe suite's ping-pong: a round trip between two processes costs ~18 µs on one CPU and 50–80 µs
  // across two, at the scheduler's whim; on one CPU every peer is measured under the same placement.
  pinSequential: true,
  scenarioOptions: {
    targets: (id, key, impl) => (impl === 'fdpipe' ? TARGETS[`${id}.${key}`] : undefined),
    goals: { 'pipelined.rate': PIPELINED_GOAL, 'adds-during-64MiB.p99': HOL_GOAL_US },
  },
  config: {
    rawCallBytes: RAW_CALL_BYTES,
    goal:
      `the absolute pipelined target (≥ ${PIPELINED_GOAL} calls/s) and head-of-line target (add p99 during a 64 MiB ` +
      `echo ≤ ${HOL_GOAL_US} µs), as rows to compare with`,
  },
});
