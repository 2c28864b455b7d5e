import type { Server, Socket } from 'net';
import { DisposableStore, toDisposable, type Disposable } from '../common/lifecycle';
import { warnUnhandled } from '../common/warn';

/** An address to listen on: a Unix socket path or Windows named pipe (a string), or a TCP port (a number). */
export type ChannelAddress = string | number;

/**
 * What every listener over a net.Server shares: it takes the server's accepted sockets until disposed, and can wait
 * for the server to close. What a socket becomes (a channel, a session) is the subclass's.
 */
export abstract class SocketListener implements Disposable {
  // Declared first: subclasses' emitters register with it as they are made.
  protected readonly store = new DisposableStore();
  private readonly closed: Promise<void>;

  constructor(
    readonly server: Server,
    readonly address: ChannelAddress,
  ) {
    this.closed = new Promise((resolve) => server.once('close', () => resolve()));
    // The error listener stays with the server: one emitted while or after it closes must not be uncaught.
    server.on('error', warnUnhandled);
  }

  /** Hands each accepted socket to `onSocket` until disposed (a TLS server's once its handshake is done). */
  protected accept(onSocket: (socket: Socket) => void): void {
    const event = connectionEvent(this.server);
    this.server.on(event, onSocket);
    this.store.add(
      toDisposable(() => {
        this.server.off(event, onSocket);
        this.server.close();
      }),
    );
  }

  /** The TCP port actually bound (useful after listening on port 0). */
  get port(): number | undefined {
    const address = this.server.address();
    return typeof address === 'object' && address ? address.port : undefined;
  }

  /**
   * Stops accepting, at once: the address is free when it returns (what `using` calls). What was made of sockets
   * already accepted stays open and belongs to whoever took it.
   */
  dispose(): void {
    this.store.dispose();
  }

  /**
   * dispose(), then resolves once the listening socket and every socket it accepted have closed, as net.Server's
   * close() does: what `await using` calls. Closing what was made of those sockets is up to whoever took it.
   */
  close(): Promise<void> {
    this.dispose();
    return this.closed;
  }
}

/** A TLS server hands over a socket once its handshake is done; a plain one, as soon as it is accepted. */
function connectionEvent(server: Server): 'connection' | 'secureConnection' {
  return (server as Server & { addContext?: unknown }).addContext ? 'secureConnection' : 'connection';
}
