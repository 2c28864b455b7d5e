import { MessageEndpointChannel, type Channel, type ChannelCloseEvent } from '../../src';
import {
  ElectronUnavailableError,
  EndpointInUseError,
  IpcMainAcceptor,
  IpcRendererChannel,
  MessagePortMainChannel,
  ParentPortChannel,
  UnexpectedMessageError,
  UnknownSenderError,
  UtilityProcessChannel,
  type WebContentsChannel,
} from '../../src/vscode/electron';
import { Client } from '../../src/vscode/ipc.electron-browser';
import { Server } from '../../src/vscode/ipc.electron-main';
import { expectSameMessages, pattern } from '../helpers/bytes';
import { next, settle, until } from '../helpers/wait';
import { FakeElectron, FakeMessageChannelMain, FakeUtilityProcess, strangerEvent } from './electron-fakes';

/** Everything a channel receives, as the Uint8Arrays that arrived. */
function collect(channel: Channel): Uint8Array[] {
  const received: Uint8Array[] = [];
  channel.onMessage((read) => received.push(read().sliceAtReadPosition()));
  return received;
}

function send(channel: Channel, bytes: Uint8Array): void {
  channel.getWriteBuffer().writeRaw(bytes).commit();
}

const closeOf = (channel: Channel): Promise<ChannelCloseEvent> => next(channel.onClose);

