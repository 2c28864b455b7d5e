import { spawn, fork, type ChildProcess } from 'child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import {
  ChannelClosedError,
  ChannelMultiplexer,
  forkWithChannel,
  IPCChannel,
  MessageTooLargeError,
  NoChannelPipeError,
  PipeClosedError,
  TruncatedFrameError,
  type Channel,
  type ChannelCloseEvent,
  type ForkWithChannelOptions,
} from '../src';
import { expectSameMessages, pattern } from './helpers/bytes';
import { createTcpSocketPair, createUnixSocketPair, type SocketPair } from './helpers/streams';
import { isRunning, killAll, killPid } from './helpers/processes';
import { next, settle, until } from './helpers/wait';

/** What `action` threw; fails the test if it threw nothing. */
function thrownBy(action: () => unknown): unknown {
  try {
    action();
  } catch (error) {
    return error;
  }
  throw new Error('Expected the action to throw');
}

const fixture = (name: string) => path.join(__dirname, 'fixtures', name);
const repoRoot = path.join(__dirname, '..');
const MiB = 1024 * 1024;

const children = new Set<ChildProcess>();
const strayPids = new Set<number>();
afterEach(async () => {
  await killAll(children);
  for (const pid of strayPids) killPid(pid);
  strayPids.clear();
});

interface Report {
  type: string;
  [key: string]: unknown;
}

