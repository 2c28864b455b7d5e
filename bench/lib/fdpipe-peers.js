'use strict';
// Parent ends of fdpipe's RPC over each transport, as peers for lib/rpc-bench.js: the other end is
// workers/rpc-fdpipe.js serving { add(a, b), echo(bytes) } as 'svc', in a forked child or a worker thread. The
// parent calls it through a typed proxy: `new RpcPeer(channel).proxy('svc')`, or for the channel-services face
// `ProxyChannel.toService(server.getChannel('svc', router))`.
//
// - fd4          forkWithChannel: the child's `new IPCChannel()` on fd 4
// - unix-socket  the parent listen()s on a Unix socket in a fresh temp dir, the child connect()s
// - unix-session the same over a persistent session (listenPersistent here, connectPersistent in the child)
// - message-port a worker_threads Worker; MessagePortChannel on both ends of a MessageChannel, the worker's port
//                passed in workerData (and the transferList)
// - ipc-server   an IPCServer listening on a Unix socket, the child an IPCClient serving ProxyChannel.fromService;
//                the parent routes each call to it by context (a StaticRouter)

const fs = require('fs');
const os = require('os');
const path = require('path');
const { MessageChannel } = require('worker_threads');
const fdpipe = require('fdpipe');
const { forkWorker, startThread, track, nextMessage } = require('./child');

const WORKER = path.join(__dirname, '..', 'workers', 'rpc-fdpipe.js');
const SERVICE = 'svc';
/** The context the ipc-server peer's child introduces itself with. */
const CLIENT_CONTEXT = 'bench-client';

const isReady = (m) => m && m.cmd === 'ready';

/** The client lib/rpc-bench.js calls: a typed proxy of the bench service, plus what to watch and release. */
function serviceClient(svc, watched) {
  return { ...watched, checksResults: true, add: (a, b) => svc.add(a, b), echo: (bytes) => svc.echo(bytes) };
}

const proxyOver = (channel) => {
  channel.onError(() => {}); // EPIPE/ECONNRESET when the worker is stopped at the end
  return new fdpipe.RpcPeer(channel).proxy(SERVICE);
};

/**
 * A fresh private directory for a socket; removed by the returned remove(), and at exit at the latest (a peer
 * that fails half-way through opening must not leave it behind).
 */
function socketDir() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fdpipe-bench-'));
  const remove = () => fs.rmSync(dir, { recursive: true, force: true });
  process.once('exit', remove);
  return {
    address: path.join(dir, 'rpc.sock'),
    remove() {
      process.off('exit', remove);
      remove();
    },
  };
}

/** Runs open(dir) with a fresh socket dir, removing the dir if open fails; the client's close() removes it too. */
async function withSocketDir(open) {
  const dir = socketDir();
  try {
    const client = await open(dir.address);
    const close = client.close;
    return {
      ...client,
      async close() {
        try {
          if (close) await close();
        } finally {
          dir.remove();
        }
      },
    };
  } catch (error) {
    dir.remove();
    throw error;
  }
}

/** The first channel `listener` hands out. */
function firstConnection(listener) {
  return new Promise((resolve) => {
    const subscription = listener.onDidConnect((channel) => {
      subscription.dispose();
      resolve(channel);
    });
  });
}

const PEERS = {
  fd4: {
    description: 'fdpipe RpcPeer typed proxy over forkWithChannel (fd 4), defaults',
    async open() {
      const { child, channel } = fdpipe.forkWithChannel(WORKER, ['fd4']);
      track(child);
      const svc = proxyOver(channel);
      await nextMessage(child, isReady);
      return serviceClient(svc, { child });
    },
  },
  'unix-socket': {
    description: 'fdpipe RpcPeer typed proxy over a Unix socket: listen(path) here, connect(path) in a forked child',
    open: () =>
      withSocketDir(async (address) => {
        const listener = await fdpipe.listen(address);
        try {
          const connected = firstConnection(listener);
          const child = forkWorker(WORKER, ['unix-socket', address]);
          await nextMessage(child, isReady);
          const channel = await connected;
          return serviceClient(proxyOver(channel), { child, close: () => channel.close() });
        } finally {
          listener.dispose(); // one client: stop accepting (the accepted channel stays open)
        }
      }),
  },
  'unix-session': {
    description:
      'fdpipe RpcPeer typed proxy over a persistent session on a Unix socket: listenPersistent(path) here, ' +
      'connectPersistent(path) in a forked child (acks, replay buffer, keep-alive; no drops)',
    open: () =>
      withSocketDir(async (address) => {
        const listener = await fdpipe.listenPersistent(address);
        try {
          const connected = firstConnection(listener);
          const child = forkWorker(WORKER, ['unix-session', address]);
          await nextMessage(child, isReady);
          const channel = await connected;
          return serviceClient(proxyOver(channel), { child, close: () => channel.close() });
        } finally {
          listener.dispose();
        }
      }),
  },
  'message-port': {
    description:
      'fdpipe RpcPeer typed proxy over a MessagePort to a worker_threads Worker (MessagePortChannel both ends)',
    async open() {
      const { port1, port2 } = new MessageChannel();
      const thread = startThread(WORKER, { workerData: { port: port2 }, transferList: [port2] });
      const channel = new fdpipe.MessagePortChannel(port1);
      const svc = proxyOver(channel);
      await nextMessage(thread, isReady);
      return serviceClient(svc, { thread, close: () => channel.close() });
    },
  },
  'ipc-server': {
    description:
      'fdpipe IPCServer on a Unix socket, IPCClient in a forked child serving ProxyChannel.fromService; ' +
      'ProxyChannel.toService(server.getChannel(name, ctx => …)) here',
    open: () =>
      withSocketDir(async (address) => {
        const server = new fdpipe.IPCServer();
        server.onError(() => {});
        try {
          await server.listen(address);
          const child = forkWorker(WORKER, ['ipc-client', address, CLIENT_CONTEXT]);
          await nextMessage(child, isReady);
          const channel = server.getChannel(SERVICE, (ctx) => ctx === CLIENT_CONTEXT);
          return serviceClient(fdpipe.ProxyChannel.toService(channel), { child, close: () => server.dispose() });
        } catch (error) {
          server.dispose();
          throw error;
        }
      }),
  },
};

module.exports = { PEERS };
