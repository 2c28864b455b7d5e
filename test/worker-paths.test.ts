import type { ChildProcess } from 'child_process';
import { join, relative } from 'path';
import { pathToFileURL } from 'url';
import { Event, forkWithChannel, IPCServer, type ForkedWorker, type IServerChannel } from '../src';
import { Client as CpClient } from '../src/vscode/ipc.cp';
import { modulePathOf } from '../src/channel/modulePath';
import { killAll } from './helpers/processes';

// The hub that test/fixtures/ipc-client.js listens to (its onBroadcast); without one, that child warns after 1 s.
const quietHub: IServerChannel<string> = {
  call: () => Promise.reject(new Error('no commands here')),
  listen: <T>() => Event.None as Event<T>,
};
const fixtures = join(__dirname, 'fixtures');
const echoWorker = join(fixtures, 'echo-worker.js');
const children = new Set<ChildProcess>();
afterEach(() => killAll(children));

function tracked<T extends ForkedWorker>(worker: T): T {
  children.add(worker.child);
  return worker;
}

/** Sends one string over the worker's channel and resolves with what came back. */
function echo(worker: ForkedWorker, text: string): Promise<string> {
  const back = new Promise<string>((resolve) => worker.channel.onMessage((read) => resolve(read().readString())));
  worker.channel.getWriteBuffer().writeString(text).commit();
  return back;
}

describe('where a worker module is', () => {
  test('a file: URL, as new URL(…, import.meta.url) makes one', async () => {
    const worker = tracked(forkWithChannel(pathToFileURL(echoWorker)));
    expect(await echo(worker, 'by URL')).toBe('by URL');
    await worker.close();
  });

  test("a string file: URL, as import.meta.resolve() returns one", async () => {
    const worker = tracked(forkWithChannel(pathToFileURL(echoWorker).href));
    expect(await echo(worker, 'by URL string')).toBe('by URL string');
    await worker.close();
  });

  test("a relative path resolves against the child's working directory, as with child_process.fork", async () => {
    const fromHere = relative(process.cwd(), echoWorker);
    const worker = tracked(forkWithChannel(fromHere.startsWith('.') ? fromHere : `./${fromHere}`));
    expect(await echo(worker, 'from cwd')).toBe('from cwd');
    await worker.close();
    const inFixtures = tracked(forkWithChannel('./echo-worker.js', [], { cwd: fixtures }));
    expect(await echo(inFixtures, 'from options.cwd')).toBe('from options.cwd');
    await inFixtures.close();
  });

  test('a URL that names no file is refused before anything is forked', () => {
    expect(() => forkWithChannel(new URL('https://example.invalid/worker.js'))).toThrow(
      new TypeError(
        "A worker's module must be a file: got a https: URL (https://example.invalid/worker.js); pass a file: URL or a path",
      ),
    );
    expect(() => modulePathOf('file://[')).toThrow("The worker's module path 'file://[' starts with 'file:' but is no valid file URL");
    expect(modulePathOf('worker.js')).toBe('worker.js');
    expect(modulePathOf(pathToFileURL(echoWorker))).toBe(echoWorker);
  });

  test('IPCServer.fork and the vscode ipc.cp Client take a URL too', async () => {
    await using server = new IPCServer();
    server.registerChannel('hub', quietHub);
    await using worker = tracked(server.fork(pathToFileURL(join(fixtures, 'ipc-client.js')), ['by-url', 'parent']));
    expect((await worker.connection).ctx).toBe('by-url');

    using client = new CpClient(pathToFileURL(join(fixtures, 'vscode-test-app.js')), { serverName: 'TestServer' });
    expect(await client.getChannel('test').call('marco')).toBe('polo');
  });
});
