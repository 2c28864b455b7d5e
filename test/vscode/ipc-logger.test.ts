import { Emitter, IPCClient, IPCServer, RequestInitiator, type ClientConnectionEvent, type IIPCLogger } from '../../src/vscode';
import { protocolPair, TestChannel, TestService } from './helpers';

interface Logged {
  way: 'in' | 'out';
  msgLength: number;
  requestId: number;
  initiator: RequestInitiator;
  str: string;
  data?: unknown;
}

function recorder(): IIPCLogger & { lines: Logged[] } {
  const lines: Logged[] = [];
  return {
    lines,
    logIncoming: (msgLength, requestId, initiator, str, data) => lines.push({ way: 'in', msgLength, requestId, initiator, str, data }),
    logOutgoing: (msgLength, requestId, initiator, str, data) => lines.push({ way: 'out', msgLength, requestId, initiator, str, data }),
  };
}

describe('vscode face: IIPCLogger', () => {
  test('a client logs the requests it sends and their replies, the server those it serves, sizes as sent', async () => {
    const connect = new Emitter<ClientConnectionEvent>();
    const disconnect = new Emitter<void>();
    const serverLog = recorder();
    const clientLog = recorder();
    const service = new TestService();
    const server = new IPCServer<string>(connect.event, serverLog);
    server.registerChannel('test', new TestChannel(service));
    const [clientSide, serverSide] = protocolPair();
    const client = new IPCClient<string>(clientSide, 'one', clientLog);
    connect.fire({ protocol: serverSide, onDidClientDisconnect: disconnect.event });
    const channel = client.getChannel('test');

    await expect(channel.call('marco')).resolves.toBe('polo');
    await expect(channel.call('error', 'bad')).rejects.toMatchObject({ message: 'bad' });

    expect(clientLog.lines).toEqual([
      { way: 'out', msgLength: expect.any(Number), requestId: 1, initiator: RequestInitiator.LocalSide, str: 'req: test.marco', data: undefined },
      { way: 'in', msgLength: expect.any(Number), requestId: 1, initiator: RequestInitiator.LocalSide, str: 'reply:', data: 'polo' },
      { way: 'out', msgLength: expect.any(Number), requestId: 2, initiator: RequestInitiator.LocalSide, str: 'req: test.error', data: 'bad' },
      { way: 'in', msgLength: expect.any(Number), requestId: 2, initiator: RequestInitiator.LocalSide, str: 'replyErr:', data: expect.objectContaining({ message: 'bad' }) },
    ]);
    expect(serverLog.lines).toEqual([
      { way: 'in', msgLength: clientLog.lines[0].msgLength, requestId: 1, initiator: RequestInitiator.OtherSide, str: 'req: test.marco', data: undefined },
      { way: 'out', msgLength: clientLog.lines[1].msgLength, requestId: 1, initiator: RequestInitiator.OtherSide, str: 'reply:', data: 'polo' },
      { way: 'in', msgLength: clientLog.lines[2].msgLength, requestId: 2, initiator: RequestInitiator.OtherSide, str: 'req: test.error', data: 'bad' },
      { way: 'out', msgLength: clientLog.lines[3].msgLength, requestId: 2, initiator: RequestInitiator.OtherSide, str: 'replyErr:', data: expect.objectContaining({ message: 'bad' }) },
    ]);
    // msgLength is the size of the message the protocol carried.
    const sentSizes = clientSide.sent.map((buffer) => buffer.byteLength);
    expect(sentSizes).toContain(clientLog.lines[0].msgLength);
    expect(serverSide.sent.map((buffer) => buffer.byteLength)).toContain(serverLog.lines[1].msgLength);

    disconnect.fire();
    client.dispose();
    server.dispose();
    service.dispose();
    connect.dispose();
    disconnect.dispose();
  });
});
