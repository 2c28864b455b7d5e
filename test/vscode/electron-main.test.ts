import {
  CancellationToken,
  Emitter,
  VSBuffer,
  type Event,
  type IChannel,
  type IServerChannel,
} from '../../src/vscode';
import { Client } from '../../src/vscode/ipc.electron-browser';
import { IpcRendererChannel } from '../../src/vscode/electron';
import { Server, UnknownSenderError } from '../../src/vscode/ipc.electron-main';
import { pattern } from '../helpers/bytes';
import { next, until } from '../helpers/wait';
import { FakeElectron, strangerEvent, type FakeWebContents } from './electron-fakes';

// `require('electron')` in a test process gives what Electron would: ipcMain, and the ipcRenderer of the one
// renderer this "app" has. Only the article's demo relies on it; the other tests pass their fakes in.
const mockApp: { electron: FakeElectron; window?: FakeWebContents } = { electron: new FakeElectron() };
jest.mock(
  'electron',
  () => ({
    get ipcMain() {
      return mockApp.electron.ipcMain;
    },
    get ipcRenderer() {
      return mockApp.window?.context;
    },
  }),
  { virtual: true },
);

// The seed article's demo: a service in the main process, served to a window over Electron IPC.
class WindowService {
  doSomething(): string {
    return 'something done';
  }
}

class WindowChannel implements IServerChannel {
  constructor(private readonly service: WindowService) {}

  listen(_ctx: string, event: string): Event<unknown> {
    throw new Error(`No event '${event}'`);
  }

  async call(_ctx: string, command: string): Promise<unknown> {
    switch (command) {
      case 'doSomething':
        return this.service.doSomething();
    }
    throw new Error(`Invalid command '${command}'`);
  }
}

/** What the main process serves in the other tests: who is calling, echoes, an event, and a call that hangs. */
class MainChannel implements IServerChannel {
  subscribers = 0;
  readonly changes = new Emitter<string>({
    onDidAddListener: () => this.subscribers++,
    onWillRemoveListener: () => this.subscribers--,
  });
  readonly hanging: string[] = [];
  readonly cancelled: string[] = [];

  call(ctx: string, command: string, arg?: unknown, token?: CancellationToken): Promise<unknown> {
    switch (command) {
      case 'whoAmI':
        return Promise.resolve(ctx);
      case 'echo':
        return Promise.resolve(arg);
      case 'hang':
        this.hanging.push(ctx);
        return new Promise((_, reject) =>
          token?.onCancellationRequested(() => {
            this.cancelled.push(ctx);
            reject(new Error('cancelled'));
          }),
        );
    }
    return Promise.reject(new Error(`Invalid command '${command}'`));
  }

  listen(_ctx: string, event: string): Event<unknown> {
    if (event === 'onChange') return this.changes.event;
    throw new Error(`No event '${event}'`);
  }
}

/** What each renderer serves back to the main process. */
function rendererChannel(id: string): IServerChannel {
  return {
    call: (_ctx, command) => (command === 'hang' ? new Promise(() => {}) : Promise.resolve(`${id}:${command}`)),
    listen: () => {
      throw new Error('no events');
    },
  };
}

function app() {
  const electron = new FakeElectron();
  const server = new Server(electron.ipcMain);
  const main = new MainChannel();
  server.registerChannel('main', main);
  const open = (id: string, window = electron.openWindow()) => {
    const client = new Client(id, window.context);
    client.registerChannel('renderer', rendererChannel(id));
    return { window, client, channel: client.getChannel<IChannel>('main') };
  };
  return { electron, server, main, open };
}

test("the seed article's demo: new Server() in main, new Client('window_1') in a renderer", async () => {
  mockApp.window = mockApp.electron.openWindow();
  const server = new Server();
  server.registerChannel('windowManager', new WindowChannel(new WindowService()));

  const client = new Client('window_1');
  await expect(client.getChannel('windowManager').call('doSomething')).resolves.toBe('something done');
  await expect(client.getChannel('windowManager').call('undo')).rejects.toThrow("Invalid command 'undo'");

  client.dispose();
  server.dispose();
});

test('several renderers: each call knows its renderer, and the main process reaches each one by id', async () => {
  const { server, open } = app();
  const renderers = ['window_1', 'window_2', 'window_3'].map((id) => open(id));
  expect(await Promise.all(renderers.map(({ channel }) => channel.call('whoAmI')))).toEqual([
    'window_1',
    'window_2',
    'window_3',
  ]);
  await until(() => server.connections.length === 3, 'three connections');
  for (const id of ['window_3', 'window_1']) {
    const toRenderer = server.getChannel<IChannel>('renderer', (client) => client.ctx === id);
    await expect(toRenderer.call('ping')).resolves.toBe(`${id}:ping`);
  }
  server.dispose();
});

test('a reloaded renderer says hello again: its new client replaces the old connection', async () => {
  const { server, open } = app();
  const first = open('window_1');
  await expect(first.channel.call('whoAmI')).resolves.toBe('window_1');
  const removed = next(server.onDidRemoveConnection);
  first.window.reload(); // a new JS context in the same WebContents: the same webContents.id on the wire
  const reloaded = open('window_1', first.window);
  expect((await removed).ctx).toBe('window_1');
  await expect(reloaded.channel.call('whoAmI')).resolves.toBe('window_1');
  await until(() => server.connections.length === 1, 'one connection for the window');
  const toRenderer = server.getChannel<IChannel>('renderer', (client) => client.ctx === 'window_1');
  await expect(toRenderer.call('ping')).resolves.toBe('window_1:ping');
  server.dispose();
});

