// ipc.net's Server holds back a client that sends calls and never reads their replies, as the core IPCServer does
// (unsent-bound.test.ts): without it, the server would queue every reply for that client.
import { mkdtempSync, rmSync } from 'fs';
import { createConnection, createServer, type Socket } from 'net';
import { tmpdir } from 'os';
import { join } from 'path';
import { Event, VSBuffer } from '../../src/vscode';
import { Client, NodeSocket, Server, type ServerOptions } from '../../src/vscode/ipc.net';

const REPLY = 256 * 1024;
const MAX_UNSENT = 1024 * 1024;
const CALLS = 200; // 50 MiB of replies if nothing held them back

let dir: string;
const owned: Array<{ dispose(): void }> = [];
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'fdpipe-vscode-unsent-'));
});
afterEach(() => {
  for (const resource of owned.splice(0).reverse()) resource.dispose();
  rmSync(dir, { recursive: true, force: true });
});

/**
 * A Server whose `blob` channel answers each call with `reply` bytes, the first one the call's argument; it notes
 * the bytes the client's socket held unsent when each call was served.
 */
async function blobServer(options: ServerOptions, reply = REPLY) {
  const netServer = createServer();
  owned.push({ dispose: () => netServer.close() });
  const accepted: Socket[] = [];
  netServer.on('connection', (socket) => accepted.push(socket));
  const server = new Server(netServer, options);
  owned.push(server);
  const unsentAtServe: number[] = [];
  const unsent = () => accepted[0]?.writableLength ?? 0;
  server.registerChannel('blob', {
    call(_ctx: string, _command: string, arg?: unknown) {
      unsentAtServe.push(unsent());
      const bytes = VSBuffer.alloc(reply);
      bytes.writeUInt8((arg as number) & 0xff, 0);
      return Promise.resolve(bytes);
    },
    listen(): Event<never> {
      throw new Error('no events');
    },
  });
  const path = join(dir, 'blob.sock');
  await new Promise<void>((resolve) => netServer.listen(path, resolve));
  return { server, path, unsentAtServe, unsent, accepted };
}

/** A client over a socket the test holds, so it can stop reading it; resolves once the server has it. */
async function clientOn(server: Server, path: string): Promise<{ client: Client; socket: Socket }> {
  const added = Event.toPromise(server.onDidAddConnection);
  const socket = createConnection(path);
  await new Promise<void>((resolve) => socket.once('connect', resolve));
  owned.push({ dispose: () => socket.destroy() });
  const client = Client.fromSocket(new NodeSocket(socket, 'reader'), 'reader');
  owned.push(client);
  await added;
  return { client, socket };
}

/** Turns of the event loop until `condition` holds. */
async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setImmediate(resolve));
}

const calls = (client: Client, count: number) =>
  Array.from({ length: count }, (_, i) => client.getChannel('blob').call<VSBuffer>('get', i));

test('a client that never reads holds the server to maxUnsentBytes: it stops serving that client', async () => {
  const { server, path, unsentAtServe, unsent } = await blobServer({ maxUnsentBytes: MAX_UNSENT });
  const { client, socket } = await clientOn(server, path);
  socket.pause();
  for (const call of calls(client, CALLS)) call.catch(() => {});
  await until(() => unsent() > MAX_UNSENT);
  // Give the server turns to serve more, were it going to.
  for (let i = 0; i < 50; i++) await new Promise((resolve) => setImmediate(resolve));

  expect(Math.max(...unsentAtServe)).toBeLessThanOrEqual(MAX_UNSENT);
  expect(unsentAtServe.length).toBeLessThan(CALLS);
  expect(unsent()).toBeLessThanOrEqual(MAX_UNSENT + REPLY + 64);
});

test('a client that reads late gets every reply, in order, once the server resumes', async () => {
  const { server, path, unsentAtServe, unsent } = await blobServer({ maxUnsentBytes: MAX_UNSENT });
  const { client, socket } = await clientOn(server, path);
  socket.pause();
  const pending = calls(client, CALLS);
  await until(() => unsent() > MAX_UNSENT);
  expect(unsentAtServe.length).toBeLessThan(CALLS);

  socket.resume();
  const replies = await Promise.all(pending);
  expect(replies.map((reply) => reply.readUInt8(0))).toEqual(Array.from({ length: CALLS }, (_, i) => i & 0xff));
  expect(replies.every((reply) => reply.byteLength === REPLY)).toBe(true);
  expect(unsentAtServe.length).toBe(CALLS);
  expect(Math.max(...unsentAtServe)).toBeLessThanOrEqual(MAX_UNSENT);
});

