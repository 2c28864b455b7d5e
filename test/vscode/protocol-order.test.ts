// VS Code's IMessagePassingProtocol delivers messages in the order they were sent, and VS Code's ipc.ts relies on
// it (an event's values come in order; a dispose never passes its listen). ChannelProtocol keeps that order over
// an fdpipe channel, whose large messages otherwise travel in fragments that smaller ones pass.
import { IPCChannel } from '../../src';
import { ChannelClient, ChannelProtocol, ChannelServer, Emitter, VSBuffer, type IServerChannel } from '../../src/vscode';
import { createUnixSocketPair, type SocketPair } from '../helpers/streams';
import { until } from '../helpers/wait';

const MiB = 1024 * 1024;

let pair: SocketPair;
const disposables: Array<{ dispose(): void }> = [];
beforeEach(async () => {
  pair = await createUnixSocketPair();
});
afterEach(async () => {
  for (const d of disposables.splice(0).reverse()) d.dispose();
  await pair.dispose();
});

test("an event's small value does not pass the large one fired before it", async () => {
  const client = new ChannelProtocol(new IPCChannel(pair.a, { fragmentSize: 64 * 1024 }));
  const server = new ChannelProtocol(new IPCChannel(pair.b, { fragmentSize: 64 * 1024 }));
  const data = new Emitter<VSBuffer | string>();
  const served: IServerChannel<string> = {
    call: () => Promise.resolve(undefined),
    listen: () => data.event,
  };
  const channelServer = new ChannelServer(server, 'server');
  channelServer.registerChannel('svc', served);
  const channels = new ChannelClient(client);
  disposables.push(client, server, channelServer, channels, data);
  const seen: string[] = [];
  const listening = channels.getChannel('svc').listen<VSBuffer | string>('onData')((value) => {
    seen.push(typeof value === 'string' ? value : `bytes ${value.byteLength}`);
  });
  disposables.push(listening);
  await until(() => data.hasListeners(), 'the subscription');
  data.fire(VSBuffer.wrap(new Uint8Array(2 * MiB)));
  data.fire('small');
  await until(() => seen.length === 2, 'both values');
  expect(seen).toEqual([`bytes ${2 * MiB}`, 'small']);
});