/** Forks the echo worker and collects what it reports over fd 3. */
function startEcho(args: string[] = [], options: ForkWithChannelOptions = {}) {
  const { child, channel } = forkWithChannel(fixture('echo-worker.js'), args, {
    stdin: 'ignore',
    stdout: 'ignore',
    ...options,
    // onClose waits this long for the child's exit to report its code; generous, so a busy machine cannot make
    // the exit arrive too late. It only delays onClose when the child does not exit.
    channel: { exitGraceMs: 20000, ...options.channel },
  });
  children.add(child);
  const reports: Report[] = [];
  child.on('message', (report: Report) => reports.push(report));
  const received: Buffer[] = [];
  channel.onMessage((read) => {
    const bytes = read().sliceAtReadPosition();
    received.push(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  });
  const closes: ChannelCloseEvent[] = [];
  channel.onClose((event) => closes.push(event));
  const errors: Error[] = [];
  channel.onError((error) => errors.push(error));
  const report = async (type: string): Promise<Report> => {
    await until(() => reports.some((r) => r.type === type), `the worker to report '${type}'`);
    return reports.find((r) => r.type === type)!;
  };
  return { child, channel, reports, received, closes, errors, report };
}

describe('IPCChannel with a forked child', () => {
  it('round-trips 0 B, 1 B, 1 KiB, 1 MiB and 64 MiB byte for byte', async () => {
    const worker = startEcho();
    const payloads = [0, 1, 1024, MiB, 64 * MiB].map((size, i) => pattern(size, i + 1));
    for (const [i, payload] of payloads.entries()) {
      worker.channel.getWriteBuffer().writeRaw(payload).commit();
      await until(() => worker.received.length === i + 1, `the echo of ${payload.length} bytes`);
    }
    expectSameMessages(worker.received, payloads);
    expect(worker.errors).toEqual([]);
  });

  it('delivers 100k messages in order, both ways', async () => {
    const worker = startEcho();
    const count = 100_000;
    for (let i = 0; i < count; i++) {
      worker.channel.getWriteBuffer().writeUint32(i).writeString(i % 3 === 0 ? '' : 'x').commit();
      if (worker.channel.needsDrain) await worker.channel.whenWritable();
    }
    await until(() => worker.received.length === count, '100k echoes');
    const outOfOrder = worker.received.findIndex((m, i) => m.readUInt32BE(0) !== i);
    expect(outOfOrder).toBe(-1);
  });

  it("leaves fd 3 to Node's own IPC: process.send works alongside the channel", async () => {
    const worker = startEcho();
    for (let seq = 0; seq < 50; seq++) {
      worker.child.send({ type: 'ping', seq });
      worker.channel.getWriteBuffer().writeUint32(seq).commit();
    }
    await until(
      () => worker.reports.filter((r) => r.type === 'pong').length === 50 && worker.received.length === 50,
      'pongs and echoes',
    );
    expect(worker.reports.filter((r) => r.type === 'pong').map((r) => r.seq)).toEqual([...Array(50).keys()]);
    expect(worker.received.map((m) => m.readUInt32BE(0))).toEqual([...Array(50).keys()]);
  });

  it('fires onClose with the signal when the child is killed with SIGKILL', async () => {
    const worker = startEcho();
    await worker.report('ready');
    worker.child.kill('SIGKILL');
    await until(() => worker.closes.length > 0, 'onClose');
    await settle();
    expect(worker.closes).toEqual([expect.objectContaining({ kind: 'remote', signal: 'SIGKILL', exitCode: null })]);
    expect(worker.closes[0].reason).toContain('SIGKILL');
    expect(worker.channel.isClosed).toBe(true);
  });

  it('fires onClose with the exit code when the child exits with code 3', async () => {
    const worker = startEcho();
    await worker.report('ready');
    worker.child.send({ type: 'exit', code: 3 });
    await until(() => worker.closes.length > 0, 'onClose');
    await settle();
    expect(worker.closes).toEqual([expect.objectContaining({ kind: 'remote', exitCode: 3, signal: null })]);
  });

  it("closing in the parent fires 'local' here and 'remote' in the child", async () => {
    const worker = startEcho();
    await worker.report('ready');
    const exited = new Promise<number | null>((resolve) => worker.child.once('exit', resolve));
    worker.channel.close();
    expect(worker.closes).toEqual([expect.objectContaining({ kind: 'local' })]);
    expect(() => worker.channel.getWriteBuffer()).toThrow(ChannelClosedError);
    const seen = await worker.report('close');
    expect(seen.kind).toBe('remote');
    // The worker leaves once its channel is gone, as its onClose told it to.
    expect(await exited).toBe(0);
    expect(worker.closes).toHaveLength(1);
  });

  it("closing in the parent while the child is still echoing is 'remote' in the child, not a failure", async () => {
    const worker = startEcho();
    await worker.report('ready');
    // The child is busy writing echoes back when the parent's end goes away under it.
    for (let i = 0; i < 2000; i++) worker.channel.getWriteBuffer().writeRaw(pattern(1024, i)).commit();
    await until(() => worker.received.length > 0, 'the first echo');
    worker.channel.close();
    const seen = await worker.report('close');
    expect(seen.kind).toBe('remote');
    expect(worker.reports.filter((r) => r.type === 'error')).toEqual([]);
  });

  it("closing in the child fires 'local' there and 'remote' in the parent, even while the child lives on", async () => {
    // The worker stays alive after closing, so the parent cannot learn an exit code; a short grace keeps this fast.
    const worker = startEcho(['', 'stay'], { channel: { exitGraceMs: 50 } });
    await worker.report('ready');
    worker.child.send({ type: 'close' });
    await until(() => worker.closes.length > 0, 'onClose in the parent');
    const seen = await worker.report('close');
    expect(seen.kind).toBe('local');
    expect(worker.closes).toEqual([expect.objectContaining({ kind: 'remote' })]);
    expect(worker.closes[0].exitCode).toBeUndefined();
    expect(worker.child.exitCode).toBeNull();
  });

  it("while onClose waits for the child's exit, sends fail with ChannelClosedError; close ends the wait", async () => {
    const worker = startEcho(['', 'stay']);
    await worker.report('ready');
    const exitListeners = worker.child.listenerCount('exit');
    const early = worker.channel.getWriteBuffer().writeUint8(1);
    worker.child.send({ type: 'close' });
    await until(() => worker.channel.pipe.isClosed, "the parent's pipe to close");
    // The child lives on (exitGraceMs is long here): the channel is still open, waiting for an exit code.
    expect(worker.channel.isClosed).toBe(false);
    expect(worker.child.listenerCount('exit')).toBe(exitListeners + 1);
    expect(thrownBy(() => worker.channel.getWriteBuffer())).toBeInstanceOf(ChannelClosedError);
    expect(thrownBy(() => early.commit())).toBeInstanceOf(ChannelClosedError);
    worker.channel.close();
    expect(worker.closes).toEqual([expect.objectContaining({ kind: 'local' })]);
    expect(worker.child.listenerCount('exit')).toBe(exitListeners);
  });

  it('a child over its maxMessageSize reports MessageTooLargeError and the channel closes on both sides', async () => {
    const worker = startEcho(['1024']);
    worker.channel.getWriteBuffer().writeRaw(pattern(1024, 1)).commit();
    await until(() => worker.received.length === 1, 'the echo of a message at the limit');
    worker.channel.getWriteBuffer().writeRaw(pattern(1025, 1)).commit();
    const error = await worker.report('error');
    expect(error).toMatchObject({ name: 'MessageTooLargeError' });
    expect(error.message).toContain('1025');
    expect((await worker.report('close')).kind).toBe('error');
    await until(() => worker.closes.length > 0, 'onClose in the parent');
    expect(worker.closes[0].kind).toBe('remote');
  });

  it('a parent over its maxMessageSize gets MessageTooLargeError and the channel closes', async () => {
    const worker = startEcho([], { channel: { maxMessageSize: 1024 } });
    await worker.report('ready');
    worker.child.send({ type: 'send', size: 1025, fill: 7 });
    await until(() => worker.closes.length > 0, 'onClose');
    expect(worker.errors).toHaveLength(1);
    expect(worker.errors[0]).toBeInstanceOf(MessageTooLargeError);
    expect(worker.errors[0]).toMatchObject({ direction: 'incoming', size: 1025 });
    expect(worker.closes[0]).toMatchObject({ kind: 'error', error: worker.errors[0] });
    expect(worker.received).toEqual([]);
  });

  it('refuses to send over maxMessageSize on either side and stays usable', async () => {
    const worker = startEcho(['1000'], { channel: { maxMessageSize: 1000 } });
    expect(() => worker.channel.getWriteBuffer().writeRaw(pattern(1001, 1)).commit()).toThrow(MessageTooLargeError);
    worker.child.send({ type: 'send', size: 1001, fill: 1 });
    const failed = await worker.report('send-failed');
    expect(failed.name).toBe('MessageTooLargeError');
    // Both ends go on: one message each way within the limit.
    worker.channel.getWriteBuffer().writeRaw(pattern(1000, 2)).commit();
    worker.child.send({ type: 'send', size: 1000, fill: 9 });
    await until(() => worker.received.length === 2, 'both messages');
    expectSameMessages(
      worker.received.slice().sort((a, b) => a[0] - b[0]),
      [pattern(1000, 2), Buffer.alloc(1000, 9)].sort((a, b) => a[0] - b[0]),
    );
    expect(worker.closes).toEqual([]);
  });

  it('refuses a second IPCChannel on fd 4 in the same child', async () => {
    const worker = startEcho();
    worker.child.send({ type: 'open-again' });
    const failed = await worker.report('open-again-failed');
    expect(failed.name).toBe('NoChannelPipeError');
    expect(failed.message).toContain('ChannelMultiplexer');
  });

  it('keeps a producer that waits on needsDrain within bounds while a slow child reads 256 MiB', async () => {
    const messageSize = MiB;
    const count = 256;
    const { child, channel } = forkWithChannel(fixture('slow-reader.js'), [String(messageSize * count)], {
      stdin: 'ignore',
      stdout: 'ignore',
    });
    children.add(child);
    const summary = next(channel.onMessage);
    let maxPending = 0;
    let waits = 0;
    const body = pattern(messageSize - 8, 3);
    for (let i = 0; i < count; i++) {
      channel.getWriteBuffer().writeUint32(i).writeRaw(body).writeUint32(i).commit();
      maxPending = Math.max(maxPending, channel.pipe.pendingBytes);
      if (channel.needsDrain) {
        waits++;
        await channel.whenWritable();
      }
    }
    const reader = (await summary)();
    expect(reader.readUint32()).toBe(count);
    expect(reader.readNumber()).toBe(messageSize * count);
    expect(reader.readUint8()).toBe(1);
    // Never more than the high-water mark plus the one message (and its frame header) that crossed it.
    expect(maxPending).toBeLessThanOrEqual(channel.pipe.highWaterMark + messageSize + 4);
    // Otherwise the child kept up and the bound says nothing.
    expect(waits).toBeGreaterThan(10);
  });
});

describe('IPCChannel when the parent dies', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'fdpipe-orphan-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it("fires the child's onClose when its parent is SIGKILLed, so the child can leave", async () => {
    const reportPath = path.join(dir, 'closed.json');
    const intermediate = fork(fixture('intermediate.js'), [fixture('grandchild.js'), reportPath], {
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    children.add(intermediate);
    const ready = await new Promise<{ grandchildPid: number }>((resolve) => intermediate.once('message', resolve));
    const grandchildPid = ready.grandchildPid;
    strayPids.add(grandchildPid);
    expect(isRunning(grandchildPid)).toBe(true);
    expect(existsSync(reportPath)).toBe(false);

    intermediate.kill('SIGKILL');
    await until(() => existsSync(reportPath) && readFileSync(reportPath, 'utf8').length > 0, 'the grandchild report');
    const seen = JSON.parse(readFileSync(reportPath, 'utf8'));
    expect(seen).toMatchObject({ kind: 'remote', pid: grandchildPid });
    // It exits on its own: no orphan is left behind.
    await until(() => !isRunning(grandchildPid), 'the grandchild to exit');
  });
});

