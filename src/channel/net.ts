import { chmodSync, lstatSync, unlinkSync } from 'fs';
import { isMainThread } from 'worker_threads';
import { createConnection, createServer, isIP, type Server, type Socket } from 'net';
import { connect as tlsConnect, createServer as createTlsServer, type ConnectionOptions, type TlsOptions } from 'tls';
import { Emitter, type Event } from '../common/event';
import { supportAwaitUsing, supportUsing } from '../common/lifecycle';
import { warnUnhandled } from '../common/warn';
import { IPCChannel, type IPCChannelOptions } from './IPCChannel';
import { SocketListener, type ChannelAddress } from './SocketListener';
import { connectSession, type ClientSession, type ClientSessionOptions } from './session/ClientSession';
import { SessionAcceptor, type ServerSession, type SessionAcceptorOptions } from './session/SessionAcceptor';

export type { ChannelAddress } from './SocketListener';

export interface ListenOptions extends IPCChannelOptions {
  /** TCP only: the interface to bind. Default 127.0.0.1, so nothing outside this machine can connect. */
  host?: string;
  /**
   * TCP only: serve TLS, with the options node:tls takes (`key`, `cert`, `ca`, `requestCert`,
   * `rejectUnauthorized`, …). With `requestCert: true` and a `ca`, only clients with a certificate it signed get in.
   */
  tls?: TlsOptions;
  /**
   * TCP only: bind an address other machines can reach without TLS. Without it (or TLS, or an IPCServer token),
   * listening on anything but loopback throws InsecureListenError, as anyone on the network could connect.
   */
  insecure?: boolean;
}

export interface ConnectOptions extends IPCChannelOptions {
  /** TCP only. Default 127.0.0.1. */
  host?: string;
  /**
   * TCP only: connect with TLS, with the options node:tls takes (`ca` to trust a private CA, `cert` and `key`
   * for a client certificate, `servername`, …). The server's certificate is checked unless told otherwise.
   */
  tls?: ConnectionOptions;
}

/** A TCP server would be open to the network with nothing to keep strangers out. */
export class InsecureListenError extends Error {
  override name = 'InsecureListenError';
}

/** The message a server with neither TLS nor a token gets for a host other machines can reach. */
function insecureHostMessage(host: string, port: number): string {
  return (
    `Refusing to listen on ${host}:${port} without TLS or a token: anyone who can reach this machine could ` +
    'connect. Pass tls: { key, cert } (see the README), give the IPCServer a token, listen on 127.0.0.1, or pass ' +
    'insecure: true if the network is trusted.'
  );
}

/** Whether `host` is reachable from this machine only. */
export function isLoopbackHost(host: string): boolean {
  const lower = host.toLowerCase();
  if (lower === 'localhost' || lower === '::1' || lower === '0:0:0:0:0:0:0:1') return true;
  const v4 = lower.startsWith('::ffff:') ? lower.slice(7) : lower;
  return isIP(v4) === 4 && v4.startsWith('127.');
}

/** Throws InsecureListenError for a TCP listener other machines could reach with nothing to keep strangers out. */
export function checkExposure(address: ChannelAddress, options: Pick<ListenOptions, 'host' | 'tls' | 'insecure'>): void {
  const host = options.host ?? '127.0.0.1';
  if (typeof address !== 'number' || options.tls || options.insecure || isLoopbackHost(host)) return;
  throw new InsecureListenError(insecureHostMessage(host, address));
}

/** A listening socket that turns each accepted connection into an IPCChannel. */
export class ChannelListener extends SocketListener {
  /** dispose(), for `using`. */
  declare readonly [Symbol.dispose]: () => void;
  /** close(), for `await using`. */
  declare readonly [Symbol.asyncDispose]: () => Promise<void>;
  private readonly connectionEmitter = this.store.add(new Emitter<IPCChannel>({ onListenerError: warnUnhandled }));
  /** Fires with a channel for each client that connects. */
  readonly onDidConnect: Event<IPCChannel> = this.connectionEmitter.event;

  constructor(server: Server, address: ChannelAddress, options: IPCChannelOptions) {
    super(server, address);
    this.accept((socket) => this.connectionEmitter.fire(new IPCChannel(socket, options)));
  }
}

function isNamedPipe(path: string): boolean {
  return path.startsWith('\\\\?\\pipe\\') || path.startsWith('\\\\.\\pipe\\');
}


/**
 * Listens on a Unix socket path (reachable by the current user only: mode 0600), a Windows named pipe, or a TCP
 * port (on 127.0.0.1 unless `host` says otherwise; anything else wants `tls` or `insecure: true`). A stale socket
 * file left by a dead process is replaced.
 */
export async function listen(address: ChannelAddress, options: ListenOptions = {}): Promise<ChannelListener> {
  const { host, tls, insecure, ...channelOptions } = options;
  const server = await bindServer(address, { host, tls, insecure });
  return new ChannelListener(server, address, channelOptions);
}

