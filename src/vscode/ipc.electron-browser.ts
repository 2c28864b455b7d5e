// fdpipe/vscode/ipc.electron-browser: VS Code's electron-browser (and electron-sandbox) ipc.electron.ts — a
// renderer's IPCClient to the main process's Server, over ipcRenderer.
import { ChannelProtocol } from './common/ChannelProtocol';
import type { IIPCLogger } from './common/types';
import { TransportClient } from './electron/TransportClient';
import { electronIpcRenderer } from './electron/electronModule';
import { IpcRendererChannel, type IpcRendererChannelOptions } from './electron/IpcRendererChannel';
import type { IpcRenderer } from './electron/types';

export interface ClientOptions extends IpcRendererChannelOptions {
  ipcLogger?: IIPCLogger | null;
}

/**
 * A renderer's IPCClient to the main process's Server. It says hello on creation and goodbye on dispose. With
 * Node integration, ipcRenderer is require('electron')'s; in a sandboxed renderer pass the one your preload
 * script exposes (send, on and removeListener for the `vscode:` channels are all it needs).
 */
export class Client extends TransportClient {
  constructor(id: string, ipcRenderer: IpcRenderer = electronIpcRenderer(), options: ClientOptions = {}) {
    super(new ChannelProtocol(new IpcRendererChannel(ipcRenderer, options)), id, options.ipcLogger ?? null);
  }
}

export { DEFAULT_IPC_CHANNEL_NAMES, type IpcChannelNames } from './electron/names';
export { ElectronUnavailableError, EndpointInUseError, UnexpectedMessageError } from './electron/errors';
export type { IpcRenderer, IpcRendererEvent } from './electron/types';