describe('IPCChannel without a pipe on fd 4', () => {
  /** Runs `new IPCChannel()` in a child started some way other than forkWithChannel. */
  function runWithout(start: (code: string) => ChildProcess) {
    const code = [
      "const { IPCChannel } = require('fdpipe');",
      'try { new IPCChannel(); console.log("opened"); process.exit(0); }',
      'catch (error) { console.error(error.name + ": " + error.message); process.exit(5); }',
    ].join('\n');
    const child = start(code);
    children.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d) => (stdout += d));
    child.stderr?.on('data', (d) => (stderr += d));
    return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
      child.once('close', (exitCode) => resolve({ code: exitCode, stdout, stderr })),
    );
  }

  it.each([
    ['a plain node -e', (code: string) => spawn(process.execPath, ['-e', code], { cwd: repoRoot })],
    [
      'fork() with only fd 3',
      (code: string) =>
        spawn(process.execPath, ['-e', code], { cwd: repoRoot, stdio: ['pipe', 'pipe', 'pipe', 'ipc'] }),
    ],
    [
      'fd 4 on /dev/null',
      (code: string) =>
        spawn(process.execPath, ['-e', code], { cwd: repoRoot, stdio: ['pipe', 'pipe', 'pipe', 'ipc', 'ignore'] }),
    ],
  ])('throws NoChannelPipeError that says how to start it, in %s', async (_name, start) => {
    const result = await runWithout(start);
    expect(result.stdout).not.toContain('opened');
    expect(result.code).toBe(5);
    expect(result.stderr).toContain('NoChannelPipeError');
    expect(result.stderr).toContain('forkWithChannel');
    expect(result.stderr).toContain('fd 4');
  });

  it('throws NoChannelPipeError in the parent for a child forked without fd 4', async () => {
    const child = fork(fixture('grandchild.js'), [], { stdio: ['ignore', 'ignore', 'ignore', 'ipc'] });
    children.add(child);
    expect(() => new IPCChannel(child)).toThrow(NoChannelPipeError);
    expect(() => new IPCChannel(child)).toThrow(/forkWithChannel/);
  });
});