describe('over ipcMain and ipcRenderer', () => {
  function app() {
    const electron = new FakeElectron();
    const acceptor = new IpcMainAcceptor(electron.ipcMain);
    const errors: Error[] = [];
    acceptor.onError((error) => errors.push(error));
    const opened: WebContentsChannel[] = [];
    acceptor.onDidConnect((channel) => opened.push(channel));
    return { electron, acceptor, errors, opened };
  }

  test('a hello opens the main side; bytes cross both ways as exact Uint8Arrays, each message its own', async () => {
    const { electron, acceptor, opened, errors } = app();
    const window = electron.openWindow();
    const renderer = new IpcRendererChannel(window.context);
    const fromRenderer = collect(await next(acceptor.onDidConnect));
    const main = opened[0];
    expect(main.webContents.id).toBe(window.id);
    const fromMain = collect(renderer);
    // What crossed, as Electron handed it over: listened to beside the channels.
    const wire: unknown[] = [];
    electron.ipcMain.on('vscode:message', (_event: unknown, data: unknown) => wire.push(data));
    window.context.on('vscode:message', (_event: unknown, data: unknown) => wire.push(data));
    // Several messages in one tick: the fakes clone at send, so a channel that reused one buffer would show it.
    for (let i = 0; i < 5; i++) send(renderer, Buffer.from([i, i, i]));
    for (let i = 0; i < 5; i++) send(main, Buffer.from([9, i]));
    await until(() => fromRenderer.length === 5 && fromMain.length === 5, 'both ways');
    expectSameMessages(fromRenderer, [0, 1, 2, 3, 4].map((i) => Buffer.from([i, i, i])));
    expectSameMessages(fromMain, [0, 1, 2, 3, 4].map((i) => Buffer.from([9, i])));
    expect(wire).toHaveLength(10);
    for (const data of wire) {
      expect(data).toBeInstanceOf(Uint8Array); // bytes, not base64 text
      const bytes = data as Uint8Array;
      expect(bytes.buffer.byteLength).toBe(bytes.byteLength); // not the 8 KiB pool the message was written in
    }
    expect(errors).toEqual([]);
    acceptor.dispose();
  });

  test('several renderers are routed by webContents.id', async () => {
    const { electron, acceptor, opened } = app();
    const windows = [electron.openWindow(), electron.openWindow(), electron.openWindow()];
    const renderers = windows.map((window) => new IpcRendererChannel(window.context));
    await until(() => opened.length === 3, 'three connections');
    const byId = new Map(opened.map((channel) => [channel.webContents.id, collect(channel)]));
    renderers.forEach((renderer, i) => send(renderer, Buffer.from([windows[i].id])));
    renderers.forEach((renderer, i) => send(renderer, Buffer.from([windows[i].id, 0])));
    await until(() => [...byId.values()].every((received) => received.length === 2), 'each renderer');
    for (const window of windows) {
      expectSameMessages(byId.get(window.id)!, [Buffer.from([window.id]), Buffer.from([window.id, 0])]);
    }
    const replies = renderers.map(collect);
    for (const channel of opened) send(channel, Buffer.from([channel.webContents.id, 1]));
    await until(() => replies.every((received) => received.length === 1), 'each reply');
    replies.forEach((received, i) => expectSameMessages(received, [Buffer.from([windows[i].id, 1])]));
    acceptor.dispose();
  });

  test('a second hello from the same renderer replaces its connection; old goodbyes are ignored', async () => {
    const { electron, acceptor, opened } = app();
    const window = electron.openWindow();
    new IpcRendererChannel(window.context);
    await until(() => opened.length === 1, 'the first connection');
    const first = opened[0];
    const firstClosed = closeOf(first);
    const renewed = new IpcRendererChannel(window.reload());
    await until(() => opened.length === 2, 'the second connection');
    expect(await firstClosed).toMatchObject({ kind: 'remote', reason: expect.stringContaining('said hello again') });
    expect(acceptor.channels).toEqual([opened[1]]);
    expect(window.listenerCount('destroyed')).toBe(1); // the replaced channel let go of its listener
    // Goodbyes name their connection: the old one's, either way, leaves the renewed connection alone.
    expect(first.connectionId).toEqual(expect.any(String));
    expect(opened[1].connectionId).not.toBe(first.connectionId);
    first.close();
    window.context.send('vscode:disconnect', first.connectionId);
    const received = collect(opened[1]);
    send(renewed, Buffer.from([7]));
    await until(() => received.length === 1, 'the renewed connection');
    expect(renewed.isClosed).toBe(false);
    expect(opened[1].isClosed).toBe(false);
    acceptor.dispose();
  });

  test('a renderer destroyed without a goodbye: its channel closes, nothing of it is left', async () => {
    const { electron, acceptor, opened } = app();
    const window = electron.openWindow();
    new IpcRendererChannel(window.context);
    await until(() => opened.length === 1, 'the connection');
    const closed = closeOf(opened[0]);
    window.destroy();
    // Between destroy and 'destroyed', a send does not throw out of commit(): the channel closes instead.
    send(opened[0], Buffer.from([1]));
    expect(await closed).toMatchObject({ kind: 'remote' });
    await settle();
    expect(window.listenerCount('destroyed')).toBe(0);
    expect(acceptor.channels).toEqual([]);
    acceptor.dispose();
  });

  test('goodbyes: a renderer that closes closes the main side, and the other way round', async () => {
    const { electron, acceptor, opened } = app();
    const a = new IpcRendererChannel(electron.openWindow().context);
    const b = new IpcRendererChannel(electron.openWindow().context);
    await until(() => opened.length === 2, 'two connections');
    const [mainA, mainB] = opened;
    const mainAClosed = closeOf(mainA);
    a.close();
    expect(await mainAClosed).toMatchObject({
      kind: 'remote',
      reason: expect.stringContaining('closed the connection'),
    });
    const bClosed = closeOf(b);
    mainB.close();
    expect(await bClosed).toMatchObject({ kind: 'remote', reason: 'the main process closed the connection' });
    expect(acceptor.channels).toEqual([]);
    acceptor.dispose();
  });

  test('a message from a renderer without a connection is dropped and reported, never thrown', async () => {
    const { electron, acceptor, opened, errors } = app();
    const known = new IpcRendererChannel(electron.openWindow().context);
    await until(() => opened.length === 1, 'the connection');
    const received = collect(opened[0]);
    // Straight to ipcMain, as a renderer that never said hello would.
    expect(() => electron.ipcMain.emit('vscode:message', strangerEvent(99), new Uint8Array([1]))).not.toThrow();
    electron.ipcMain.emit('vscode:message', { sender: undefined }, new Uint8Array([2]));
    send(known, Buffer.from([3]));
    await until(() => received.length === 1, 'the known message');
    expectSameMessages(received, [Buffer.from([3])]);
    expect(errors).toEqual([expect.any(UnknownSenderError), expect.any(UnknownSenderError)]);
    expect(errors[0]).toMatchObject({ senderId: 99, channelName: 'vscode:message' });
    acceptor.dispose();
  });

  test('unheard, a dropped message becomes a process warning', async () => {
    const electron = new FakeElectron();
    const acceptor = new IpcMainAcceptor(electron.ipcMain);
    const warn = jest.spyOn(process, 'emitWarning').mockImplementation(() => {});
    try {
      electron.ipcMain.emit('vscode:message', strangerEvent(5), new Uint8Array([1]));
      expect(warn).toHaveBeenCalledWith(expect.stringContaining('UnknownSenderError'));
    } finally {
      warn.mockRestore();
      acceptor.dispose();
    }
  });

  test('acceptSender refuses a frame: its hello opens nothing, its messages are dropped', async () => {
    const electron = new FakeElectron();
    const acceptor = new IpcMainAcceptor(electron.ipcMain, {
      acceptSender: (event) => event.senderFrame?.parent === null,
    });
    const errors: Error[] = [];
    acceptor.onError((error) => errors.push(error));
    const window = electron.openWindow();
    const iframe = { url: 'https://elsewhere.example/', parent: window.mainFrame };
    window.context.sendFromFrame(iframe, 'vscode:hello', 'x');
    window.context.sendFromFrame(iframe, 'vscode:message', new Uint8Array([1]));
    await until(() => errors.length === 2, 'both refusals');
    expect(errors.every((error) => error instanceof UnknownSenderError)).toBe(true);
    expect(acceptor.channels).toEqual([]);
    acceptor.dispose();
  });

  test('anything but a Uint8Array on the message channel closes that connection with an error', async () => {
    const { electron, acceptor, opened } = app();
    const window = electron.openWindow();
    const renderer = new IpcRendererChannel(window.context);
    await until(() => opened.length === 1, 'the connection');
    const errors: Error[] = [];
    opened[0].onError((error) => errors.push(error));
    const mainClosed = closeOf(opened[0]);
    const rendererClosed = closeOf(renderer);
    window.context.send('vscode:message', 'base64 text');
    expect(await mainClosed).toMatchObject({ kind: 'error', error: expect.any(UnexpectedMessageError) });
    expect(await rendererClosed).toMatchObject({ kind: 'remote' }); // told, so it does not wait forever
    acceptor.dispose();
  });

  test('one connection per ipcMain and per ipcRenderer under the same names; free again once closed', async () => {
    const electron = new FakeElectron();
    const acceptor = new IpcMainAcceptor(electron.ipcMain);
    expect(() => new IpcMainAcceptor(electron.ipcMain)).toThrow(EndpointInUseError);
    // Sharing any one name is sharing: and the refused acceptor holds on to none of its names.
    expect(() => new IpcMainAcceptor(electron.ipcMain, { names: { hello: 'app:hi' } })).toThrow(EndpointInUseError);
    const appNames = { hello: 'app:hi', message: 'app:msg', disconnect: 'app:bye' };
    new IpcMainAcceptor(electron.ipcMain, { names: appNames }).dispose();
    const other = new IpcMainAcceptor(electron.ipcMain, { names: appNames });
    const window = electron.openWindow();
    const first = new IpcRendererChannel(window.context);
    expect(() => new IpcRendererChannel(window.context)).toThrow(EndpointInUseError);
    first.close();
    new IpcRendererChannel(window.context).close();
    acceptor.dispose();
    new IpcMainAcceptor(electron.ipcMain).dispose();
    other.dispose();
  });

  test('a hello the preload script refuses throws, and leaves the ipcRenderer as it found it', async () => {
    const electron = new FakeElectron();
    const acceptor = new IpcMainAcceptor(electron.ipcMain);
    const window = electron.openWindow();
    const ipcRenderer = window.context;
    // As a preload script that lets only some channels through throws for the others.
    const send = ipcRenderer.send.bind(ipcRenderer);
    let refuse = true;
    ipcRenderer.send = (channel: string, ...args: unknown[]) => {
      if (refuse) throw new Error(`Unsupported event IPC channel '${channel}'`);
      send(channel, ...args);
    };
    expect(() => new IpcRendererChannel(ipcRenderer)).toThrow("Unsupported event IPC channel 'vscode:hello'");
    expect(ipcRenderer.listenerCount('vscode:message') + ipcRenderer.listenerCount('vscode:disconnect')).toBe(0);
    refuse = false;
    const opened = next(acceptor.onDidConnect);
    const channel = new IpcRendererChannel(ipcRenderer);
    await opened;
    channel.close();
    acceptor.dispose();
  });

  test('dispose closes every connection, tells each renderer, and leaves no listener on ipcMain', async () => {
    const { electron, acceptor, opened } = app();
    const renderers = [electron.openWindow(), electron.openWindow()].map((w) => new IpcRendererChannel(w.context));
    await until(() => opened.length === 2, 'two connections');
    const closed = renderers.map(closeOf);
    acceptor.dispose();
    expect(opened.every((channel) => channel.isClosed)).toBe(true);
    expect(await Promise.all(closed)).toEqual([
      expect.objectContaining({ kind: 'remote' }),
      expect.objectContaining({ kind: 'remote' }),
    ]);
    for (const name of ['vscode:hello', 'vscode:message', 'vscode:disconnect']) {
      expect(electron.ipcMain.listenersOn(name)).toBe(0);
    }
  });

  test('a large binary message arrives byte-exact, both ways', async () => {
    const { electron, acceptor, opened } = app();
    const renderer = new IpcRendererChannel(electron.openWindow().context);
    await until(() => opened.length === 1, 'the connection');
    const atMain = collect(opened[0]);
    const atRenderer = collect(renderer);
    const big = pattern(8 * 1024 * 1024, 3);
    send(renderer, big);
    send(opened[0], big);
    await until(() => atMain.length === 1 && atRenderer.length === 1, 'the large messages');
    expectSameMessages(atMain, [big]);
    expectSameMessages(atRenderer, [big]);
    acceptor.dispose();
  });
});

