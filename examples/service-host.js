// One service host, several clients: two forked workers and one process that connects over a Unix socket.
// The host serves a `chat` channel to all; each client serves `status` back; the host calls each one.
// Run it with `node examples/service-host.js` after `npm run build`.
const { fork } = require('child_process');
const { mkdtempSync, rmSync } = require('fs');
const { tmpdir } = require('os');
const path = require('path');
const { IPCServer, ProxyChannel, Emitter } = require('fdpipe');

const clientScript = path.join(__dirname, 'service-client.js');

async function main() {
  const server = new IPCServer();
  const messages = new Emitter();
  server.registerChannel(
    'chat',
    ProxyChannel.fromService({
      onMessage: messages.event,
      say(from, text) {
        console.log(`[host] ${from} says: ${text}`);
        messages.fire({ from, text });
      },
    }),
  );
  server.onDidAddConnection((c) => console.log(`[host] + ${c.ctx} (${server.connections.length} connected)`));
  server.onDidRemoveConnection((c) => console.log(`[host] - ${c.ctx}`));

  const dir = mkdtempSync(path.join(tmpdir(), 'fdpipe-example-'));
  const socketPath = path.join(dir, 'host.sock');
  await server.listen(socketPath);

  const children = [
    server.fork(clientScript, ['alice']).child,
    server.fork(clientScript, ['bob']).child,
    fork(clientScript, ['carol', socketPath]),
  ];
  while (server.connections.length < 3) await new Promise((resolve) => setTimeout(resolve, 20));
  await new Promise((resolve) => setTimeout(resolve, 100));

  for (const connection of server.connections) {
    const status = ProxyChannel.toService(connection.channelClient.getChannel('status'));
    console.log(`[host] ${connection.ctx} is pid ${await status.pid()}, up ${await status.uptime()} ms`);
  }
  const bob = ProxyChannel.toService(server.getChannel('status', (ctx) => ctx === 'bob'));
  console.log(`[host] routed to bob: pid ${await bob.pid()}`);

  const exits = children.map((child) => new Promise((resolve) => child.once('exit', resolve)));
  server.dispose();
  await Promise.all(exits);
  rmSync(dir, { recursive: true, force: true });
  console.log('[host] all clients left');
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