describe('IPCChannel over a connected socket', () => {
  let pair: SocketPair;
  afterEach(async () => {
    await pair?.dispose();
  });

  function watchClose(channel: IPCChannel) {
    const closes: ChannelCloseEvent[] = [];
    channel.onClose((e) => closes.push(e));
    channel.onError(() => {});
    return closes;
  }

  it.each(['here', 'there'] as const)(
    'once closed %s, getWriteBuffer and commit of an earlier buffer throw ChannelClosedError, not the pipe error',
    async (side) => {
      pair = await createUnixSocketPair();
      const here = new IPCChannel(pair.a);
      const there = new IPCChannel(pair.b);
      watchClose(there);
      const closes = watchClose(here);
      const early = here.getWriteBuffer().writeUint8(1);
      const alsoEarly = here.getWriteBuffer().writeString('x');
      if (side === 'here') here.close();
      else there.close();
      await until(() => closes.length > 0, 'onClose');
      const errors = [
        thrownBy(() => here.getWriteBuffer()),
        thrownBy(() => early.commit()),
        thrownBy(() => alsoEarly.commit()),
      ];
      for (const error of errors) {
        expect(error).toBeInstanceOf(ChannelClosedError);
        expect(error).not.toBeInstanceOf(PipeClosedError);
      }
    },
  );

  it('a sub-channel over it throws ChannelClosedError from a commit after the base closed', async () => {
    pair = await createUnixSocketPair();
    const left = new ChannelMultiplexer(new IPCChannel(pair.a));
    const right = new ChannelMultiplexer(new IPCChannel(pair.b));
    const accepted = next(right.onDidOpenChannel);
    const sub = await left.open('sub');
    await accepted;
    const early = sub.getWriteBuffer().writeString('late');
    const closed = next(sub.onClose);
    right.base.close();
    await closed;
    expect(thrownBy(() => early.commit())).toBeInstanceOf(ChannelClosedError);
    expect(thrownBy(() => sub.getWriteBuffer())).toBeInstanceOf(ChannelClosedError);
  });

  it('limits incoming messages through the Channel contract, and lifts the limit again', async () => {
    pair = await createUnixSocketPair();
    const here: Channel = new IPCChannel(pair.a);
    const there = new IPCChannel(pair.b);
    watchClose(there);
    const received: number[] = [];
    here.onMessage((read) => received.push(read().remaining));
    const errors: Error[] = [];
    here.onError((error) => errors.push(error));
    const closes: ChannelCloseEvent[] = [];
    here.onClose((event) => closes.push(event));

    here.limitIncoming?.(8);
    here.limitIncoming?.(undefined);
    there.getWriteBuffer().writeRaw(new Uint8Array(9)).commit();
    await until(() => received.length === 1, 'the message after the limit was lifted');

    here.limitIncoming?.(8);
    there.getWriteBuffer().writeRaw(new Uint8Array(8)).commit();
    there.getWriteBuffer().writeRaw(new Uint8Array(9)).commit();
    // Either outcome ends the wait: the refusal, or (were the limit ignored) the message itself.
    await until(() => closes.length > 0 || received.length === 3, 'the refusal');
    expect(received).toEqual([9, 8]);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(MessageTooLargeError);
    expect(errors[0]).toMatchObject({ direction: 'incoming', size: 9, maxMessageSize: 8 });
    expect(closes).toEqual([expect.objectContaining({ kind: 'error', error: errors[0] })]);
  });

  it.each(['here', 'there'] as const)(
    'releases its listeners on the socket when closed %s, all but the one for late errors',
    async (side) => {
      pair = await createUnixSocketPair();
      const socket = pair.a;
      const names = ['data', 'end', 'close', 'drain', 'error'] as const;
      const count = () => names.map((name) => socket.listenerCount(name));
      const without = count();
      const here = new IPCChannel(socket);
      const there = new IPCChannel(pair.b);
      watchClose(there);
      const closes = watchClose(here);
      expect(count()).toEqual(without.map((n) => n + 1));
      if (side === 'here') here.close();
      else there.close();
      await until(() => closes.length > 0, 'onClose');
      // The error listener stays: a socket can still fail (EPIPE after our end) once the channel has closed.
      expect(count()).toEqual([...without.slice(0, 4), without[4] + 1]);
    },
  );

  it("reports a peer that vanished while we wrote (EPIPE) as 'remote', not as a failure", async () => {
    pair = await createUnixSocketPair();
    const channel = new IPCChannel(pair.a);
    const closes = watchClose(channel);
    // The peer's descriptor closes now; we learn of it from the write on the next tick before reading the EOF.
    pair.b.destroy();
    channel.getWriteBuffer().writeString('into the void').commit();
    await until(() => closes.length > 0, 'onClose');
    await settle();
    expect(closes).toEqual([expect.objectContaining({ kind: 'remote' })]);
  });

  it("reports a peer that reset the connection (ECONNRESET) as 'remote'", async () => {
    pair = await createTcpSocketPair();
    const channel = new IPCChannel(pair.a);
    const closes = watchClose(channel);
    pair.b.resetAndDestroy();
    await until(() => closes.length > 0, 'onClose');
    expect(closes).toEqual([expect.objectContaining({ kind: 'remote' })]);
  });

  it("reports any other stream failure as 'error'", async () => {
    pair = await createUnixSocketPair();
    const channel = new IPCChannel(pair.a);
    const closes = watchClose(channel);
    const failure = new Error('disk on fire');
    pair.a.destroy(failure);
    await until(() => closes.length > 0, 'onClose');
    expect(closes).toEqual([expect.objectContaining({ kind: 'error', error: failure })]);
  });

  it("reports the peer's orderly close as 'remote' after delivering what it sent", async () => {
    pair = await createUnixSocketPair();
    const here = new IPCChannel(pair.a);
    const there = new IPCChannel(pair.b);
    const closes = watchClose(here);
    const received: string[] = [];
    here.onMessage((read) => received.push(read().readString()));
    there.getWriteBuffer().writeString('last words').commit();
    there.close();
    await until(() => closes.length > 0, 'onClose');
    expect(received).toEqual(['last words']);
    expect(closes).toEqual([expect.objectContaining({ kind: 'remote' })]);
  });
});

