import { fork, type ChildProcess } from 'child_process';
import { join } from 'path';
import { PassThrough } from 'stream';
import { NoChannelPipeError } from '../../src';
import { BinaryMessagePipe, ChannelMultiplexer, IPCChannel, RpcProxyFactory } from '../../src/theia';
import { killAll } from '../helpers/processes';
import { next } from '../helpers/wait';

// The face's own IPCChannel (fdpipe's, with Theia's events) between this process and a child that loads the
// built package, as fdpipe/theia, like every other fixture.

interface Sub {
  whoAmI(): Promise<string>;
  echo<T>(value: T): Promise<T>;
  exitCode(code: number): Promise<number>;
}

const children = new Set<ChildProcess>();

function forkChild() {
  const child = fork(join(__dirname, '..', 'fixtures', 'theia-ipc-child.js'), [], {
    stdio: ['inherit', 'inherit', 'inherit', 'ipc', 'pipe'],
  });
  children.add(child);
  const channel = new IPCChannel(child);
  return { child, channel, multiplexer: new ChannelMultiplexer(channel) };
}

async function proxyOn(multiplexer: ChannelMultiplexer, id: string) {
  const factory = new RpcProxyFactory<Sub>();
  factory.listen(await multiplexer.open(id));
  return factory.createProxy();
}

afterAll(() => killAll(children));

describe("Theia face: IPCChannel on fd 4", () => {
  it('carries sub-channels, each with its own proxies, to a forked child and back', async () => {
    const { multiplexer } = forkChild();
    const [a, b] = await Promise.all([proxyOn(multiplexer, 'a'), proxyOn(multiplexer, 'b')]);
    await expect(a.whoAmI()).resolves.toBe('a');
    await expect(b.whoAmI()).resolves.toBe('b');
    const bytes = new Uint8Array(200_000).map((_, i) => i % 251);
    const echoed = await a.echo(bytes);
    expect(Buffer.from(echoed).equals(Buffer.from(bytes))).toBe(true);
  });

  it('close() here fires nothing here, and the child sees the channel close', async () => {
    const { child, channel, multiplexer } = forkChild();
    const proxy = await proxyOn(multiplexer, 'x');
    await proxy.exitCode(7);
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const closes = jest.fn();
    channel.onClose(closes);
    channel.close();
    expect(await exited).toBe(7);
    expect(closes).not.toHaveBeenCalled();
  });

  it("fires onClose when the child dies, with fdpipe's details", async () => {
    const { child, channel, multiplexer } = forkChild();
    await (await proxyOn(multiplexer, 'y')).whoAmI();
    const closed = next(channel.onClose);
    child.kill('SIGKILL');
    expect(await closed).toMatchObject({ kind: 'remote', signal: 'SIGKILL' });
  });
});

describe('Theia face: BinaryMessagePipe', () => {
  it('takes a stdio slot as typed, and refuses one that is not a two-way stream', () => {
    expect(() => new BinaryMessagePipe(undefined)).toThrow(NoChannelPipeError);
    expect(() => new BinaryMessagePipe(new PassThrough())).not.toThrow();
  });
});
