import { join } from 'path';
import { forkWithChannel, RpcPeer, type ForkedWorker } from '../../src';

// The trace is read at load, from NODE_DEBUG, so it is shown in a worker started with it.
describe('NODE_DEBUG=fdpipe', () => {
  let worker: ForkedWorker | undefined;
  afterEach(() => worker?.child.kill('SIGKILL'));

  test('traces the channel, its frames and each call with its sizes and duration', async () => {
    worker = forkWithChannel(join(__dirname, '..', 'fixtures', 'rpc-worker.js'), [], {
      env: { ...process.env, NODE_DEBUG: 'fdpipe' },
      stderr: 'pipe',
    });
    let stderr = '';
    worker.child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const rpc = new RpcPeer(worker.channel);
    await expect(rpc.proxy<{ add(a: number, b: number): number }>('svc').add(2, 3)).resolves.toBe(5);
    const exited = new Promise((resolve) => worker!.child.once('close', resolve));
    worker.channel.close();
    await exited;
    const pid = worker.child.pid;
    expect(stderr).toContain(`FDPIPE ${pid}: channel open: fd 4 to the parent`);
    expect(stderr).toMatch(/FDPIPE \d+: rpc open/);
    expect(stderr).toMatch(/FDPIPE \d+: frame in \d+ B/);
    expect(stderr).toMatch(/FDPIPE \d+: call < #1 svc\.add start \(request \d+ B\)/);
    expect(stderr).toMatch(/FDPIPE \d+: call < #1 svc\.add ok in \d+\.\d+ ms \(out \d+ B, in \d+ B\)/);
    expect(stderr).toMatch(/FDPIPE \d+: frame out \d+ B/);
    expect(stderr).toMatch(/FDPIPE \d+: channel closed \(remote\)/);
    rpc.dispose();
  });
});
