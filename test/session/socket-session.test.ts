import { createHash, randomBytes } from 'crypto';
import { mkdtempSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import type { Socket } from 'net';
import {
  connectPersistent,
  IPCClient,
  IPCServer,
  listenPersistent,
  type ClientSession,
  type ServerSession,
  type SessionListener,
} from '../../src';
import { random } from '../helpers/flakyLink';

// The issue's figures are 1000 drops during 100k calls and a 64 MiB transfer. The suite runs a tenth of the calls
// and an eighth of the bytes with the same density of drops (one per 100 calls, one per 64 KiB); set
// FDPIPE_FULL_SCALE=1 for the full figures.
const FULL = process.env.FDPIPE_FULL_SCALE === '1';
const CALLS = FULL ? 100_000 : Number(process.env.CALLS ?? 10_000);
const CALL_DROPS = CALLS / 100;
const TRANSFER_BYTES = (FULL ? 64 : 8) * 1024 * 1024;
const TRANSFER_DROPS = Number(process.env.DROPS ?? TRANSFER_BYTES / (64 * 1024));

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'fdpipe-session-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** The server's end of each socket accepted, newest last. */
function trackSockets(listener: SessionListener): Socket[] {
  const sockets: Socket[] = [];
  listener.server.on('connection', (socket: Socket) => sockets.push(socket));
  return sockets;
}

const reconnect = { initialDelayMs: 1, maxDelayMs: 20, maxAttempts: 50 };

test(`${CALLS} pipelined calls over a Unix socket destroyed ${CALL_DROPS} times: each answered exactly once`, async () => {
  const next = random(11);
  const server = new IPCServer<string>();
  const listener = await server.listen(join(dir, 's.sock'), { persistent: { graceMs: 10_000 } });
  const sockets = trackSockets(listener);
  const served = new Uint8Array(CALLS);
  let client: IPCClient<string> | undefined;
  let drops = 0;
  let dropAt = 1 + Math.floor(next() * 60);
  let count = 0;
  server.registerChannel('math', {
    async call(_ctx, _command, arg) {
      const n = arg as number;
      served[n]++;
      // Mid-stream, with hundreds of calls and replies in flight: alternately the server's end and the client's.
      // One drop at a time: the next waits until the session has resumed from the last.
      const session = client?.channel as ClientSession | undefined;
      if (++count >= dropAt && drops < CALL_DROPS && session?.resumeCount === drops) {
        drops++;
        dropAt = count + 1 + Math.floor(next() * 60);
        if (drops % 2 === 0) sockets[sockets.length - 1].destroy();
        else (client!.channel as ClientSession).reconnect();
      }
      return n + 1;
    },
    listen: () => {
      throw new Error('no events');
    },
  });
  client = await IPCClient.connect(join(dir, 's.sock'), 'c', { persistent: { reconnect } });
  const math = client.getChannel('math');
  const answered = new Uint8Array(CALLS);
  // Fewer calls in flight than calls between drops, so a drop can come every 100 calls: after a resume, all the
  // calls in flight are replayed and served at once.
  const window = 64;
  let issued = 0;
  await new Promise<void>((resolve, reject) => {
    let done = 0;
    const issue = () => {
      const n = issued++;
      math.call<number>('inc', n).then((value) => {
        if (value !== n + 1) reject(new Error(`call ${n} answered ${value}`));
        answered[n]++;
        if (++done === CALLS) resolve();
        else if (issued < CALLS) issue();
      }, reject);
    };
    for (let i = 0; i < window; i++) issue();
  });
  expect(drops).toBe(CALL_DROPS);
  expect(answered.every((c) => c === 1)).toBe(true);
  expect(served.every((c) => c === 1)).toBe(true);
  expect((client.channel as ClientSession).resumeCount).toBe(drops);
  expect(client.isClosed).toBe(false);
  client.dispose();
  server.dispose();
});

test(`a ${TRANSFER_BYTES / 1024 / 1024} MiB transfer through ${TRANSFER_DROPS} destroyed sockets: every byte once, in order`, async () => {
  const next = random(23);
  const listener = await listenPersistent(join(dir, 't.sock'), { graceMs: 10_000 });
  const sockets = trackSockets(listener);
  const accepted = new Promise<ServerSession>((resolve) => listener.onDidConnect(resolve));
  // A replay window (4 × highWaterMark) of 32 KiB, under the 64 KiB between drops: what a resume sends again.
  const client = await connectPersistent(join(dir, 't.sock'), { reconnect, highWaterMark: 8 * 1024 });
  const server = await accepted;

  // Chunks of varied size cut from one pseudo-random stream (a pool of a prime size read round and round, so no
  // chunk lines up with another), so a lost, repeated or reordered chunk changes the digest.
  const source = random(99);
  const pool = randomBytes(1_000_003);
  const sentHash = createHash('sha256');
  const gotHash = createHash('sha256');
  let received = 0;
  let drops = 0;
  let dropAt = Math.floor(next() * 48 * 1024);
  const done = new Promise<void>((resolve) => {
    server.onMessage((read) => {
      const chunk = read().sliceAtReadPosition();
      gotHash.update(chunk);
      received += chunk.byteLength;
      if (received >= dropAt && drops < TRANSFER_DROPS && client.resumeCount === drops) {
        drops++;
        dropAt = received + Math.floor(next() * 48 * 1024);
        if (drops % 2 === 0) sockets[sockets.length - 1].destroy();
        else client.reconnect();
      }
      if (received === TRANSFER_BYTES) resolve();
    });
  });
  let sent = 0;
  while (sent < TRANSFER_BYTES) {
    const size = Math.min(TRANSFER_BYTES - sent, 1 + Math.floor(source() * 16 * 1024));
    const chunk = Buffer.allocUnsafe(size);
    for (let copied = 0; copied < size; ) {
      const at = (sent + copied) % pool.length;
      copied += pool.copy(chunk, copied, at, Math.min(pool.length, at + size - copied));
    }
    sentHash.update(chunk);
    client.getWriteBuffer().writeRaw(chunk).commit();
    sent += size;
    if (client.needsDrain) await client.whenWritable();
  }
  await done;
  expect(received).toBe(TRANSFER_BYTES);
  expect(gotHash.digest('hex')).toBe(sentHash.digest('hex'));
  expect(drops).toBe(TRANSFER_DROPS);
  expect(client.resumeCount).toBe(drops);
  client.close();
  listener.dispose();
});

test('listeners, acceptors and sessions take `using` and `await using`', async () => {
  let session: ClientSession | undefined;
  let listener: SessionListener | undefined;
  {
    await using listening = await listenPersistent(join(dir, 'u.sock'));
    listener = listening;
    using client = await connectPersistent(join(dir, 'u.sock'));
    session = client;
    expect(session.isClosed).toBe(false);
  }
  expect(session.isClosed).toBe(true);
  expect(listener.server.listening).toBe(false);
});
