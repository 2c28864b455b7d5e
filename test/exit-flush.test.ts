import { fork, type ChildProcess } from 'child_process';
import { mkdtempSync, rmSync } from 'fs';
import { createServer, type Server, type Socket } from 'net';
import { tmpdir } from 'os';
import { join } from 'path';
import { BinaryMessagePipe, forkWithChannel, IPCChannel, PipeClosedError, type ChannelCloseEvent } from '../src';

// A worker that commits messages and calls process.exit() at once: what its socket had not written when the loop
// stopped used to be lost (1000 × 1 KiB: about 200 arrived; 1 MiB: nothing) with exit code 0 and no word. Now it is
// written out synchronously at exit, or, when the reader does not take it in time, the loss is reported on stderr.

const fixture = join(__dirname, 'fixtures', 'burst-and-exit.js');
const children = new Set<ChildProcess>();
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'fdpipe-exit-'));
});
afterEach(() => {
  for (const child of children) child.kill('SIGKILL');
  children.clear();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function stderrOf(child: ChildProcess): () => string {
  let text = '';
  child.stderr!.on('data', (chunk) => (text += chunk));
  return () => text;
}

/** Collects the messages of a burst: their count, and whether each carried its index in order and whole. */
function collect(channel: IPCChannel, size: number) {
  const result = { count: 0, inOrder: true, closed: new Promise<ChannelCloseEvent>((resolve) => channel.onClose(resolve)) };
  channel.onMessage((read) => {
    const bytes = Buffer.from(read().sliceAtReadPosition());
    if (bytes.length !== size || bytes.readUInt32BE(0) !== result.count) result.inOrder = false;
    result.count++;
  });
  return result;
}

async function burstOverFd4(args: string[]) {
  const { child, channel } = forkWithChannel(fixture, args, { stderr: 'pipe', channel: { exitGraceMs: 20000 } });
  children.add(child);
  const stderr = stderrOf(child);
  const received = collect(channel, Number(args[1]));
  const closed = await received.closed;
  return { received, closed, stderr: stderr() };
}

describe('messages committed right before process.exit()', () => {
  test.each([
    ['1000 × 1 KiB', ['1000', '1024']],
    ['one 1 MiB message', ['1', String(1 << 20)]],
    ['2000 × 1 KiB, half of them already in flight', ['2000', '1024', 'later']],
    ['8 × 1 MiB, half of them already in flight', ['8', String(1 << 20), 'later']],
  ])('%s over fd 4 all arrive, whole and in order', async (_name, args) => {
    const { received, closed, stderr } = await burstOverFd4(args);
    expect(received.count).toBe(Number(args[0]));
    expect(received.inOrder).toBe(true);
    expect(closed).toMatchObject({ kind: 'remote', exitCode: 0 });
    expect(stderr).toBe('');
  });

  test('over a Unix socket, 1000 × 1 KiB all arrive', async () => {
    const socketPath = join(dir, 'exit.sock');
    const accepted = new Promise<Socket>((resolve) => {
      const server: Server = createServer((socket) => {
        server.close();
        resolve(socket);
      });
      server.listen(socketPath);
    });
    await new Promise((resolve) => setImmediate(resolve));
    const { child } = forkWithChannel(fixture, ['1000', '1024', 'now', socketPath], { stderr: 'pipe' });
    children.add(child);
    const stderr = stderrOf(child);
    const channel = new IPCChannel(await accepted);
    const received = collect(channel, 1024);
    expect((await received.closed).kind).toBe('remote');
    expect(received.count).toBe(1000);
    expect(received.inOrder).toBe(true);
    expect(stderr()).toBe('');
  });

  test('what a reader that never reads did not take is reported on stderr, with what to do', async () => {
    // The parent never reads fd 4 (no channel on it): the OS takes a few hundred KiB, the child waits its
    // deadline, then reports.
    const child = fork(fixture, ['8', String(1 << 20)], { stdio: ['ignore', 'ignore', 'pipe', 'ipc', 'pipe'] });
    children.add(child);
    const stderr = stderrOf(child);
    const code = await new Promise((resolve) => child.once('exit', resolve));
    expect(code).toBe(0);
    const match = /^fdpipe: (\d+) bytes of messages sent on fd \d+ were lost when the process exited \(the other side took none of them for 1000 ms\)\. Let the channel flush before exiting: await channel\.flush\(\), then call process\.exit\(\)\.$/m.exec(
      stderr(),
    );
    expect(match).not.toBeNull();
    const lost = Number(match![1]);
    expect(lost).toBeGreaterThan(4 << 20);
    expect(lost).toBeLessThan(8 << 20);
  });
});

describe('flush()', () => {
  function socketPair(): Promise<[Socket, Socket]> {
    const socketPath = join(dir, `pair-${Math.random().toString(36).slice(2)}.sock`);
    return new Promise((resolve) => {
      const server = createServer((accepted) => {
        server.close();
        resolve([client, accepted]);
      });
      server.listen(socketPath);
      const client = new (require('net').Socket)() as Socket;
      server.once('listening', () => client.connect(socketPath));
    });
  }

  test('resolves once the OS has taken every message sent before it, not before', async () => {
    const [writer, reader] = await socketPair();
    reader.pause();
    const pipe = new BinaryMessagePipe(writer);
    for (let i = 0; i < 16; i++) pipe.send(Buffer.alloc(256 * 1024, i));
    let flushed = false;
    const flushing = pipe.flush().then(() => (flushed = true));
    // The paused reader holds the OS buffers full: turns of the loop go by and the flush waits.
    for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
    expect(flushed).toBe(false);
    expect(pipe.pendingBytes).toBeGreaterThan(0);
    let read = 0;
    const total = 16 * (256 * 1024 + 4);
    const all = new Promise<void>((resolve) =>
      reader.on('data', (chunk: Buffer) => {
        read += chunk.length;
        if (read === total) resolve();
      }),
    );
    reader.resume();
    await flushing;
    expect(pipe.pendingBytes).toBe(0);
    // Everything is in the OS or read: the reader gets all of it.
    await all;
    pipe.close();
    reader.destroy();
  });

  test('resolves at once with nothing sent, and rejects when the stream is destroyed first', async () => {
    const [writer, reader] = await socketPair();
    reader.pause();
    const pipe = new BinaryMessagePipe(writer);
    await pipe.flush();
    for (let i = 0; i < 16; i++) pipe.send(Buffer.alloc(256 * 1024));
    const flushing = pipe.flush();
    for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
    writer.destroy();
    await expect(flushing).rejects.toBeInstanceOf(PipeClosedError);
    await expect(pipe.flush()).rejects.toBeInstanceOf(PipeClosedError);
    reader.destroy();
  });
});
