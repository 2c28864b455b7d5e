'use strict';
// One message transport per implementation under test, with the same small interface on both sides, so a suite's
// driver and worker are written once and every peer runs exactly the same scenario code:
//
//   send(bytes: Buffer) → boolean        queue one message; false means "wait for whenWritable() before more"
//   whenWritable() → Promise<void>
//   onMessage(listener: (bytes: Buffer) => void)   one listener, set once
//
// Parent side: IMPLS[name].fork(modulePath, args) → { child, transport }; worker side: IMPLS[name].open().
// Node's IPC channel (fd 3) is always there: suites use it for control messages ({ cmd: ... }), which the
// node-* transports skip when they look for data.

const net = require('net');
const fdpipe = require('fdpipe');
const { forkWorker, track } = require('./child');
const { FrameReader, FrameWriter } = require('./framing');

const FD4_STDIO = ['inherit', 'inherit', 'inherit', 'ipc', 'pipe'];

function openFd4Socket() {
  return new net.Socket({ fd: 4, readable: true, writable: true });
}

/** Raw bytes over fd 4 with the bench's own minimal length-prefix framing: the ceiling. */
function rawTransport(socket) {
  const writer = new FrameWriter(socket);
  let reader;
  return {
    send: (bytes) => writer.send(bytes),
    whenWritable: () => writer.whenWritable(),
    onMessage(listener) {
      reader = new FrameReader(listener);
      socket.on('data', (chunk) => reader.push(chunk));
    },
  };
}

/**
 * Raw bytes over fd 4 with no framing at all: each chunk the socket reads is handed on as a "message", nothing is
 * assembled. Only meaningful where message boundaries do not matter (one-way throughput with a byte-count ack):
 * it shows what the pipe itself moves, the figure quoted for raw fd-4 bytes on this kind of machine.
 */
function rawStreamTransport(socket) {
  return {
    send: (bytes) => socket.write(bytes),
    whenWritable: () => (socket.writableNeedDrain ? new Promise((resolve) => socket.once('drain', resolve)) : Promise.resolve()),
    onMessage: (listener) => socket.on('data', listener),
  };
}

/** fdpipe's BinaryMessagePipe: pipe.send(bytes). */
function pipeTransport(stream) {
  const pipe = new fdpipe.BinaryMessagePipe(stream);
  pipe.onError(() => {}); // the child's side sees EPIPE/ECONNRESET when it is killed at the end
  return {
    pipe,
    send: (bytes) => pipe.send(bytes),
    whenWritable: () => pipe.whenWritable(),
    onMessage: (listener) => pipe.onMessage(listener),
  };
}

/** fdpipe's IPCChannel: getWriteBuffer().writeRaw(bytes).commit(); the reader's bytes via sliceAtReadPosition(). */
function channelTransport(channel) {
  channel.onError(() => {});
  return {
    channel,
    send(bytes) {
      channel.getWriteBuffer().writeRaw(bytes).commit();
      return !channel.needsDrain;
    },
    whenWritable: () => channel.whenWritable(),
    onMessage: (listener) => channel.onMessage((read) => listener(read().sliceAtReadPosition())),
  };
}

/**
 * Node's built-in IPC (child.send / process.send). 'json' cannot carry bytes, so a message goes as
 * { d: base64 } and is decoded back to a Buffer on arrival; 'advanced' sends the Buffer itself.
 * Backpressure: send() returns false when Node says its write queue is too long (its own return value); then
 * whenWritable() waits until every send so far has completed.
 */
function nodeIpcTransport(endpoint, serialization) {
  const json = serialization === 'json';
  let issued = 0;
  let completed = 0;
  let waiter = null;
  const onSent = () => {
    completed++;
    if (waiter !== null && completed >= issued) {
      const resolve = waiter;
      waiter = null;
      resolve();
    }
  };
  return {
    send(bytes) {
      issued++;
      const message = json ? { d: toBuffer(bytes).toString('base64') } : bytes;
      return endpoint.send(message, undefined, undefined, onSent);
    },
    whenWritable() {
      if (completed >= issued) return Promise.resolve();
      return new Promise((resolve) => (waiter = resolve));
    },
    onMessage(listener) {
      endpoint.on(
        'message',
        json
          ? (message) => {
              if (message !== null && typeof message.d === 'string') listener(Buffer.from(message.d, 'base64'));
            }
          : (message) => {
              if (ArrayBuffer.isView(message)) listener(message);
            },
      );
    },
  };
}

function toBuffer(bytes) {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

const IMPLS = {
  raw: {
    description: 'raw bytes over fd 4, minimal length-prefix framing written in the bench',
    fork(modulePath, args) {
      const child = forkWorker(modulePath, args, { stdio: FD4_STDIO });
      return { child, transport: rawTransport(child.stdio[4]) };
    },
    open: () => rawTransport(openFd4Socket()),
  },
  'raw-stream': {
    description: 'raw bytes over fd 4, no framing: chunks are counted, never assembled (throughput only)',
    fork(modulePath, args) {
      const child = forkWorker(modulePath, args, { stdio: FD4_STDIO });
      return { child, transport: rawStreamTransport(child.stdio[4]) };
    },
    open: () => rawStreamTransport(openFd4Socket()),
  },
  pipe: {
    description: 'fdpipe BinaryMessagePipe over fd 4, pipe.send()',
    fork(modulePath, args) {
      const child = forkWorker(modulePath, args, { stdio: FD4_STDIO });
      return { child, transport: pipeTransport(child.stdio[4]) };
    },
    open: () => pipeTransport(openFd4Socket()),
  },
  channel: {
    description: 'fdpipe IPCChannel over fd 4 (forkWithChannel), getWriteBuffer().writeRaw().commit()',
    fork(modulePath, args) {
      const { child, channel } = fdpipe.forkWithChannel(modulePath, args);
      track(child);
      return { child, transport: channelTransport(channel) };
    },
    open: () => channelTransport(new fdpipe.IPCChannel()),
  },
  'node-json': {
    description: "Node IPC, serialization 'json', bytes as base64",
    fork(modulePath, args) {
      const child = forkWorker(modulePath, args, { serialization: 'json' });
      return { child, transport: nodeIpcTransport(child, 'json') };
    },
    open: () => nodeIpcTransport(process, 'json'),
  },
  'node-advanced': {
    description: "Node IPC, serialization 'advanced', Buffer",
    fork(modulePath, args) {
      const child = forkWorker(modulePath, args, { serialization: 'advanced' });
      return { child, transport: nodeIpcTransport(child, 'advanced') };
    },
    open: () => nodeIpcTransport(process, 'advanced'),
  },
};

module.exports = { IMPLS };
