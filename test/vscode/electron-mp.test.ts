import { VSBuffer, type Event, type IChannel, type IServerChannel } from '../../src/vscode';
import { UtilityProcessClient } from '../../src/vscode/ipc.electron-main';
import { Client, ParentPortClient, Protocol, Server, once } from '../../src/vscode/ipc.mp';
import { pattern } from '../helpers/bytes';
import { next, settle, until } from '../helpers/wait';
import { FakeMessageChannelMain, FakeUtilityProcess } from './electron-fakes';

/** A service that says who called it, echoes, and hangs when asked to. */
function service(name: string): IServerChannel & { hanging: string[] } {
  const hanging: string[] = [];
  return {
    hanging,
    call: (ctx, command, arg) => {
      if (command === 'whoAmI') return Promise.resolve(`${name} serving ${ctx}`);
      if (command === 'echo') return Promise.resolve(arg);
      if (command === 'hang') {
        hanging.push(ctx);
        return new Promise(() => {});
      }
      return Promise.reject(new Error(`Invalid command '${command}'`));
    },
    listen: (): Event<unknown> => {
      throw new Error('no events');
    },
  };
}

describe('MessagePortMain', () => {
  /** A utility process serving 'worker' to the ports the main process transfers to it, as VS Code's do. */
  function utilityWithServer() {
    const child = new FakeUtilityProcess();
    const server = new Server(child.parentPort);
    server.registerChannel('worker', service('worker'));
    const connect = (clientId: string) => {
      const { port1, port2 } = new FakeMessageChannelMain();
      child.postMessage('connect', [port2]);
      return { client: new Client(port1, clientId), port: port1 };
    };
    return { child, server, connect };
  }

  test('a protocol starts its port: without start() the fake would deliver nothing', async () => {
    const { port1, port2 } = new FakeMessageChannelMain();
    const a = new Protocol(port1);
    const b = new Protocol(port2);
    expect(port1.startCalls).toBe(1);
    const received: VSBuffer[] = [];
    b.onMessage((message) => received.push(message));
    a.send(VSBuffer.fromString('hi'));
    await until(() => received.length === 1, 'the message');
    expect(received[0].toString()).toBe('hi');
    a.disconnect();
    await next(b.onDidClose);
  });

  test("new Server(filter), as VS Code's utility processes make it: over process.parentPort, the filter's messages left to the app", async () => {
    const child = new FakeUtilityProcess();
    const processWithPort = process as { parentPort?: unknown };
    processWithPort.parentPort = child.parentPort;
    try {
      const handled: unknown[] = [];
      const server = new Server({
        handledClientConnection: (event) => {
          if (event.data !== 'app:port') return false;
          handled.push(event.data);
          return true;
        },
      });
      server.registerChannel('worker', service('worker'));
      const mine = new FakeMessageChannelMain();
      child.postMessage('app:port', [mine.port2]);
      const { port1, port2 } = new FakeMessageChannelMain();
      child.postMessage('connect', [port2]);
      const worker = new Client(port1, 'window_1').getChannel<IChannel>('worker');
      await expect(worker.call('whoAmI')).resolves.toBe('worker serving window_1');
      expect(handled).toEqual(['app:port']);
      expect(server.connections.map((c) => c.ctx)).toEqual(['window_1']);
      server.dispose();
    } finally {
      delete processWithPort.parentPort;
    }
  });

  test("once(port, message, callback), VS Code's helper: the callback runs for the first matching message only", async () => {
    const child = new FakeUtilityProcess();
    let calls = 0;
    once(child.parentPort, 'ready', () => calls++);
    child.postMessage('other');
    child.postMessage('ready');
    child.postMessage('ready');
    await until(() => calls > 0, 'the ready message');
    await settle();
    expect(calls).toBe(1);
    expect(child.parentPort.listenerCount('message')).toBe(0);
  });

  test('main-process clients reach a utility-process server over ports it was sent, each by its own id', async () => {
    const { server, connect } = utilityWithServer();
    const one = connect('window_1').client.getChannel<IChannel>('worker');
    const two = connect('window_2').client.getChannel<IChannel>('worker');
    await expect(one.call('whoAmI')).resolves.toBe('worker serving window_1');
    await expect(two.call('whoAmI')).resolves.toBe('worker serving window_2');
    expect(server.connections.map((c) => c.ctx).sort()).toEqual(['window_1', 'window_2']);
    server.dispose();
  });

  test("closing the client's end removes its connection; disposing the server closes the clients' ports", async () => {
    const { server, connect } = utilityWithServer();
    const leaving = connect('leaving');
    const staying = connect('staying');
    await leaving.client.getChannel<IChannel>('worker').call('whoAmI');
    await staying.client.getChannel<IChannel>('worker').call('whoAmI');
    const removed = next(server.onDidRemoveConnection);
    leaving.client.dispose();
    expect((await removed).ctx).toBe('leaving');
    const closed = next(staying.client.onDidClose);
    server.dispose();
    expect(await closed).toMatchObject({ kind: 'remote' });
    expect(staying.port.isClosed).toBe(true);
  });

  test('a port closed from the other end rejects what was pending on it', async () => {
    const { port1, port2 } = new FakeMessageChannelMain();
    const host = new Client(port2, 'host');
    host.registerChannel('worker', service('worker'));
    const guest = new Client(port1, 'guest');
    const hung = guest.getChannel<IChannel>('worker').call('hang');
    await until(() => port2.listenerCount('message') === 1, 'the host to listen');
    await settle();
    host.dispose();
    await expect(hung).rejects.toThrow();
    guest.dispose();
  });

  test('a large binary payload crosses byte-exact', async () => {
    const { server, connect } = utilityWithServer();
    const worker = connect('window_1').client.getChannel<IChannel>('worker');
    const big = VSBuffer.wrap(pattern(6 * 1024 * 1024, 21));
    const back = await worker.call<VSBuffer>('echo', big);
    expect(Buffer.from(back.buffer).equals(Buffer.from(big.buffer))).toBe(true);
    server.dispose();
  });
});

