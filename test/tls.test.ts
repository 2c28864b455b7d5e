import { readFileSync } from 'fs';
import { join } from 'path';
import { Server as TlsServer } from 'tls';
import {
  InsecureListenError,
  IPCClient,
  IPCServer,
  isLoopbackHost,
  listen,
  type ClientSession,
  type SessionListener,
} from '../src';

const fixture = (name: string) => readFileSync(join(__dirname, 'fixtures', 'tls', name));
const ca = fixture('ca.crt');
const serverTls = { key: fixture('server.key'), cert: fixture('server.crt') };
const clientCert = { key: fixture('client.key'), cert: fixture('client.crt') };

const servers: IPCServer<string>[] = [];
afterEach(() => {
  for (const server of servers.splice(0)) server.dispose();
});

function echoServer(options: ConstructorParameters<typeof IPCServer<string>>[0] = {}): IPCServer<string> {
  const server = new IPCServer<string>(options);
  servers.push(server);
  server.registerChannel('echo', {
    call: async (ctx, _command, arg) => `${ctx}: ${String(arg)}`,
    listen: () => {
      throw new Error('no events');
    },
  });
  return server;
}

describe('TLS for TCP', () => {
  test('a client that trusts the CA talks to the server over TLS', async () => {
    const server = echoServer();
    const listener = await server.listen(0, { tls: serverTls });
    expect(listener.server).toBeInstanceOf(TlsServer);
    const client = await IPCClient.connect(listener.port!, 'c1', { host: 'localhost', tls: { ca } });
    expect(await client.getChannel('echo').call('say', 'hi')).toBe('c1: hi');
    client.dispose();
  });

  test('a client that does not trust the certificate is refused by its own check', async () => {
    const server = echoServer();
    const listener = await server.listen(0, { tls: serverTls });
    await expect(IPCClient.connect(listener.port!, 'c1', { tls: { ca: fixture('other-ca.crt') } })).rejects.toThrow(
      /certificate/i,
    );
  });

  test('with requestCert, only clients with a certificate from the CA get in', async () => {
    const server = echoServer();
    const listener = await server.listen(0, { tls: { ...serverTls, ca, requestCert: true, rejectUnauthorized: true } });
    const port = listener.port!;
    await expect(IPCClient.connect(port, 'anonymous', { tls: { ca }, handshakeTimeout: 10_000 })).rejects.toThrow();
    const client = await IPCClient.connect(port, 'known', { tls: { ca, ...clientCert } });
    expect(await client.getChannel('echo').call('say', 'hi')).toBe('known: hi');
    expect(server.connections.map((c) => c.ctx)).toEqual(['known']);
    client.dispose();
  });

  test('a persistent connection over TLS survives a dropped socket', async () => {
    const server = echoServer();
    const listener = (await server.listen(0, { tls: serverTls, persistent: true })) as SessionListener;
    const client = await IPCClient.connect(listener.port!, 'c1', {
      tls: { ca },
      persistent: { reconnect: { initialDelayMs: 1 } },
    });
    const echo = client.getChannel('echo');
    const first = echo.call('say', 'before');
    (client.channel as ClientSession).reconnect();
    const second = echo.call('say', 'after');
    expect(await Promise.all([first, second])).toEqual(['c1: before', 'c1: after']);
    expect((client.channel as ClientSession).resumeCount).toBe(1);
    client.dispose();
  });
});

describe('a TCP server reachable from other machines', () => {
  test('refuses to start with neither TLS nor a token, and says what to do', async () => {
    const server = echoServer();
    const attempt = server.listen(0, { host: '0.0.0.0' });
    await expect(attempt).rejects.toBeInstanceOf(InsecureListenError);
    await expect(attempt).rejects.toThrow(/without TLS or a token.*tls: \{ key, cert \}.*insecure: true/);
    await expect(listen(0, { host: '::' })).rejects.toBeInstanceOf(InsecureListenError);
  });

  test('starts with TLS, with a token, or when told insecure: true', async () => {
    const withTls = await echoServer().listen(0, { host: '0.0.0.0', tls: serverTls });
    expect(withTls.port).toBeGreaterThan(0);
    const token = echoServer({ token: 'secret' });
    const withToken = await token.listen(0, { host: '0.0.0.0' });
    const client = await IPCClient.connect(withToken.port!, 'c', { token: 'secret' });
    expect(await client.getChannel('echo').call('say', 'x')).toBe('c: x');
    client.dispose();
    const insecure = await listen(0, { host: '0.0.0.0', insecure: true });
    insecure.dispose();
  });

  test('loopback addresses need neither', () => {
    for (const host of ['127.0.0.1', '127.1.2.3', 'localhost', '::1', '::ffff:127.0.0.1']) {
      expect(isLoopbackHost(host)).toBe(true);
    }
    for (const host of ['0.0.0.0', '::', '', '192.168.1.10', 'example.com', '::ffff:10.0.0.1']) {
      expect(isLoopbackHost(host)).toBe(false);
    }
  });
});
