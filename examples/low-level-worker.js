// The worker for examples/low-level.js: a bare request handler and notifications on RpcProtocol.
const { IPCChannel, RpcProtocol } = require('fdpipe');

const channel = new IPCChannel();
const rpc = new RpcProtocol(channel);
let total = 0;
rpc.setRequestHandler((method, args) => {
  switch (method) {
    case 'add':
      total += args[0];
      rpc.sendNotification('totalChanged', [total]);
      return total;
    case 'bytes':
      return new Uint8Array(args[0]).fill(0xab);
    default:
      throw new Error(`unknown method ${method}`);
  }
});
channel.onClose(() => process.exit(0));
