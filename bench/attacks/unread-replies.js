'use strict';
// Not a suite: the unread-replies attack of #11 item 4. A client on a Unix socket sends CALLS small requests
// (about 14 KB in all) whose replies are REPLY bytes each, and never reads. Prints the most the server held unsent
// for it over a second, and whether server.close() finished within 5 s. `--dist DIR` attacks another built tree,
// for a "before".
const fs = require('fs');
const os = require('os');
const path = require('path');

const distArg = process.argv.indexOf('--dist');
const dist = distArg > 0 ? path.resolve(process.argv[distArg + 1]) : path.join(__dirname, '..', '..', 'dist');
const fdpipe = require(dist);
const CALLS = 200;
const REPLY = 3 * 1024 * 1024;

async function main() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fdpipe-unread-'));
  const server = new fdpipe.IPCServer({ closeGrace: 500 });
  let channel;
  server.onDidAddConnection((connection) => (channel = connection.channel));
  server.registerChannel('blob', {
    async call() {
      return new Uint8Array(REPLY);
    },
    listen() {
      throw new Error('no events');
    },
  });
  const sock = path.join(dir, 's.sock');
  await server.listen(sock);
  const socket = await fdpipe.dialSocket(sock);
  const client = new fdpipe.IPCClient(new fdpipe.IPCChannel(socket), 'attacker');
  await client.ready;
  socket.pause();
  let sent = 0;
  const counting = socket.write.bind(socket);
  socket.write = (chunk, ...rest) => ((sent += chunk.length), counting(chunk, ...rest));
  for (let i = 0; i < CALLS; i++) client.getChannel('blob').call('get', i).catch(() => {});
  // What the server holds: its pipe's queue plus the socket's buffer (pendingBytes; unsentBytes after the fix).
  const held = () => (channel ? channel.pipe.pendingBytes : 0);
  let peak = 0;
  const end = Date.now() + 1000;
  while (Date.now() < end) {
    peak = Math.max(peak, held());
    await new Promise((resolve) => setImmediate(resolve));
  }
  const closed = await Promise.race([
    server.close().then(() => true),
    new Promise((resolve) => setTimeout(() => resolve(false), 5000).unref()),
  ]);
  console.log(
    JSON.stringify({ dist, requestBytes: sent, peakUnsentMiB: +(peak / 2 ** 20).toFixed(1), closedWithin5s: closed }),
  );
  client.dispose();
  socket.destroy();
  fs.rmSync(dir, { recursive: true, force: true });
  process.exit(0);
}
main();
