import {
  CancellationToken,
  Emitter,
  Event,
  IPCClient,
  IPCServer,
  type ClientConnectionEvent,
  type IChannel,
  type IServerChannel,
} from '../../src/vscode';
import { protocolPair } from './helpers';

// Code in VS Code's style (`any`, required parameters, `Event<any>`), as a project vendoring VS Code's IPC has
// it: it has to compile against the face unchanged, with no casts, and work.

interface IUpdateService {
  readonly onStateChange: Event<string>;
  checkForUpdates(explicit: boolean): Promise<void>;
  state(): Promise<string>;
}

class UpdateService implements IUpdateService {
  private readonly _onStateChange = new Emitter<string>();
  readonly onStateChange: Event<string> = this._onStateChange.event;
  private current = 'idle';

  async checkForUpdates(explicit: boolean): Promise<void> {
    this.current = explicit ? 'checking (explicit)' : 'checking';
    this._onStateChange.fire(this.current);
  }

  async state(): Promise<string> {
    return this.current;
  }
}

class UpdateChannel implements IServerChannel {
  constructor(private service: IUpdateService) {}

  listen(_: unknown, event: string): Event<any> {
    switch (event) {
      case 'onStateChange':
        return this.service.onStateChange;
    }
    throw new Error(`Event not found: ${event}`);
  }

  call(_: unknown, command: string, arg: any, _token: CancellationToken): Promise<any> {
    switch (command) {
      case 'checkForUpdates':
        return this.service.checkForUpdates(arg);
      case '_getInitialState':
        return this.service.state();
    }
    throw new Error(`Call not found: ${command}`);
  }
}

class UpdateChannelClient implements IUpdateService {
  get onStateChange(): Event<string> {
    return this.channel.listen<string>('onStateChange');
  }

  constructor(private readonly channel: IChannel) {}

  checkForUpdates(explicit: boolean): Promise<void> {
    return this.channel.call('checkForUpdates', explicit);
  }

  state(): Promise<string> {
    return this.channel.call('_getInitialState');
  }
}

test('VS Code-style channel code compiles against the face and works', async () => {
  const connect = new Emitter<ClientConnectionEvent>();
  const disconnect = new Emitter<void>();
  const server = new IPCServer(connect.event);
  server.registerChannel('update', new UpdateChannel(new UpdateService()));
  const [clientSide, serverSide] = protocolPair();
  const client = new IPCClient(clientSide, 'window:1');
  connect.fire({ protocol: serverSide, onDidClientDisconnect: disconnect.event });

  const update = new UpdateChannelClient(client.getChannel('update'));
  const states: string[] = [];
  const listener = update.onStateChange((s) => states.push(s), null, []);
  await expect(update.state()).resolves.toBe('idle');
  await update.checkForUpdates(true);
  await expect(update.state()).resolves.toBe('checking (explicit)');
  expect(states).toEqual(['checking (explicit)']);

  listener.dispose();
  client.dispose();
  disconnect.fire();
  server.dispose();
});
