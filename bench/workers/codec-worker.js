'use strict';
// The child end of the codec suite: `node codec-worker.js <impl>` hosts one codec implementation, so no
// implementation runs in a process warmed, polluted or left full of garbage by another (v8.serialize, for one,
// leaves externally allocated buffers and polymorphic Buffer call sites behind that slowed whoever came next).
// It obeys requests from the parent on Node's IPC channel, each answered with the same `id`:
//   { id, cmd: 'prepare', scenario, budgetMs }  check the round trip, warm up, answer { count } sized to the budget
//   { id, cmd: 'measure', scenario, count }     run the operation `count` times, answer { ns } per operation
// Failures are answered { id, error }.

const v8 = require('v8');
const path = require('path');
const { isDeepStrictEqual } = require('util');
const { onParentGone } = require('../lib/child');
const { nowNs } = require('../lib/timing');

const MiB = 1024 * 1024;

function loadFdpipe() {
  const dist = path.join(__dirname, '..', '..', 'dist');
  try {
    const { ValueCodec } = require(path.join(dist, 'rpc', 'codec'));
    const { Uint8ArrayWriteBuffer, Uint8ArrayReadBuffer } = require(path.join(dist, 'buffer'));
    return { ValueCodec, Uint8ArrayWriteBuffer, Uint8ArrayReadBuffer };
  } catch (error) {
    throw new Error(`the codec suite needs dist/: run \`npm run build\` first (${error.message})`);
  }
}

// JSON has no bytes type: for binary payloads it gets what JSON-based RPC does in practice, base64 in a wrapper.
const toBase64 = (key, value) =>
  value instanceof Uint8Array ? { $b64: Buffer.from(value).toString('base64') } : value;
const fromBase64 = (key, value) =>
  value && typeof value.$b64 === 'string' ? new Uint8Array(Buffer.from(value.$b64, 'base64')) : value;

const IMPLS = {
  fdpipe() {
    const { ValueCodec, Uint8ArrayWriteBuffer, Uint8ArrayReadBuffer } = loadFdpipe();
    const codec = new ValueCodec();
    return {
      encode(value) {
        const buffer = new Uint8ArrayWriteBuffer();
        codec.encode(buffer, value);
        buffer.commit();
        return buffer.getCurrentContents();
      },
      decode: (bytes) => codec.decode(new Uint8ArrayReadBuffer(bytes)),
    };
  },
  msgpackr() {
    const { pack, unpack } = require('msgpackr');
    return { encode: (value) => pack(value), decode: (bytes) => unpack(bytes) };
  },
  json() {
    return {
      encode: (value, binary) => Buffer.from(JSON.stringify(value, binary ? toBase64 : undefined)),
      decode: (bytes, binary) => JSON.parse(bytes.toString(), binary ? fromBase64 : undefined),
    };
  },
  v8() {
    return { encode: (value) => v8.serialize(value), decode: (bytes) => v8.deserialize(bytes) };
  },
};

const VALUES = {
  envelope: () => ({ id: 17, method: 'add', args: [1, 2] }),
  records: () =>
    Array.from({ length: 50 }, (_, i) => ({
      id: 1000 + i,
      name: `User Number ${i}`,
      email: `user${i}@example.com`,
      active: i % 3 !== 0,
      score: i * 1.25 + 0.1,
      tags: ['a', 'b'],
    })),
  bytes: () => new Uint8Array(MiB).map((_, i) => (i * 7) & 0xff),
};

/** `scenario` is `<value>` (encode + decode), `<value>-encode` or `<value>-decode`. */
function operation(impl, scenario) {
  const [valueName, what = 'roundtrip'] = scenario.split('-');
  const value = VALUES[valueName]();
  const binary = value instanceof Uint8Array;
  let sink;
  const run = (count, body) => {
    const started = nowNs();
    for (let i = 0; i < count; i++) sink = body();
    const ns = (nowNs() - started) / count;
    if (sink === undefined) throw new Error('nothing came out');
    return ns;
  };
  checkRoundTrip(impl, value, binary);
  switch (what) {
    case 'roundtrip':
      return (count) => run(count, () => impl.decode(impl.encode(value, binary), binary));
    case 'encode':
      return (count) => run(count, () => impl.encode(value, binary));
    case 'decode': {
      // A copy with nothing around it: the kind of input a transport hands a decoder.
      const bytes = Buffer.from(impl.encode(value, binary));
      return (count) => run(count, () => impl.decode(bytes, binary));
    }
    default:
      throw new Error(`unknown operation ${what}`);
  }
}

function checkRoundTrip(impl, value, binary) {
  const decoded = impl.decode(impl.encode(value, binary), binary);
  const same = binary
    ? decoded instanceof Uint8Array && Buffer.compare(Buffer.from(decoded), Buffer.from(value)) === 0
    : isDeepStrictEqual(decoded, value);
  if (!same) throw new Error(`${implName} does not round-trip the value`);
}

const implName = process.argv[2];
if (!IMPLS[implName]) {
  console.error(`codec-worker: unknown implementation ${implName}`);
  process.exit(2);
}
onParentGone();
process.on('SIGTERM', () => process.exit(0));

const impl = IMPLS[implName]();
const ops = new Map();

process.on('message', (request) => {
  try {
    if (request.cmd === 'prepare') {
      const op = operation(impl, request.scenario);
      ops.set(request.scenario, op);
      // Warm up (JIT, allocator) until one run takes a tenth of the budget, then size runs to the budget.
      let count = 1;
      let ns = op(count);
      while (ns * count < request.budgetMs * 1e5 && count < 1e7) {
        count *= 4;
        ns = op(count);
      }
      process.send({ id: request.id, count: Math.max(1, Math.min(1e8, Math.round((request.budgetMs * 1e6) / ns))) });
    } else if (request.cmd === 'measure') {
      process.send({ id: request.id, ns: ops.get(request.scenario)(request.count) });
    } else {
      throw new Error(`unknown command ${request.cmd}`);
    }
  } catch (error) {
    process.send({ id: request.id, error: String(error && error.stack ? error.stack : error) });
  }
});
process.send({ cmd: 'ready' });