describe('over MessagePortMain', () => {
  test('the fake is faithful: a port delivers nothing until start()', async () => {
    const { port1, port2 } = new FakeMessageChannelMain();
    const received: unknown[] = [];
    port2.on('message', (event) => received.push(event));
    port1.postMessage(new Uint8Array([1]));
    await settle();
    expect(received).toEqual([]);
    port2.start();
    await until(() => received.length === 1, 'the message after start');
    expect(received[0]).toEqual({ data: new Uint8Array([1]), ports: [] });
  });

  test('the channel starts its port; bytes cross both ways; a large message arrives byte-exact', async () => {
    const { port1, port2 } = new FakeMessageChannelMain();
    const a = new MessagePortMainChannel(port1);
    const b = new MessagePortMainChannel(port2);
    expect(port1.startCalls).toBe(1);
    const atA = collect(a);
    const atB = collect(b);
    const big = pattern(4 * 1024 * 1024, 11);
    send(a, Buffer.from([1, 2]));
    send(a, big);
    send(b, Buffer.from([3]));
    await until(() => atB.length === 2 && atA.length === 1, 'both ways');
    expectSameMessages(atB, [Buffer.from([1, 2]), big]);
    expectSameMessages(atA, [Buffer.from([3])]);
    expect(atB[0].buffer.byteLength).toBe(2);
    a.close();
  });

  test('closing either end closes both channels', async () => {
    for (const closer of [0, 1]) {
      const { port1, port2 } = new FakeMessageChannelMain();
      const channels = [new MessagePortMainChannel(port1), new MessagePortMainChannel(port2)];
      const other = closeOf(channels[1 - closer]);
      const own = closeOf(channels[closer]);
      channels[closer].close();
      expect(await own).toMatchObject({ kind: 'local' });
      expect(await other).toMatchObject({ kind: 'remote' });
      expect(port1.listenerCount('message') + port2.listenerCount('message')).toBe(0);
    }
  });

  test('anything but bare bytes closes the channel with an error; ports sent along are closed', async () => {
    const { port1, port2 } = new FakeMessageChannelMain();
    const channel = new MessagePortMainChannel(port2);
    const errors: Error[] = [];
    channel.onError((error) => errors.push(error));
    const closed = closeOf(channel);
    const stray = new FakeMessageChannelMain();
    port1.postMessage(new Uint8Array([1]), [stray.port1]);
    expect(await closed).toMatchObject({ kind: 'error', error: expect.any(UnexpectedMessageError) });
    expect(stray.port1.isClosed).toBe(true);
    expect(port1.isClosed || port2.isClosed).toBe(true);
  });
});