describe('a web MessagePort (a renderer\'s), as common/ipc.mp takes it', () => {
  const ports: Array<{ close(): void }> = [];
  afterEach(() => ports.splice(0).forEach((port) => port.close()));

  test('a Client and a Client over the two ports of a MessageChannel call each other; closing one end ends the other', async () => {
    // Node's global MessageChannel makes web ports: addEventListener, a { data } event, start(), close().
    const { port1, port2 } = new MessageChannel();
    // A port left open would keep the test process alive: closed whatever happens.
    ports.push(port1, port2);
    const host = new Client(port2, 'host');
    host.registerChannel('worker', service('worker'));
    const guest = new Client(port1, 'renderer');
    const worker = guest.getChannel<IChannel>('worker');
    // Peer to peer, as in VS Code, an IPCClient's channels are called with that client's own context.
    expect(await worker.call('whoAmI')).toBe('worker serving host');
    const big = VSBuffer.wrap(pattern(3 * 1024 * 1024, 7));
    const back = await worker.call<VSBuffer>('echo', big);
    expect(Buffer.from(back.buffer).equals(Buffer.from(big.buffer))).toBe(true);
    const hung = worker.call('hang');
    await settle();
    host.dispose();
    await expect(hung).rejects.toThrow();
    guest.dispose();
  });

  test('two Protocols pass bytes both ways, and what is not bytes closes the channel with a clear error', async () => {
    const { port1, port2 } = new MessageChannel();
    ports.push(port1, port2);
    const a = new Protocol(port1);
    const b = new Protocol(port2);
    const received: string[] = [];
    b.onMessage((message) => received.push(message.toString()));
    a.onMessage((message) => received.push(`back: ${message.toString()}`));
    a.send(VSBuffer.fromString('hi'));
    b.send(VSBuffer.fromString('there'));
    await until(() => received.length === 2, 'both messages');
    expect(received.sort()).toEqual(['back: there', 'hi']);
    const closed = next(b.onDidClose);
    port1.postMessage('not bytes');
    await closed;
    a.disconnect();
  });
});

describe('utilityProcess and parentPort', () => {
  function pair() {
    const child = new FakeUtilityProcess();
    const main = new UtilityProcessClient(child, 'main');
    const inChild = new ParentPortClient('utility', child.parentPort);
    const mainService = service('main');
    const childService = service('utility');
    main.registerChannel('main', mainService);
    inChild.registerChannel('utility', childService);
    return { child, main, inChild, childService };
  }

  test("each side calls the other's channels, both ways, with large payloads byte-exact", async () => {
    const { main, inChild } = pair();
    // Peer to peer, as in VS Code, an IPCClient's channels are called with that client's own context.
    await expect(main.getChannel<IChannel>('utility').call('whoAmI')).resolves.toBe('utility serving utility');
    await expect(inChild.getChannel<IChannel>('main').call('whoAmI')).resolves.toBe('main serving main');
    const big = VSBuffer.wrap(pattern(8 * 1024 * 1024, 2));
    const back = await main.getChannel<IChannel>('utility').call<VSBuffer>('echo', big);
    expect(Buffer.from(back.buffer).equals(Buffer.from(big.buffer))).toBe(true);
    main.dispose();
  });

  test("the app's own messages on the same child pass by, and fdpipe's do not reach the app as its own", async () => {
    const { child, main, inChild } = pair();
    const appHeard: unknown[] = [];
    child.parentPort.on('message', (event) => {
      if (typeof event.data === 'string') appHeard.push(event.data);
    });
    child.postMessage('app message');
    await expect(main.getChannel<IChannel>('utility').call('whoAmI')).resolves.toBe('utility serving utility');
    await until(() => appHeard.length === 1, "the app's message");
    expect(appHeard).toEqual(['app message']);
    inChild.dispose();
    main.dispose();
  });

  test('the child exiting ends the main side, with its exit code, and rejects what was pending', async () => {
    const { child, main, childService } = pair();
    const hung = main.getChannel<IChannel>('utility').call('hang');
    await until(() => childService.hanging.length === 1, 'the call to reach the child');
    const closed = next(main.onDidClose);
    child.exit(7);
    expect(await closed).toMatchObject({ kind: 'remote', exitCode: 7 });
    await expect(hung).rejects.toThrow();
    main.dispose();
  });

  test("the main side's dispose says goodbye: the child's client closes", async () => {
    const { main, inChild } = pair();
    await main.getChannel<IChannel>('utility').call('whoAmI');
    const closed = next(inChild.onDidClose);
    main.dispose();
    expect(await closed).toMatchObject({ kind: 'remote', reason: 'the main process closed the channel' });
  });
});