test('a renderer destroyed without a goodbye is removed: calls to it reject, its calls and events end', async () => {
  const { server, main, open } = app();
  const doomed = open('doomed');
  const survivor = open('survivor');
  const heard: unknown[] = [];
  doomed.channel.listen('onChange')((e) => heard.push(e));
  survivor.channel.listen('onChange')((e) => heard.push(e));
  await until(() => server.connections.length === 2, 'both connections');
  await until(() => main.subscribers === 2, 'both subscriptions');
  void doomed.channel.call('hang').catch(() => {});
  await until(() => main.hanging.includes('doomed'), 'the hanging call to reach the main process');
  const toDoomed = server.getChannel<IChannel>('renderer', (client) => client.ctx === 'doomed').call('hang');
  const removed = next(server.onDidRemoveConnection);

  doomed.window.destroy();

  expect((await removed).ctx).toBe('doomed');
  await expect(toDoomed).rejects.toThrow();
  await until(() => main.subscribers === 1, "the doomed renderer's subscription to end");
  await until(() => main.cancelled.includes('doomed'), "the doomed renderer's call to be cancelled");
  expect(doomed.window.listenerCount('destroyed')).toBe(0);
  await expect(survivor.channel.call('whoAmI')).resolves.toBe('survivor');
  main.changes.fire('still here');
  await until(() => heard.length === 1, 'the survivor to hear the event');
  server.dispose();
});

test('a message from a renderer without a connection is dropped and reported, never thrown', async () => {
  const { electron, server, open } = app();
  const known = open('known');
  await expect(known.channel.call('whoAmI')).resolves.toBe('known');
  const errors: Error[] = [];
  server.onTransportError((error) => errors.push(error));
  expect(() => electron.ipcMain.emit('vscode:message', strangerEvent(77), new Uint8Array([1, 2, 3]))).not.toThrow();
  expect(errors).toEqual([expect.any(UnknownSenderError)]);
  expect(server.connections.map((c) => c.ctx)).toEqual(['known']);
  await expect(known.channel.call('whoAmI')).resolves.toBe('known');
  server.dispose();
});

test('with nobody listening, a dropped message is a process warning', () => {
  const electron = new FakeElectron();
  const server = new Server(electron.ipcMain);
  const warn = jest.spyOn(process, 'emitWarning').mockImplementation(() => {});
  try {
    electron.ipcMain.emit('vscode:message', strangerEvent(3), new Uint8Array([1]));
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn).toHaveBeenCalledWith(expect.stringContaining('UnknownSenderError'));
  } finally {
    warn.mockRestore();
    server.dispose();
  }
});

test('a large binary payload crosses byte-exact, both ways, as a VSBuffer', async () => {
  const { server, open } = app();
  const { channel } = open('window_1');
  const big = VSBuffer.wrap(pattern(6 * 1024 * 1024, 9));
  const back = await channel.call<VSBuffer>('echo', big);
  expect(back).toBeInstanceOf(VSBuffer);
  expect(Buffer.from(back.buffer).equals(Buffer.from(big.buffer))).toBe(true);
  server.dispose();
});

test("disposing the Server ends every renderer's client and its pending calls, and leaves ipcMain bare", async () => {
  const { electron, server, main, open } = app();
  const renderers = [open('a'), open('b')];
  await Promise.all(renderers.map(({ channel }) => channel.call('whoAmI')));
  const pending = renderers[0].channel.call('hang');
  await until(() => main.hanging.includes('a'), 'the call to reach the main process');
  const closed = renderers.map(({ client }) => next(client.onDidClose));
  server.dispose();
  await expect(pending).rejects.toThrow();
  expect(await Promise.all(closed)).toEqual([
    expect.objectContaining({ kind: 'remote' }),
    expect.objectContaining({ kind: 'remote' }),
  ]);
  for (const name of ['vscode:hello', 'vscode:message', 'vscode:disconnect']) {
    expect(electron.ipcMain.listenersOn(name)).toBe(0);
  }
});

test("a renderer's dispose says goodbye: the main process removes its connection", async () => {
  const { server, open } = app();
  const { client, channel } = open('leaving');
  await expect(channel.call('whoAmI')).resolves.toBe('leaving');
  const removed = next(server.onDidRemoveConnection);
  client.dispose();
  expect((await removed).ctx).toBe('leaving');
  expect(server.connections).toEqual([]);
  server.dispose();
});

test('the transport ending under a renderer (no RPC goodbye first) rejects its pending calls', async () => {
  const { server, main, open } = app();
  const { window, client, channel } = open('window_1');
  const pending = channel.call('hang');
  await until(() => main.hanging.includes('window_1'), 'the call to reach the main process');
  const closed = next(client.onDidClose);
  // What the main side's channel sends when it closes on its own, as IPCServer's connections cannot close it.
  window.send('vscode:disconnect');
  expect(await closed).toMatchObject({ kind: 'remote' });
  await expect(pending).rejects.toThrow();
  server.dispose();
});

test('a renderer that is not an IPCClient is refused, its transport closed: it is told, not left hanging', async () => {
  const { electron, server } = app();
  const errors: Error[] = [];
  server.onError((error) => errors.push(error));
  const window = electron.openWindow();
  const stranger = new IpcRendererChannel(window.context);
  const closed = next(stranger.onClose);
  stranger.getWriteBuffer().writeRaw(new Uint8Array([1, 2, 3])).commit();
  expect(await closed).toMatchObject({ kind: 'remote', reason: 'the main process closed the connection' });
  expect(errors).toEqual([expect.objectContaining({ name: 'NotAClientError' })]);
  expect(server.connections).toEqual([]);
  await until(() => window.listenerCount('destroyed') === 0, "the main side to let go of the renderer");
  server.dispose();
});