/** Makes and binds the server for listen() and listenPersistent(). */
async function bindServer(address: ChannelAddress, options: Pick<ListenOptions, 'host' | 'tls' | 'insecure'>): Promise<Server> {
  checkExposure(address, options);
  const host = options.host ?? '127.0.0.1';
  if (options.tls && typeof address !== 'number') {
    throw new TypeError('tls is for TCP ports: a Unix socket or named pipe is already private to this machine');
  }
  const server: Server = options.tls ? createTlsServer(options.tls) : createServer();
  const bind = () =>
    new Promise<void>((resolve, reject) => {
      // A socket file is created with the process's umask: made private from its first moment, not after a chmod
      // that a fast stranger could beat. (process.umask() can't be set in a worker thread; chmod still follows.)
      const privateFile = typeof address === 'string' && !isNamedPipe(address) && isMainThread;
      const previousMask = privateFile ? process.umask(0o177) : undefined;
      const restore = () => {
        if (previousMask !== undefined) process.umask(previousMask);
      };
      server.once('error', reject);
      const done = () => {
        server.off('error', reject);
        resolve();
      };
      try {
        // Node binds a socket path synchronously inside listen(), so the mask is back before anything else runs.
        if (typeof address === 'number') server.listen(address, host, done);
        else server.listen(address, done);
      } finally {
        restore();
      }
    });
  try {
    await bind();
  } catch (error) {
    if (typeof address !== 'string' || (error as NodeJS.ErrnoException).code !== 'EADDRINUSE' || !(await isStale(address))) {
      throw error;
    }
    unlinkSync(address);
    await bind();
  }
  if (typeof address === 'string' && !isNamedPipe(address)) chmodSync(address, 0o600);
  return server;
}

/** A socket file nobody answers on. Anything that is not a socket (a regular file, say) is never stale. */
function isStale(path: string): Promise<boolean> {
  let isSocket = false;
  try {
    isSocket = lstatSync(path).isSocket();
  } catch {
    isSocket = false;
  }
  if (!isSocket) return Promise.resolve(false);
  return new Promise((resolve) => {
    const probe = createConnection(path);
    probe.once('connect', () => {
      probe.destroy();
      resolve(false);
    });
    probe.once('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'ECONNREFUSED'));
  });
}

/** Connects to a ChannelListener (or any server speaking fdpipe frames) and resolves with the channel. */
export async function connect(address: ChannelAddress, options: ConnectOptions = {}): Promise<IPCChannel> {
  const { host, tls, ...channelOptions } = options;
  return new IPCChannel(await dialSocket(address, host, tls), channelOptions);
}

/** Opens one socket to `address`, resolving once it is connected (and, with TLS, once the handshake is done). */
export function dialSocket(address: ChannelAddress, host = '127.0.0.1', tls?: ConnectionOptions): Promise<Socket> {
  return new Promise((resolve, reject) => {
    let socket: Socket;
    let ready: string;
    if (tls) {
      if (typeof address !== 'number') throw new TypeError('tls is for TCP ports, not Unix sockets or named pipes');
      socket = tlsConnect({ servername: isIP(host) ? undefined : host, ...tls, host, port: address });
      ready = 'secureConnect';
    } else {
      socket = typeof address === 'number' ? createConnection(address, host) : createConnection(address);
      ready = 'connect';
    }
    socket.once('error', reject);
    socket.once(ready, () => {
      socket.off('error', reject);
      resolve(socket);
    });
  });
}

supportUsing(ChannelListener.prototype);
supportAwaitUsing(ChannelListener.prototype);

export interface PersistentListenOptions extends Omit<ListenOptions, 'exitGraceMs'>, SessionAcceptorOptions {}
export interface PersistentConnectOptions extends Omit<ConnectOptions, 'exitGraceMs'>, ClientSessionOptions {}

/** A listening socket whose clients open persistent sessions: onDidConnect fires once per session, not per socket. */
export class SessionListener extends SocketListener {
  /** dispose(), for `using`. */
  declare readonly [Symbol.dispose]: () => void;
  /** close(), for `await using`. */
  declare readonly [Symbol.asyncDispose]: () => Promise<void>;
  readonly acceptor: SessionAcceptor;
  /** Fires with each new session; a client back after a drop resumes its session and fires nothing. */
  readonly onDidConnect: Event<ServerSession>;

  constructor(server: Server, address: ChannelAddress, options: SessionAcceptorOptions) {
    super(server, address);
    const acceptor = (this.acceptor = this.store.add(new SessionAcceptor(options)));
    this.onDidConnect = acceptor.onDidOpen;
    this.accept((socket) => acceptor.accept(socket));
  }
}

supportUsing(SessionListener.prototype);
supportAwaitUsing(SessionListener.prototype);

/** listen(), for clients that connect with connectPersistent(): their sessions survive a dropped socket. */
export async function listenPersistent(address: ChannelAddress, options: PersistentListenOptions = {}): Promise<SessionListener> {
  const { host, tls, insecure, ...sessionOptions } = options;
  const server = await bindServer(address, { host, tls, insecure });
  return new SessionListener(server, address, sessionOptions);
}

/**
 * connect(), with a session that survives a dropped socket: the client dials again (with backoff) and the session
 * resumes where it was, nothing lost or repeated. The server must listen with listenPersistent().
 */
export function connectPersistent(address: ChannelAddress, options: PersistentConnectOptions = {}): Promise<ClientSession> {
  const { host, tls, ...sessionOptions } = options;
  return connectSession(() => dialSocket(address, host, tls), sessionOptions);
}
