import { chmodSync, lstatSync, unlinkSync } from 'fs';
import { isMainThread } from 'worker_threads';
import { createConnection, createServer, type Server, type Socket } from 'net';
import { Emitter, type Event } from '../common/event';
import { DisposableStore, toDisposable, type Disposable, supportAwaitUsing, supportUsing } from '../common/lifecycle';
import { warnUnhandled } from '../common/warn';
import { IPCChannel, type IPCChannelOptions } from './IPCChannel';

/** A Unix socket path or Windows named pipe (a string), or a TCP port (a number). */
export type ChannelAddress = string | number;

export interface ListenOptions extends IPCChannelOptions {
  /** TCP only: the interface to bind. Default 127.0.0.1, so nothing outside this machine can connect. */
  host?: string;
}

export interface ConnectOptions extends IPCChannelOptions {
  /** TCP only. Default 127.0.0.1. */
  host?: string;
}

/** A listening socket that turns each accepted connection into an IPCChannel. */
export class ChannelListener implements Disposable {
  /** dispose(), for `using`. */
  declare readonly [Symbol.dispose]: () => void;
  /** close(), for `await using`. */
  declare readonly [Symbol.asyncDispose]: () => Promise<void>;
  // Declared before the emitter, which registers with it as it is made.
  private readonly store = new DisposableStore();
  private readonly connectionEmitter = this.store.add(new Emitter<IPCChannel>({ onListenerError: warnUnhandled }));
  /** Fires with a channel for each client that connects. */
  readonly onDidConnect: Event<IPCChannel> = this.connectionEmitter.event;
  private readonly closed: Promise<void>;

  constructor(
    readonly server: Server,
    readonly address: ChannelAddress,
    options: IPCChannelOptions,
  ) {
    const onConnection = (socket: Socket) => this.connectionEmitter.fire(new IPCChannel(socket, options));
    server.on('connection', onConnection);
    this.closed = new Promise((resolve) => server.once('close', () => resolve()));
    // The error listener stays with the server: one emitted while or after it closes must not be uncaught.
    server.on('error', warnUnhandled);
    this.store.add(
      toDisposable(() => {
        server.off('connection', onConnection);
        server.close();
      }),
    );
  }

  /** The TCP port actually bound (useful after listening on port 0). */
  get port(): number | undefined {
    const address = this.server.address();
    return typeof address === 'object' && address ? address.port : undefined;
  }

  /**
   * Stops accepting, at once: the address is free when it returns (what `using` calls). Channels already made stay
   * open and belong to whoever took them.
   */
  dispose(): void {
    this.store.dispose();
  }

  /**
   * dispose(), then resolves once the listening socket and every connection it accepted have closed, as
   * net.Server's close() does: what `await using` calls. Closing those channels is up to whoever took them.
   */
  close(): Promise<void> {
    this.dispose();
    return this.closed;
  }
}

function isNamedPipe(path: string): boolean {
  return path.startsWith('\\\\?\\pipe\\') || path.startsWith('\\\\.\\pipe\\');
}

/**
 * Listens on a Unix socket path (reachable by the current user only: mode 0600), a Windows named pipe, or a TCP
 * port (on 127.0.0.1 unless `host` says otherwise). A stale socket file left by a dead process is replaced.
 */
export async function listen(address: ChannelAddress, options: ListenOptions = {}): Promise<ChannelListener> {
  const { host = '127.0.0.1', ...channelOptions } = options;
  const server = createServer();
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
  return new ChannelListener(server, address, channelOptions);
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
export function connect(address: ChannelAddress, options: ConnectOptions = {}): Promise<IPCChannel> {
  const { host = '127.0.0.1', ...channelOptions } = options;
  return new Promise((resolve, reject) => {
    const socket = typeof address === 'number' ? createConnection(address, host) : createConnection(address);
    socket.once('error', reject);
    socket.once('connect', () => {
      socket.off('error', reject);
      resolve(new IPCChannel(socket, channelOptions));
    });
  });
}

supportUsing(ChannelListener.prototype);
supportAwaitUsing(ChannelListener.prototype);
