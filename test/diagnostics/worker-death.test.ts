import { join } from 'path';
import { PassThrough } from 'stream';
import {
  ConnectionClosedError,
  forkWithChannel,
  HandshakeError,
  IPCServer,
  RpcPeer,
  type ChannelCloseEvent,
  type ForkedWorker,
} from '../../src';
import { OutputTail } from '../../src/channel/OutputTail';

const fixture = join(__dirname, '..', 'fixtures', 'dying-worker.js');
const workers: ForkedWorker[] = [];

function fork(args: string[], stderr: 'pipe' | 'ignore' = 'pipe'): ForkedWorker {
  const worker = forkWithChannel(fixture, args, { stderr, channel: { exitGraceMs: 20000 } });
  workers.push(worker);
  return worker;
}

afterEach(() => {
  for (const worker of workers.splice(0)) worker.child.kill('SIGKILL');
});

interface Svc {
  crash(lines: string[], code: number): void;
  hang(): void;
}

describe('a worker that dies', () => {
  test('while answering: the pending call names itself, the exit code and the last lines of stderr', async () => {
    const worker = fork(['serve']);
    const rpc = new RpcPeer(worker.channel);
    const error = await rpc
      .proxy<Svc>('svc')
      .crash(['Error: out of disk', '    at write (disk.js:1:1)'], 3)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectionClosedError);
    const closed = error as ConnectionClosedError;
    expect(closed.message).toContain('The call to svc.crash failed');
    expect(closed.message).toContain(`the child (pid ${worker.child.pid}) exited with code 3`);
    expect(closed.message).toContain('Error: out of disk');
    expect(closed.closeEvent).toMatchObject({ exitCode: 3, signal: null, stderrTail: 'Error: out of disk\n    at write (disk.js:1:1)' });
    rpc.dispose();
  });

  test('before answering (it fails to load): the last 20 lines of its stderr, with the thrown error', async () => {
    const worker = fork(['throw-at-load']);
    const rpc = new RpcPeer(worker.channel);
    const error = (await rpc.proxy<Svc>('svc').hang().catch((e: unknown) => e)) as ConnectionClosedError;
    expect(error).toBeInstanceOf(ConnectionClosedError);
    expect(error.message).toContain('The call to svc.hang failed');
    expect(error.message).toContain('exited with code 1');
    expect(error.message).toContain('config.json is not valid JSON');
    const tail = error.closeEvent!.stderrTail!;
    expect(tail.split('\n')).toHaveLength(20);
    expect(tail).not.toContain('loading step 1\n');
    rpc.dispose();
  });

  test('a missing module reads differently from a failed load', async () => {
    const worker = forkWithChannel(join(__dirname, 'no-such-worker.js'), [], { stderr: 'pipe', channel: { exitGraceMs: 20000 } });
    workers.push(worker);
    const closed = await new Promise<ChannelCloseEvent>((resolve) => worker.channel.onClose(resolve));
    expect(closed.reason).toContain('exited with code 1');
    expect(closed.stderrTail).toContain('Cannot find module');
    expect(closed.stderrTail).toContain('no-such-worker.js');
  });

  test('killed by a signal: named in the error', async () => {
    const worker = fork(['serve']);
    const rpc = new RpcPeer(worker.channel);
    const call = rpc.proxy<Svc>('svc').hang().catch((e: unknown) => e);
    // The call is on its way or served; either way the kill must fail it with the signal.
    await new Promise((resolve) => setImmediate(resolve));
    worker.child.kill('SIGKILL');
    const error = (await call) as ConnectionClosedError;
    expect(error.message).toContain('was killed by SIGKILL');
    expect(error.closeEvent).toMatchObject({ signal: 'SIGKILL', stderrTail: '' });
    rpc.dispose();
  });

  test('with stderr not piped, the error says how to see it', async () => {
    const worker = fork(['throw-at-load'], 'ignore');
    const closed = await new Promise<ChannelCloseEvent>((resolve) => worker.channel.onClose(resolve));
    expect(closed.reason).toContain('exited with code 1');
    expect(closed.reason).toContain("fork it with stderr: 'pipe'");
    expect(closed.stderrTail).toBeUndefined();
  });

  test('IPCServer.fork: the connection rejects with the stderr tail', async () => {
    const server = new IPCServer();
    const errors: Error[] = [];
    server.onError((error) => errors.push(error));
    const worker = server.fork(fixture, ['throw-at-load'], { stderr: 'pipe', channel: { exitGraceMs: 20000 } });
    workers.push(worker);
    const error = await worker.connection.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HandshakeError);
    expect((error as Error).message).toContain('config.json is not valid JSON');
    expect(errors).toEqual([error]);
    server.dispose();
  });
});

describe('OutputTail', () => {
  test('keeps the last 20 lines and at most 8 KiB, however much is written', () => {
    const stream = new PassThrough();
    const tail = new OutputTail(stream);
    for (let i = 0; i < 1000; i++) stream.write(`line ${i}\n`);
    expect(tail.lines.split('\n')).toEqual(Array.from({ length: 20 }, (_, i) => `line ${980 + i}`));
    stream.write('x'.repeat(100_000));
    expect(tail.lines.length).toBe(8 * 1024);
    tail.dispose();
  });

  test('a character split across chunks arrives whole', () => {
    const stream = new PassThrough();
    const tail = new OutputTail(stream);
    const bytes = Buffer.from('café ✓\n');
    stream.write(bytes.subarray(0, 4));
    stream.write(bytes.subarray(4, 8));
    stream.write(bytes.subarray(8));
    expect(tail.lines).toBe('café ✓');
    tail.dispose();
  });
});
