import { existsSync, mkdtempSync, readFileSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { CancellationError, CancellationTokenSource, Event, type IChannel } from '../../src/vscode';
import { Client, ClientDisposedError } from '../../src/vscode/ipc.cp';
import { forkWithChannel } from '../../src/channel/fork';
import { ChannelClient, ChannelProtocol } from '../../src/vscode';
import { turns } from './helpers';

const APP = join(__dirname, '..', 'fixtures', 'vscode-test-app.js');

interface MarcoPoloEvent {
  answer: string;
}

class TestServiceClient {
  constructor(private readonly channel: IChannel) {}
  get onMarco(): Event<MarcoPoloEvent> {
    return this.channel.listen('marco');
  }
  marco(): Promise<string> {
    return this.channel.call('marco');
  }
  pong(ping: string): Promise<{ incoming: string; outgoing: string }> {
    return this.channel.call('pong', ping);
  }
}

describe('vscode face: ipc.cp, a forked child serving a test service', () => {
  let client: Client;
  let service: TestServiceClient;

  beforeEach(() => {
    client = new Client(APP, {
      serverName: 'TestServer',
      args: ['one', 'two'],
      env: { FDPIPE_TEST_VALUE: 'merged', verbose: true },
    });
    service = new TestServiceClient(client.getChannel('test'));
  });

  afterEach(() => client.dispose());

  test('a call reaches the child and its answer comes back', async () => {
    const result = await service.pong('ping');
    expect(result).toEqual({ incoming: 'ping', outgoing: 'pong' });
  });

  test('events: the event and the answer of the call that fired it both arrive', async () => {
    const event = Event.toPromise(Event.once(service.onMarco));
    const [answer, fired] = await Promise.all([service.marco(), event]);
    expect(answer).toBe('polo');
    expect(fired.answer).toBe('polo');
  });

  test('event dispose: after the listener goes, events no longer reach it', async () => {
    let count = 0;
    const subscription = service.onMarco(() => count++);
    // The subscription reaches the child over the pipe before the call does, and the event comes back before
    // the answer: same pipe, in order.
    await expect(service.marco()).resolves.toBe('polo');
    expect(count).toBe(1);
    await expect(service.marco()).resolves.toBe('polo');
    expect(count).toBe(2);
    subscription.dispose();
    await expect(service.marco()).resolves.toBe('polo');
    expect(count).toBe(2);
  });

  test("the child gets its args, and this process's environment with the options' env merged over it", async () => {
    const env = await client.getChannel('test').call<{ value: string; parentPid: string; hasPath: boolean }>(
      'env',
      'FDPIPE_TEST_VALUE',
    );
    expect(env).toEqual({ value: 'merged', parentPid: String(process.pid), hasPath: true, args: ['one', 'two'] });
    await expect(client.getChannel('test').call('env', 'verbose')).resolves.toMatchObject({ value: 'true' });
  });

  test('the server passes its context to the channel', async () => {
    await expect(client.getChannel('test').call('ctx')).resolves.toBe('test');
  });

  test('cancelling a call rejects it with Canceled and cancels the token in the child', async () => {
    const source = new CancellationTokenSource();
    const channel = client.getChannel('test');
    const call = channel.call('waitForCancel', undefined, source.token);
    await expect(channel.call('pid')).resolves.toEqual(expect.any(Number)); // the call is in the child by now
    source.cancel();
    await expect(call).rejects.toBeInstanceOf(CancellationError);
    // The cancel and this call share the pipe, in order, so the child has counted it by the time it answers.
    await expect(channel.call('cancelled')).resolves.toBe(1);
  });

  test('after dispose, calls reject and events are Event.None', async () => {
    client.dispose();
    await expect(client.getChannel('test').call('pid')).rejects.toBeInstanceOf(ClientDisposedError);
    await expect(client.getChannel('test').call('pid')).rejects.toThrow('disposed');
    expect(client.getChannel('test').listen('marco')).toBe(Event.None);
  });
});

describe('vscode face: ipc.cp child lifecycle', () => {
  test('forks lazily, once, on the first call', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fdpipe-vscode-'));
    const log = join(dir, 'starts');
    const starts = () => (existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n') : []);
    const client = new Client(APP, { serverName: 'Lazy', env: { FDPIPE_VSCODE_START_LOG: log } });
    try {
      const channel = client.getChannel('test');
      const events = channel.listen('marco'); // an event nobody listens to yet forks nothing either
      void events;
      await turns();
      expect(starts()).toEqual([]);
      const pid = await channel.call<number>('pid');
      expect(starts()).toEqual([String(pid)]);
      await expect(channel.call('pid')).resolves.toBe(pid);
      expect(starts()).toEqual([String(pid)]);
    } finally {
      client.dispose();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('kills the child once idle for `timeout`, and forks a new one for the next call', async () => {
    const client = new Client(APP, { serverName: 'Idle', timeout: 20 });
    try {
      const channel = client.getChannel('test');
      const firstPid = await channel.call<number>('pid');
      const exit = await Event.toPromise(client.onDidProcessExit);
      expect(exit.signal).toBe('SIGTERM');
      // Node's (code, signal) as they are, as VS Code passes them: a killed child has no exit code.
      expect(exit.code).toBeNull();
      const secondPid = await channel.call<number>('pid');
      expect(secondPid).not.toBe(firstPid);
    } finally {
      client.dispose();
    }
  });

  test('a child that crashes cancels the pending calls, reports the exit, and is forked again', async () => {
    const warnings: string[] = [];
    const emitWarning = jest.spyOn(process, 'emitWarning').mockImplementation((w: string | Error) => {
      warnings.push(String(w));
    });
    const client = new Client(APP, { serverName: 'Crashy' });
    try {
      const channel = client.getChannel('test');
      const exited = Event.toPromise(client.onDidProcessExit);
      await expect(channel.call('crash')).rejects.toBeInstanceOf(CancellationError);
      expect((await exited).code).toBe(3);
      expect(warnings.join('\n')).toContain('IPC "Crashy" crashed with exit code 3');
      await expect(channel.call('pong', 'again')).resolves.toEqual({ incoming: 'again', outgoing: 'pong' });
    } finally {
      client.dispose();
      emitWarning.mockRestore();
    }
  });

  test("the child's Server disposes itself when fd 4 closes, and the child exits by itself", async () => {
    const worker = forkWithChannel(APP);
    const protocol = new ChannelProtocol(worker.channel);
    const channels = new ChannelClient(protocol);
    try {
      await expect(channels.getChannel('test').call('ctx')).resolves.toBe('test');
      const exited = new Promise<number | null>((resolve) => worker.child.once('exit', (code) => resolve(code)));
      channels.dispose();
      protocol.dispose();
      await expect(exited).resolves.toBe(0);
    } finally {
      if (worker.child.exitCode === null) worker.child.kill('SIGKILL');
    }
  });
});