test('by default the bound is 64 MiB; Infinity serves a client that never reads without one', async () => {
  const MiB = 1024 * 1024;
  const reply = 4 * MiB;
  for (const [options, bounded] of [
    [{}, true],
    [{ maxUnsentBytes: Infinity }, false],
  ] as const) {
    const { server, path, unsentAtServe, unsent } = await blobServer(options, reply);
    const { client, socket } = await clientOn(server, path);
    socket.pause();
    const count = 24; // 96 MiB of replies
    for (const call of calls(client, count)) call.catch(() => {});
    await until(() => unsentAtServe.length === count || unsent() > 64 * MiB);
    for (let i = 0; i < 50; i++) await new Promise((resolve) => setImmediate(resolve));
    if (bounded) {
      expect(unsentAtServe.length).toBeLessThan(count);
      expect(Math.max(...unsentAtServe)).toBeLessThanOrEqual(64 * MiB);
    } else {
      expect(unsentAtServe.length).toBe(count);
    }
    for (const resource of owned.splice(0).reverse()) resource.dispose();
  }
});

test("dispose() destroys the socket of a client that never reads after closeGrace, with the client's still open", async () => {
  const { server, path, unsent, accepted } = await blobServer({ maxUnsentBytes: MAX_UNSENT, closeGrace: 20 });
  const { client, socket } = await clientOn(server, path);
  socket.pause();
  for (const call of calls(client, CALLS)) call.catch(() => {});
  await until(() => unsent() > MAX_UNSENT);
  const closed = new Promise((resolve) => accepted[0].once('close', resolve));
  server.dispose();
  await closed;
  expect(accepted[0].destroyed).toBe(true);
  expect(socket.destroyed).toBe(false);
});

test('a bound below what the socket buffers before it refuses writes still lets a client that reads late have it all', async () => {
  // 'drain' comes only after a write the socket refused (past 16 KiB here), and only once it has written everything.
  const small = 4096;
  const reply = 6000;
  const { server, path, unsentAtServe, unsent } = await blobServer({ maxUnsentBytes: small }, reply);
  const { client, socket } = await clientOn(server, path);
  socket.pause();
  const pending = calls(client, CALLS);
  await until(() => unsent() > small);
  for (let i = 0; i < 50; i++) await new Promise((resolve) => setImmediate(resolve));
  expect(unsentAtServe.length).toBeLessThan(CALLS);
  socket.resume();
  const replies = await Promise.all(pending);
  expect(replies.map((bytes) => bytes.readUInt8(0))).toEqual(Array.from({ length: CALLS }, (_, i) => i & 0xff));
  expect(Math.max(...unsentAtServe)).toBeLessThanOrEqual(small);
});

test('what a client sent before it went reaches the services before onDidRemoveConnection, though the bound held it', async () => {
  const { server, path, unsentAtServe, unsent } = await blobServer({ maxUnsentBytes: MAX_UNSENT });
  const order: string[] = [];
  server.registerChannel('recorder', {
    call(_ctx: string, command: string) {
      order.push(command);
      return new Promise(() => {});
    },
    listen(): Event<never> {
      throw new Error('no events');
    },
  });
  const { client, socket } = await clientOn(server, path);
  socket.pause();
  for (const call of calls(client, CALLS)) call.catch(() => {});
  const notes = Array.from({ length: 5 }, (_, i) => client.getChannel('recorder').call(`note ${i}`).catch(() => 'ended'));
  // Held: the server stopped reading this client, with the notes read or still in the OS.
  await until(() => unsent() > MAX_UNSENT);
  expect(unsentAtServe.length).toBeLessThan(CALLS);
  const removed = new Promise<void>((resolve) => server.onDidRemoveConnection(() => (order.push('removed'), resolve())));
  socket.destroy();
  await removed;
  expect(order).toEqual([...Array.from({ length: 5 }, (_, i) => `note ${i}`), 'removed']);
  await expect(Promise.all(notes)).resolves.toEqual(Array(5).fill('ended'));
});
