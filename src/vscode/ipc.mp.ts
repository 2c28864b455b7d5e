// fdpipe/vscode/ipc.mp: VS Code's common/ipc.mp.ts, electron-main/ipc.mp.ts and node/ipc.mp.ts over Electron's
// MessagePortMain — a protocol and a client over a port, and, in a utility process, the server whose clients are
// the ports the main process transfers in — plus the utility process's connection over parentPort itself.
import { onUnexpectedError } from './base/errors';
import { Emitter } from './base/event';
import { DisposableStore, toDisposable } from './base/lifecycle';
import { ChannelProtocol } from './common/ChannelProtocol';
import { IPCServer } from './common/IPCServer';
import type { ClientConnectionEvent, IIPCLogger } from './common/types';
import { TransportClient } from './electron/TransportClient';
import { clientConnection } from './electron/connections';
import { MessagePortMainChannel } from './electron/MessagePortMainChannel';
import { currentParentPort, ParentPortChannel } from './electron/ParentPortChannel';
import { asMessagePortMain } from './electron/domPort';
import type { DomMessagePort, MessageEventMain, MessagePortMain, ParentPort } from './electron/types';

/** A web port has addEventListener; Electron's MessagePortMain is an EventEmitter without it. */
function isDomPort(port: MessagePortMain | DomMessagePort): port is DomMessagePort {
  return typeof (port as DomMessagePort).addEventListener === 'function';
}

/**
 * A MessagePort as VS Code's IMessagePassingProtocol: Electron's MessagePortMain (electron-main/ipc.mp), or a web
 * MessagePort, a renderer's (common/ipc.mp). It starts the port; either end closing ends both.
 */
export class Protocol extends ChannelProtocol {
  constructor(port: MessagePortMain | DomMessagePort) {
    super(
      isDomPort(port)
        ? new MessagePortMainChannel(asMessagePortMain(port), 'MessagePort')
        : new MessagePortMainChannel(port),
    );
  }

  /** Closes the port: the other end's protocol closes too. */
  disconnect(): void {
    this.dispose();
  }
}

/** An IPCClient over a MessagePort (either kind, as Protocol), to a Server on the port's other end (or a Client). */
export class Client extends TransportClient<Protocol> {
  /** @param clientId who this client is among the server's clients: routers pick clients by it. */
  constructor(port: MessagePortMain | DomMessagePort, clientId: string, ipcLogger: IIPCLogger | null = null) {
    super(new Protocol(port), clientId, ipcLogger);
  }
}

export interface ServerOptions {
  /**
   * Which of parentPort's messages with ports bring a client (its first port); default: every one. The others
   * are left to the app, which owns their ports.
   */
  isConnection?: (event: MessageEventMain) => boolean;
  ipcLogger?: IIPCLogger | null;
  timeoutDelay?: number;
}

/** VS Code's filter for a utility process's Server: true from handledClientConnection keeps a message from it. */
export interface IClientConnectionFilter {
  handledClientConnection(event: MessageEventMain): boolean;
}

/**
 * In a utility process: an IPCServer whose clients come as MessagePortMains the main process transfers in over
 * parentPort (`child.postMessage(anything, [port])`, with a MessagePort `Client` on the other end).
 */
export class Server extends IPCServer<string> {
  private readonly ports: DisposableStore;

  /** As VS Code's: over process.parentPort, leaving the messages `filter` handled to the app. */
  constructor(filter?: IClientConnectionFilter);
  constructor(parentPort?: ParentPort, options?: ServerOptions);
  constructor(portOrFilter?: ParentPort | IClientConnectionFilter, options: ServerOptions = {}) {
    const filter = isConnectionFilter(portOrFilter) ? portOrFilter : undefined;
    const parentPort = portOrFilter === undefined || filter ? currentParentPort() : (portOrFilter as ParentPort);
    const isConnection = options.isConnection ?? (filter && ((event) => !filter.handledClientConnection(event)));
    const ports = new DisposableStore();
    const connected = ports.add(new Emitter<ClientConnectionEvent>());
    const onMessage = (event: MessageEventMain) => {
      const port = event?.ports?.[0];
      if (!port || (isConnection && !isConnection(event))) return;
      try {
        // From here the port is its connection's: it closes when the connection ends.
        connected.fire(clientConnection(new MessagePortMainChannel(port)));
      } catch (error) {
        // Thrown out of parentPort's listener, it would be the utility process's uncaught exception.
        onUnexpectedError(error);
      }
    };
    parentPort.on('message', onMessage);
    ports.add(toDisposable(() => parentPort.removeListener('message', onMessage)));
    super(connected.event, options.ipcLogger, options.timeoutDelay);
    this.ports = ports;
  }

  /** Stops taking ports, ends every connection and closes its port (the main process's Client sees it close). */
  override dispose(): void {
    super.dispose();
    this.ports.dispose();
  }
}

function isConnectionFilter(value: unknown): value is IClientConnectionFilter {
  return typeof (value as Partial<IClientConnectionFilter> | undefined)?.handledClientConnection === 'function';
}

/** VS Code's node/ipc.mp helper: calls `callback` once, when `message` (compared with ===) arrives on `port`. */
export function once(
  port: Pick<ParentPort, 'on' | 'removeListener'>,
  message: unknown,
  callback: () => void,
): void {
  const listener = (event: MessageEventMain) => {
    if (event?.data !== message) return;
    port.removeListener('message', listener);
    callback();
  };
  port.on('message', listener);
}

/**
 * parentPort as VS Code's IMessagePassingProtocol, in a utility process; the main process's end is a
 * UtilityProcessProtocol.
 */
export class ParentPortProtocol extends ChannelProtocol {
  constructor(parentPort: ParentPort = currentParentPort()) {
    super(new ParentPortChannel(parentPort));
  }

  disconnect(): void {
    this.dispose();
  }
}

/** A utility process's IPCClient to the main process's UtilityProcessClient, over parentPort. */
export class ParentPortClient extends TransportClient<ParentPortProtocol> {
  constructor(ctx: string, parentPort: ParentPort = currentParentPort(), ipcLogger: IIPCLogger | null = null) {
    super(new ParentPortProtocol(parentPort), ctx, ipcLogger);
  }
}

export { ElectronUnavailableError, UnexpectedMessageError } from './electron/errors';
export type { DomMessagePort, MessageEventMain, MessagePortMain, ParentPort } from './electron/types';
