import { Duplex } from 'stream';
import { AddressInfo, createServer, Server, Socket } from 'net';
import { mkdtempSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';

/**
 * One end of an in-memory duplex pair. Unlike two PassThroughs glued with Duplex.from, ending or destroying one
 * end behaves like a socket: the peer sees 'end', not an AbortError, and a write is only acknowledged once the
 * peer has room, so backpressure is real.
 */
export class MemoryDuplex extends Duplex {
  peer!: MemoryDuplex;
  private blockedWrite: (() => void) | undefined;
  private endSent = false;

  override _read(): void {
    // Our reader has room again: let the peer's held-back write complete.
    const release = this.peer.blockedWrite;
    this.peer.blockedWrite = undefined;
    release?.();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    // What a socket does when written after its peer is gone.
    if (this.peer.destroyed || this.endSent) {
      callback(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
      return;
    }
    if (this.peer.push(chunk)) callback();
    else this.blockedWrite = () => callback();
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.endPeer();
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.endPeer();
    this.blockedWrite = undefined;
    callback(error);
  }

  private endPeer(): void {
    if (this.endSent) return;
    this.endSent = true;
    if (!this.peer.destroyed) this.peer.push(null);
  }
}

export function createMemoryDuplexPair(): [MemoryDuplex, MemoryDuplex] {
  const a = new MemoryDuplex();
  const b = new MemoryDuplex();
  a.peer = b;
  b.peer = a;
  return [a, b];
}

export interface SocketPair {
  a: Socket;
  b: Socket;
  /** Destroys both sockets and the listening server, and removes the socket file. */
  dispose(): Promise<void>;
}

async function connectPair(server: Server, connectTo: () => Socket, cleanup: () => void): Promise<SocketPair> {
  const accepted = new Promise<Socket>((resolve) => server.once('connection', resolve));
  const a = connectTo();
  await new Promise<void>((resolve, reject) => {
    a.once('connect', resolve);
    a.once('error', reject);
  });
  const b = await accepted;
  // Nothing else connects: stop listening now so a forgotten dispose() cannot keep Jest alive.
  const serverClosed = new Promise<void>((resolve) => server.close(() => resolve()));
  return {
    a,
    b,
    async dispose() {
      a.destroy();
      b.destroy();
      await serverClosed;
      cleanup();
    },
  };
}

/** A connected pair of real Unix domain sockets. */
export async function createUnixSocketPair(): Promise<SocketPair> {
  const dir = mkdtempSync(join(tmpdir(), 'fdpipe-test-'));
  const path = join(dir, 's.sock');
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(path, resolve));
  return connectPair(
    server,
    () => new Socket().connect(path),
    () => rmSync(dir, { recursive: true, force: true }),
  );
}

/** A connected pair of TCP sockets on the loopback interface (for resets, which Unix sockets cannot do). */
export async function createTcpSocketPair(): Promise<SocketPair> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return connectPair(
    server,
    () => new Socket().connect(port, '127.0.0.1'),
    () => {},
  );
}
