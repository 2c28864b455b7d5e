import { mkdtempSync, rmSync } from 'fs';
import type { Socket } from 'net';
import { tmpdir } from 'os';
import { join } from 'path';
import { dialSocket, IPCChannel, IPCClient, IPCServer, type Channel } from '../src';

// A peer that sends requests and never reads must not make the server queue replies without bound (#11 item 4).
const REPLY = 256 * 1024;
const MAX_UNSENT = 1024 * 1024;
const CALLS = 200; // 50 MiB of replies if nothing held them back

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'fdpipe-unsent-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** A server whose `blob` channel answers each call with REPLY bytes, noting the unsent bytes when it was served. */
async function blobServer(closeGrace?: number) {
  const server = new IPCServer<string>({ maxUnsentBytes: MAX_UNSENT, closeGrace });
  const unsentAtServe: number[] = [];
  let serverChannel: (Channel & { unsentBytes: number }) | undefined;
  server.onDidAddConnection((connection) => {
    serverChannel = connection.channel as Channel & { unsentBytes: number };
  });
  server.registerChannel('blob', {
    async call(_ctx, _command, arg) {
      unsentAtServe.push(serverChannel!.unsentBytes);
      const reply = new Uint8Array(REPLY);
      reply[0] = arg as number;
      return reply;
    },
    listen() {
      throw new Error('no events');
    },
  });
  const path = join(dir, 'blob.sock');
  await server.listen(path);
  return { server, path, unsentAtServe, unsent: () => serverChannel?.unsentBytes ?? 0 };
}

/** A client over a socket this test holds, so it can stop reading it. */
async function clientOn(path: string): Promise<{ client: IPCClient<string>; socket: Socket }> {
  const socket = await dialSocket(path);
  const client = new IPCClient(new IPCChannel(socket), 'reader');
  await client.ready;
  return { client, socket };
}

/** Turns of the event loop until `condition` holds. */
async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setImmediate(resolve));
}

test('a peer that never reads holds the server to maxUnsentBytes, and dispose destroys its socket after closeGrace', async () => {
  const { server, path, unsentAtServe, unsent } = await blobServer(20);
  const { client, socket } = await clientOn(path);
  socket.pause();
  const calls = Array.from({ length: CALLS }, (_, i) => client.getChannel('blob').call<Uint8Array>('get', i));
  for (const call of calls) call.catch(() => {});
  await until(() => unsent() > MAX_UNSENT);

  // Each call was served only while the server held at most the bound: it then stopped serving this peer.
  expect(Math.max(...unsentAtServe)).toBeLessThanOrEqual(MAX_UNSENT);
  expect(unsentAtServe.length).toBeLessThan(CALLS);
  expect(unsent()).toBeLessThanOrEqual(MAX_UNSENT + REPLY + 64);

  // close() resolves once every accepted socket has closed: the unread one is destroyed after the grace.
  await server.close();
  client.dispose();
  socket.destroy();
});

test('a peer that reads late gets every reply, in order, once the server resumes', async () => {
  const { server, path, unsentAtServe, unsent } = await blobServer();
  const { client, socket } = await clientOn(path);
  socket.pause();
  const calls = Array.from({ length: CALLS }, (_, i) => client.getChannel('blob').call<Uint8Array>('get', i));
  await until(() => unsent() > MAX_UNSENT);
  expect(unsentAtServe.length).toBeLessThan(CALLS);

  socket.resume();
  const replies = await Promise.all(calls);
  expect(replies.map((reply) => reply[0])).toEqual(Array.from({ length: CALLS }, (_, i) => i & 0xff));
  expect(replies.every((reply) => reply.byteLength === REPLY)).toBe(true);
  expect(unsentAtServe.length).toBe(CALLS);
  expect(Math.max(...unsentAtServe)).toBeLessThanOrEqual(MAX_UNSENT);
  client.dispose();
  await server.close();
});

/**
 * A server whose `recorder` channel notes each call's command and never answers (its clients go before it could),
 * listening on a socket; `onCall` runs after each note.
 */
async function recorderServer(onCall: (command: string, server: IPCServer<string>, order: string[]) => void = () => {}) {
  const server = new IPCServer<string>({ maxUnsentBytes: MAX_UNSENT });
  const order: string[] = [];
  server.registerChannel('recorder', {
    call(_ctx, command) {
      order.push(command);
      onCall(command, server, order);
      return new Promise(() => {});
    },
    listen() {
      throw new Error('no events');
    },
  });
  const path = join(dir, 'recorder.sock');
  await server.listen(path);
  return { server, order, path };
}

const recorded = (count: number) => Array.from({ length: count }, (_, i) => `call ${i}`);

test("every call a client sent before it went reaches the server's service, though the bound held some back", async () => {
  const { server, order, path } = await recorderServer();
  try {
    const { client } = await clientOn(path);
    const gone = new Promise<void>((resolve) => server.onDidRemoveConnection(() => (order.push('gone'), resolve())));
    const calls = recorded(50).map((command) => client.getChannel('recorder').call(command).catch(() => 'ended'));
    // Requests answered later start a few per turn under a bound (IncomingGate); the client goes before the rest.
    client.dispose();
    await gone;
    expect(order).toEqual([...recorded(50), 'gone']);
    await expect(Promise.all(calls)).resolves.toEqual(Array(50).fill('ended'));
  } finally {
    await server.close();
  }
});

test('a server that disposes itself while the bound holds calls back runs none of them', async () => {
  const { server, order, path } = await recorderServer((command, self, log) => {
    if (command !== 'call 0') return;
    queueMicrotask(() => {
      log.push('disposed');
      self.dispose();
    });
  });
  const { client } = await clientOn(path);
  try {
    const removed = new Promise<void>((resolve) => server.onDidRemoveConnection(() => (order.push('removed'), resolve())));
    const calls = recorded(20).map((command) => client.getChannel('recorder').call(command).catch(() => 'ended'));
    await removed;
    await expect(Promise.all(calls)).resolves.toEqual(Array(20).fill('ended'));
    expect(order).toEqual(['call 0', 'disposed', 'removed']);
  } finally {
    client.dispose();
    await server.close();
  }
});
