'use strict';
// rpc suite, vscode-jsonrpc peer: a MessageConnection over the fd-4 stream with StreamMessageReader and
// StreamMessageWriter (its own Content-Length framing, JSON bodies). Bytes travel as base64 strings.

const net = require('net');
const { createMessageConnection, StreamMessageReader, StreamMessageWriter } = require('vscode-jsonrpc/node');
const { onParentGone } = require('../lib/child');

onParentGone();
process.on('SIGTERM', () => process.exit(0));

const socket = new net.Socket({ fd: 4, readable: true, writable: true });
socket.on('error', () => {});
const connection = createMessageConnection(new StreamMessageReader(socket), new StreamMessageWriter(socket));
connection.onRequest('add', (a, b) => a + b);
connection.onRequest('echo', (text) => Buffer.from(text, 'base64').toString('base64')); // decoded, then encoded again
connection.onClose(() => process.exit(0));
connection.listen();
process.send({ cmd: 'ready' });
