import { fork, type ChildProcess } from 'child_process';
import { join } from 'path';
import { AbortError } from '../../src';
import {
  CancellationTokenSource,
  MsgPackMessageDecoder,
  MsgPackMessageEncoder,
  RpcMessageType,
  RpcProxyFactory,
  type RpcProxy,
} from '../../src/theia';
import type { ChildService, ParentService } from '../fixtures/theia-seed-child';
import { IPCChannel } from '../fixtures/theia-seed-ipc-channel';
import { killAll } from '../helpers/processes';
import { next, until } from '../helpers/wait';
import { settled } from './helpers';

// The seed article's code, as written, in a parent and a forked child: its IPCChannel over a BinaryMessagePipe on
// fd 4, RpcProxyFactory proxies both ways, and the encoder pair writing a request by hand.

const fixtures = join(__dirname, '..', 'fixtures');
const children = new Set<ChildProcess>();

function forkSeedChild() {
  const child = fork(join(fixtures, 'theia-seed-child.ts'), [], {
    stdio: ['inherit', 'inherit', 'inherit', 'ipc', 'pipe'],
    execArgv: ['--require', join(fixtures, 'register-ts.js')],
  });
  children.add(child);
  const channel = new IPCChannel(child);
  const progress: string[] = [];
  const parentService: ParentService = {
    notifyProgress: (step) => void progress.push(step),
    lookup: async (key) => key.toUpperCase(),
  };
  const factory = new RpcProxyFactory<ChildService>(parentService);
  factory.listen(channel);
  return { child, channel, progress, toChild: factory.createProxy() as RpcProxy<ChildService> };
}

let seed: ReturnType<typeof forkSeedChild>;

beforeAll(async () => {
  seed = forkSeedChild();
  await until(() => seed.progress.includes('ready'), 'the child to call its parent');
});

afterAll(() => killAll(children));

describe("the seed's IPCChannel between a parent and a forked child", () => {
  it('calls the child, and the child calls back', async () => {
    await expect(seed.toChild.add(2, 3)).resolves.toBe(5);
    await expect(seed.toChild.pid()).resolves.toBe(seed.child.pid);
    await expect(seed.toChild.askParent('key')).resolves.toBe('the parent says KEY');
  });

  it("rejects with the child's error, of its class", async () => {
    await expect(seed.toChild.fail('out of range')).rejects.toThrow(RangeError);
  });

  it('cancels a call in the child through a token', async () => {
    const source = new CancellationTokenSource();
    const call = settled(seed.toChild.waitForCancel(source.token));
    await until(() => seed.progress.includes('waiting'), 'the child to start the call');
    source.cancel();
    const result = await call;
    expect(!result.ok && result.error).toBeInstanceOf(AbortError);
    await until(() => seed.progress.includes('cancelled'), 'the child to hear the cancel');
  });

  it('answers a request written with msgEncoder.request(writeBuffer, …)', async () => {
    const msgEncoder = new MsgPackMessageEncoder();
    const msgDecoder = new MsgPackMessageDecoder();
    const id = 1_000_000;
    const reply = new Promise((resolve) => {
      const listening = seed.channel.onMessage((read) => {
        const message = msgDecoder.parse(read());
        if (message.type === RpcMessageType.Reply && message.id === id) {
          listening.dispose();
          resolve(message.res);
        }
      });
    });
    const writeBuffer = seed.channel.getWriteBuffer();
    msgEncoder.request(writeBuffer, id, 'add', [20, 22]);
    writeBuffer.commit();
    await expect(reply).resolves.toBe(42);
  });

  it('hears the child exit: the channel closes and the proxy hears the connection close', async () => {
    const { child, channel, toChild } = forkSeedChild();
    const closed = next(channel.onClose);
    const disconnected = next(toChild.onDidCloseConnection);
    child.kill('SIGKILL');
    expect(await closed).toMatchObject({ kind: 'remote', reason: 'Child process has been terminated' });
    await disconnected;
  });
});