describe('IPCChannel and a child that dies mid-message', () => {
  it('closes with a TruncatedFrameError and the exit code, after the whole messages before it', async () => {
    const { child, channel } = forkWithChannel(path.join(__dirname, 'fixtures', 'cut-frame.js'));
    children.add(child);
    const received: Buffer[] = [];
    channel.onMessage((read) => received.push(Buffer.from(read().sliceAtReadPosition())));
    const errors: Error[] = [];
    channel.onError((error) => errors.push(error));
    const event = await new Promise<ChannelCloseEvent>((resolve) => channel.onClose(resolve));
    expect(received.map(String)).toEqual(['ok']);
    expect(event.kind).toBe('error');
    expect(event.error).toBeInstanceOf(TruncatedFrameError);
    expect(event.error).toMatchObject({ expected: 104, received: 14 });
    expect(event.exitCode).toBe(3);
    expect(errors).toEqual([]);
  });
});

describe('IPCChannel and process.exit', () => {
  it('delivers a message committed right before the worker calls process.exit()', async () => {
    const { child, channel } = forkWithChannel(path.join(__dirname, 'fixtures', 'send-and-exit.js'));
    const received: string[] = [];
    channel.onMessage((read) => received.push(read().readString()));
    const closed = new Promise<ChannelCloseEvent>((resolve) => channel.onClose(resolve));
    const event = await closed;
    expect(received).toEqual(['last words']);
    expect(event.kind).toBe('remote');
    child.kill();
  });
});
