import type { Socket } from 'net';
import { VSBuffer } from '../base/buffer';
import { onUnexpectedError } from '../base/errors';
import { Emitter, type Event } from '../base/event';
import type { IDisposable } from '../base/lifecycle';
import { SocketCloseEventType, type ISocket, type SocketCloseEvent, type SocketDiagnosticsEventType } from './socket';
import { supportUsing } from '../../common/lifecycle';

/**
 * How long to wait for 'close' once the other side has ended, before destroying the socket: a Unix socket does
 * not always fire it (VS Code issue #211462).
 */
export const SOCKET_END_TIMEOUT_MS = 30_000;

/**
 * The connection ended under a write: a broken pipe (VS Code ignores it too), a reset connection (which VS Code
 * reports as unexpected; here a peer that dies is the connection ending, told through 'close', not a fault), or
 * the socket destroyed with writes still queued (a server letting go of a client that did not read them).
 */
function isBrokenPipe(error: unknown): boolean {
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  return code === 'EPIPE' || code === 'ECONNRESET' || code === 'ERR_STREAM_DESTROYED';
}

/** A Node socket as an ISocket. Writing after either side has ended is a no-op; EPIPE is expected and ignored. */
export class NodeSocket implements ISocket {
  /** dispose(), for `using`. */
  declare readonly [Symbol.dispose]: () => void;
  private canWrite = true;
  private readonly writeEmitter = new Emitter<void>();
  private endTimer: NodeJS.Timeout | undefined;
  private readonly errorListener = (error: Error) => {
    // The other side went away mid-write: 'close' follows, which is how that is reported.
    if (error && !isBrokenPipe(error)) onUnexpectedError(error);
  };
  private readonly closeListener = () => {
    this.canWrite = false;
    if (this.endTimer) clearTimeout(this.endTimer);
  };
  private readonly endListener = () => {
    this.canWrite = false;
    this.endTimer = setTimeout(() => this.socket.destroy(), SOCKET_END_TIMEOUT_MS);
  };

  constructor(
    readonly socket: Socket,
    readonly debugLabel = '',
  ) {
    socket.on('error', this.errorListener);
    socket.on('close', this.closeListener);
    socket.on('end', this.endListener);
  }

  traceSocketEvent(_type: SocketDiagnosticsEventType, _data?: unknown): void {
    // VS Code records these for diagnostics; fdpipe has no such log.
  }

  dispose(): void {
    this.socket.off('error', this.errorListener);
    this.socket.off('close', this.closeListener);
    this.socket.off('end', this.endListener);
    if (this.endTimer) clearTimeout(this.endTimer);
    this.socket.destroy();
    this.writeEmitter.dispose();
  }

  onData(listener: (e: VSBuffer) => void): IDisposable {
    const adapter = (data: Buffer) => listener(VSBuffer.wrap(data));
    this.socket.on('data', adapter);
    return { dispose: () => void this.socket.off('data', adapter) };
  }

  onClose(listener: (e: SocketCloseEvent) => void): IDisposable {
    const adapter = (hadError: boolean) =>
      listener({ type: SocketCloseEventType.NodeSocketCloseEvent, hadError: Boolean(hadError), error: undefined });
    this.socket.on('close', adapter);
    return { dispose: () => void this.socket.off('close', adapter) };
  }

  /**
   * fdpipe's, not VS Code's: fires each time a write has been handed to the OS (or failed), as the socket's unsent
   * bytes go down; 'drain' comes only once they are all gone, after a write the socket refused.
   */
  readonly onDidWrite: Event<void> = this.writeEmitter.event;

  onEnd(listener: () => void): IDisposable {
    const adapter = () => listener();
    this.socket.on('end', adapter);
    return { dispose: () => void this.socket.off('end', adapter) };
  }

  write(buffer: VSBuffer): void {
    if (this.socket.destroyed || !this.canWrite) return;
    try {
      this.socket.write(buffer.buffer, (error) => {
        if (error && !isBrokenPipe(error)) onUnexpectedError(error);
        this.writeEmitter.fire();
      });
    } catch (error) {
      if (!isBrokenPipe(error)) onUnexpectedError(error);
    }
  }

  /**
   * Half-closes: what was written still goes out; the socket closes once the other side ends too. A stand-in
   * socket without end() (tests fake sockets with an EventEmitter) is destroyed instead of throwing.
   */
  end(): void {
    if (typeof this.socket.end === 'function') this.socket.end();
    else this.socket.destroy();
  }

  drain(): Promise<void> {
    return new Promise((resolve) => {
      if (!this.socket.bufferSize) return resolve();
      const events = ['close', 'end', 'error', 'timeout', 'drain'];
      const finished = () => {
        for (const event of events) this.socket.off(event, finished);
        resolve();
      };
      for (const event of events) this.socket.on(event, finished);
    });
  }
}

supportUsing(NodeSocket.prototype);