describe('over utilityProcess and parentPort', () => {
  test('bytes cross both ways, large ones byte-exact; the app\'s own messages pass untouched', async () => {
    const child = new FakeUtilityProcess();
    const parent = new UtilityProcessChannel(child);
    const inChild = new ParentPortChannel(child.parentPort);
    const atChild = collect(inChild);
    const atParent = collect(parent);
    const appMessages: unknown[] = [];
    child.parentPort.on('message', (event) => appMessages.push(event.data));
    const errors: Error[] = [];
    parent.onError((error) => errors.push(error));
    inChild.onError((error) => errors.push(error));
    const big = pattern(8 * 1024 * 1024, 5);
    send(parent, big);
    child.postMessage({ app: 'hello' });
    send(parent, Buffer.from([1]));
    send(inChild, Buffer.from([2]));
    await until(() => atChild.length === 2 && atParent.length === 1 && appMessages.length === 3, 'both ways');
    expectSameMessages(atChild, [big, Buffer.from([1])]);
    expectSameMessages(atParent, [Buffer.from([2])]);
    expect(appMessages).toContainEqual({ app: 'hello' });
    expect(errors).toEqual([]);
    parent.close();
  });

  test('closing either side closes the other', async () => {
    const child = new FakeUtilityProcess();
    let parent = new UtilityProcessChannel(child);
    let inChild = new ParentPortChannel(child.parentPort);
    let closed = closeOf(inChild);
    parent.close();
    expect(await closed).toMatchObject({ kind: 'remote', reason: 'the main process closed the channel' });
    parent = new UtilityProcessChannel(child);
    inChild = new ParentPortChannel(child.parentPort);
    closed = closeOf(parent);
    inChild.close();
    expect(await closed).toMatchObject({ kind: 'remote', reason: 'the utility process closed the channel' });
    expect(child.listenerCount('message') + child.listenerCount('exit')).toBe(0);
  });

  test('the child exiting closes the parent side with its exit code', async () => {
    const child = new FakeUtilityProcess();
    const parent = new UtilityProcessChannel(child);
    const closed = closeOf(parent);
    child.exit(3);
    expect(await closed).toMatchObject({ kind: 'remote', exitCode: 3 });
    expect(() => parent.getWriteBuffer()).toThrow();
  });

  test("the envelope is MessageEndpointChannel's: either can be the main process's end", async () => {
    const child = new FakeUtilityProcess();
    const parent = new MessageEndpointChannel(child);
    const inChild = new ParentPortChannel(child.parentPort);
    const atChild = collect(inChild);
    const atParent = collect(parent);
    send(parent, Buffer.from([1, 2]));
    send(inChild, Buffer.from([3]));
    await until(() => atChild.length === 1 && atParent.length === 1, 'both ways');
    expectSameMessages(atChild, [Buffer.from([1, 2])]);
    expectSameMessages(atParent, [Buffer.from([3])]);
    const closed = closeOf(inChild);
    parent.close();
    expect(await closed).toMatchObject({ kind: 'remote' });
  });
});

describe('outside Electron', () => {
  // Nothing here mocks 'electron', and it is not installed: the defaults must say so, not fail obscurely.
  test('the defaults throw ElectronUnavailableError', () => {
    expect(() => new Server()).toThrow(ElectronUnavailableError);
    expect(() => new Client('window_1')).toThrow(ElectronUnavailableError);
    expect(() => new ParentPortChannel()).toThrow(ElectronUnavailableError);
  });
});
