import { randomUUID } from 'crypto';
import { createConnection, createServer, type Server as NetServer, type Socket } from 'net';
import { tmpdir } from 'os';
import { join } from 'path';
import { destroyAfter } from '../../common/destroyAfter';
import { Event } from '../base/event';
import { DEFAULT_CLOSE_GRACE, DEFAULT_MAX_UNSENT_BYTES } from '../../rpc/channels/IPCServer';
import { IPCServer } from '../common/IPCServer';
import type { ClientConnectionEvent } from '../common/types';
import { Client } from './Client';
import { NodeSocket } from './NodeSocket';
import { Protocol } from './Protocol';

/** A path for a Unix socket (a named pipe on Windows) that no one else uses. */
export function createRandomIPCHandle(): string {
  const suffix = randomUUID();
  if (process.platform === 'win32') return `\\\\.\\pipe\\vscode-ipc-${suffix}-sock`;
  return join(tmpdir(), `vscode-ipc-${suffix}.sock`);
}

/** fdpipe's options for ipc.net's Server (VS Code's takes none). */
export interface ServerOptions {
  /**
   * Unsent bytes a connection may hold for its client before the server stops reading that client, until it has
   * drained to half: a client that sends and never reads cannot make the server queue replies without bound.
   * Default 64 MiB; Infinity for no bound.
   */
  maxUnsentBytes?: number;
  /**
   * On dispose(), how long a client's socket gets to write what it still holds before it is destroyed, in ms: a
   * client that never reads cannot keep it (and those bytes) open. Default 3000.
   */
  closeGrace?: number;
}

/** An IPCServer accepting clients on a net.Server. */
export class Server extends IPCServer {
  private server: NetServer | null;
  private readonly sockets = new Set<Socket>();

  private static toClientConnectionEvent(server: NetServer, sockets: Set<Socket>): Event<ClientConnectionEvent> {
    const onConnection = Event.fromNodeEventEmitter<Socket, [Socket]>(server, 'connection');
    return Event.map(onConnection, (socket) => {
      sockets.add(socket);
      socket.once('close', () => sockets.delete(socket));
      return {
        protocol: new Protocol(new NodeSocket(socket, 'ipc-server-connection')),
        onDidClientDisconnect: Event.once(Event.fromNodeEventEmitter<void>(socket, 'close')),
      };
    });
  }

  private readonly closeGrace: number;

  constructor(server: NetServer, options: ServerOptions = {}) {
    const sockets = new Set<Socket>();
    const maxUnsentBytes = options.maxUnsentBytes ?? DEFAULT_MAX_UNSENT_BYTES;
    super(Server.toClientConnectionEvent(server, sockets), null, undefined, maxUnsentBytes);
    this.server = server;
    this.sockets = sockets;
    this.closeGrace = options.closeGrace ?? DEFAULT_CLOSE_GRACE;
  }

  /**
   * Stops listening and ends every client's socket, destroying it after closeGrace if it has not closed by then.
   * VS Code leaves accepted sockets open until their clients go; here the server owns them, so disposing it does
   * not leave connections behind.
   */
  override dispose(): void {
    super.dispose();
    for (const socket of this.sockets) {
      socket.end();
      destroyAfter(socket, this.closeGrace);
    }
    this.sockets.clear();
    this.server?.close();
    this.server = null;
  }
}

export function serve(port: number, options?: ServerOptions): Promise<Server>;
export function serve(namedPipe: string, options?: ServerOptions): Promise<Server>;
export function serve(hook: number | string, options?: ServerOptions): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(hook, () => {
      server.removeListener('error', reject);
      resolve(new Server(server, options));
    });
  });
}

export function connect(options: { host: string; port: number }, clientId: string): Promise<Client>;
export function connect(port: number, clientId: string): Promise<Client>;
export function connect(namedPipe: string, clientId: string): Promise<Client>;
export function connect(hook: { host: string; port: number } | number | string, clientId: string): Promise<Client> {
  return new Promise((resolve, reject) => {
    const socket =
      typeof hook === 'object'
        ? createConnection(hook, onConnect)
        : typeof hook === 'number'
          ? createConnection(hook, undefined, onConnect)
          : createConnection(hook, onConnect);
    function onConnect() {
      socket.removeListener('error', reject);
      resolve(Client.fromSocket(new NodeSocket(socket, `ipc-client${clientId}`), clientId));
    }
    socket.once('error', reject);
  });
}
