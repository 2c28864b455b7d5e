export type {
  WebContents,
  WebFrameMain,
  IpcMain,
  IpcMainEvent,
  IpcMainListener,
  IpcRenderer,
  IpcRendererEvent,
  IpcRendererListener,
  MessageEventMain,
  MessagePortMain,
  UtilityProcess,
  ParentPort,
} from './types';
export { ElectronUnavailableError, UnknownSenderError, UnexpectedMessageError, EndpointInUseError } from './errors';
export { DEFAULT_IPC_CHANNEL_NAMES, type IpcChannelNames } from './names';
export { IpcMainAcceptor, type IpcMainAcceptorOptions } from './IpcMainAcceptor';
export { WebContentsChannel, type RendererInbound } from './WebContentsChannel';
export { IpcRendererChannel, type IpcRendererChannelOptions } from './IpcRendererChannel';
export { MessagePortMainChannel } from './MessagePortMainChannel';
export { UtilityProcessChannel } from './UtilityProcessChannel';
export { ParentPortChannel, currentParentPort } from './ParentPortChannel';
