'use strict';
// The child end of the pipe suite: `node pipe-peer.js <impl>`. Opens the transport named by <impl> (see
// lib/transports.js) and obeys control messages from the parent on Node's IPC channel (fd 3):
//   { cmd: 'sink', expect: n }  count incoming message bytes; once n have arrived, send one 8-byte ack message
//                               (the count, float64 big-endian) back over the transport under test
//   { cmd: 'echo' }             send every incoming message straight back
// Each control message is answered { cmd: 'ok' }; the worker says { cmd: 'ready' } once its transport is open.

const { IMPLS } = require('../lib/transports');
const { onParentGone } = require('../lib/child');

const implName = process.argv[2];
const impl = IMPLS[implName];
if (!impl) {
  console.error(`pipe-peer: unknown implementation ${implName}`);
  process.exit(2);
}

onParentGone();
// Exit normally on SIGTERM (the bench's way of stopping workers), so `node --cpu-prof` can write their profiles.
process.on('SIGTERM', () => process.exit(0));
const transport = impl.open();

let mode = 'idle';
let expect = 0;
let received = 0;

transport.onMessage((bytes) => {
  if (mode === 'echo') {
    transport.send(bytes);
  } else if (mode === 'sink') {
    received += bytes.length;
    if (received >= expect) {
      const ack = Buffer.allocUnsafe(8);
      ack.writeDoubleBE(received, 0);
      received = 0;
      mode = 'idle';
      transport.send(ack);
    }
  } else {
    console.error(`pipe-peer (${implName}): a ${bytes.length}-byte message arrived while idle`);
  }
});

process.on('message', (message) => {
  if (message === null || typeof message !== 'object' || typeof message.cmd !== 'string') return;
  switch (message.cmd) {
    case 'sink':
      mode = 'sink';
      expect = message.expect;
      received = 0;
      break;
    case 'echo':
      mode = 'echo';
      break;
    default:
      console.error(`pipe-peer (${implName}): unknown command ${message.cmd}`);
      process.exit(2);
  }
  process.send({ cmd: 'ok' });
});

process.send({ cmd: 'ready' });
