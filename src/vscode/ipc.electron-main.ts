// fdpipe/vscode/ipc.electron-main: VS Code's electron-main/ipc.electron.ts — the main process's IPCServer over
// ipcMain, one client per renderer — and the main process's ends of a utility process and of a MessagePortMain.
// Electron is never imported: ipcMain is taken from require('electron') when not passed in.
import type { Event as CoreEvent } from '../common/event';
import { Event } from './base/event';
import { fromCoreEvent } from './common/channelAdapters';
import { ChannelProtocol } from './common/ChannelProtocol';
import { IPCServer } from './common/IPCServer';
import type { IIPCLogger } from './common/types';
import { TransportClient } from './electron/TransportClient';
import { clientConnection } from './electron/connections';
import { electronIpcMain } from './electron/electronModule';
import { IpcMainAcceptor, type IpcMainAcceptorOptions } from './electron/IpcMainAcceptor';
import type { IpcMain, UtilityProcess } from './electron/types';
import { UtilityProcessChannel } from './electron/UtilityProcessChannel';

export interface ServerOptions extends IpcMainAcceptorOptions {
  ipcLogger?: IIPCLogger | null;
  /** How long a call for a channel not registered yet waits for it, in ms (VS Code's timeoutDelay). */
  timeoutDelay?: number;
}

/**
 * The main process's IPCServer over ipcMain: each renderer that says hello (a renderer `Client`) is a client,
 * identified by the id it gives; a renderer that says hello again (a reload) replaces its old connection, and one
 * that is destroyed without a goodbye is removed, its pending calls rejected and its subscriptions ended.
 */
export class Server extends IPCServer<string> {
  private readonly acceptor: IpcMainAcceptor;
  /**
   * Messages dropped before they reach any connection: from a WebContents that has no connection (or that
   * acceptSender refused). Unheard, each becomes a process warning.
   */
  readonly onTransportError: CoreEvent<Error>;

  constructor(ipcMain: IpcMain = electronIpcMain(), options: ServerOptions = {}) {
    const acceptor = new IpcMainAcceptor(ipcMain, options);
    super(Event.map(fromCoreEvent(acceptor.onDidConnect), clientConnection), options.ipcLogger, options.timeoutDelay);
    this.acceptor = acceptor;
    this.onTransportError = acceptor.onError;
  }

  /** Closes every renderer's connection (each renderer is told) and stops listening on ipcMain. */
  override dispose(): void {
    super.dispose();
    this.acceptor.dispose();
  }
}

/** A utility process's messages as VS Code's IMessagePassingProtocol; the child's end is a ParentPortProtocol. */
export class UtilityProcessProtocol extends ChannelProtocol {
  constructor(child: UtilityProcess) {
    super(new UtilityProcessChannel(child));
  }

  /** Tells the child this side is done; its ParentPortProtocol closes. */
  disconnect(): void {
    this.dispose();
  }
}

/**
 * The main process's IPCClient to a utility process, over the child's own postMessage (no MessagePortMain to
 * make and transfer). The child answers with a ParentPortClient: the two call each other's channels.
 */
export class UtilityProcessClient extends TransportClient<UtilityProcessProtocol> {
  /** onDidClose also fires when the child exits (see exitCode); whether dispose() makes it exit is up to it. */
  constructor(child: UtilityProcess, ctx: string, ipcLogger: IIPCLogger | null = null) {
    super(new UtilityProcessProtocol(child), ctx, ipcLogger);
  }
}

export { Client as MessagePortClient, Protocol as MessagePortProtocol } from './ipc.mp';
export { IpcMainAcceptor, type IpcMainAcceptorOptions } from './electron/IpcMainAcceptor';
export { DEFAULT_IPC_CHANNEL_NAMES, type IpcChannelNames } from './electron/names';
export {
  ElectronUnavailableError,
  EndpointInUseError,
  UnexpectedMessageError,
  UnknownSenderError,
} from './electron/errors';
export type {
  IpcMain,
  IpcMainEvent,
  MessageEventMain,
  MessagePortMain,
  UtilityProcess,
  WebContents,
  WebFrameMain,
} from './electron/types';
