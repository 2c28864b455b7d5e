// A client of the service host: introduces itself by name, calls the host's `chat` channel, listens to its
// messages, and serves `status` back to the host. argv: <name> [socket path]; without a path it was forked.
const { IPCClient, ProxyChannel } = require('fdpipe');

const [name, socketPath] = process.argv.slice(2);

async function main() {
  const client = socketPath ? await IPCClient.connect(socketPath, name) : IPCClient.fromParent(name);
  await client.ready;
  const started = Date.now();
  client.registerChannel('status', ProxyChannel.fromService({ uptime: () => Date.now() - started, pid: () => process.pid }));

  const chat = ProxyChannel.toService(client.getChannel('chat'));
  chat.onMessage(({ from, text }) => {
    if (from !== name) console.log(`  [${name}] heard ${from}: ${text}`);
  });
  await chat.say(name, `hi, I am ${name} (pid ${process.pid})`);
  client.onDidClose(() => process.exit(0));
}

main().catch((error) => {
  console.error(`[${name}]`, error.message);
  process.exit(1);
});
