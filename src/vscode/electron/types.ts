// Electron's objects as fdpipe uses them, typed by shape so that fdpipe never imports (or depends on) Electron.
// Each interface names only what fdpipe calls, with Electron's signatures, so the real objects fit them. Methods
// (not function-typed properties) keep their parameters bivariant, as Electron's own overloads need.

/** A renderer's contents in the main process: where its messages come from and go to. */
export interface WebContents {
  /** Unique among live WebContents; the same across reloads of one window. */
  readonly id: number;
  send(channel: string, ...args: unknown[]): void;
  isDestroyed(): boolean;
  once(event: 'destroyed', listener: () => void): unknown;
  removeListener(event: 'destroyed', listener: () => void): unknown;
}

/** The frame a message came from; only for a caller's own checks (see IpcMainAcceptorOptions.acceptSender). */
export interface WebFrameMain {
  readonly url: string;
  readonly parent: WebFrameMain | null;
}

export interface IpcMainEvent {
  readonly sender: WebContents;
  readonly senderFrame?: WebFrameMain | null;
}

export type IpcMainListener = (event: IpcMainEvent, ...args: unknown[]) => void;

export interface IpcMain {
  on(channel: string, listener: IpcMainListener): unknown;
  removeListener(channel: string, listener: IpcMainListener): unknown;
}

/** What a renderer's listener gets first; fdpipe reads nothing from it. */
export type IpcRendererEvent = unknown;

export type IpcRendererListener = (event: IpcRendererEvent, ...args: unknown[]) => void;

/** `ipcRenderer`, or the subset of it a preload script exposes (as VS Code's does: send, on, removeListener). */
export interface IpcRenderer {
  send(channel: string, ...args: unknown[]): void;
  on(channel: string, listener: IpcRendererListener): unknown;
  removeListener(channel: string, listener: IpcRendererListener): unknown;
}

/** What a MessagePortMain's and parentPort's 'message' listeners get. */
export interface MessageEventMain {
  readonly data: unknown;
  readonly ports: readonly MessagePortMain[];
}

/** The main process's MessagePort (an end of a MessageChannelMain): an EventEmitter, silent until start(). */
export interface MessagePortMain {
  postMessage(message: unknown, transfer?: MessagePortMain[]): void;
  start(): void;
  close(): void;
  on(event: 'message', listener: (event: MessageEventMain) => void): unknown;
  on(event: 'close', listener: () => void): unknown;
  removeListener(event: 'message', listener: (event: MessageEventMain) => void): unknown;
  removeListener(event: 'close', listener: () => void): unknown;
}

/**
 * A web MessagePort: a renderer's, or one of Node's global MessageChannel. Its listeners get an event whose `data`
 * is the message; 'close' is fired where the platform has it.
 */
export interface DomMessagePort {
  postMessage(message: unknown): void;
  start(): void;
  close(): void;
  addEventListener(type: 'message' | 'close', listener: (event: Event) => void): void;
  removeEventListener(type: 'message' | 'close', listener: (event: Event) => void): void;
}

/** A child made by utilityProcess.fork, seen from the main process. It has no fd 4: messages are all it has. */
export interface UtilityProcess {
  readonly pid: number | undefined;
  postMessage(message: unknown, transfer?: MessagePortMain[]): void;
  kill(): boolean;
  /** Unlike a port's, the listener gets the message itself, not a { data, ports } event. */
  on(event: 'message', listener: (message: unknown) => void): unknown;
  on(event: 'exit', listener: (code: number) => void): unknown;
  removeListener(event: 'message', listener: (message: unknown) => void): unknown;
  removeListener(event: 'exit', listener: (code: number) => void): unknown;
}

/** `process.parentPort` in a utility process: messages to and from the main process. */
export interface ParentPort {
  postMessage(message: unknown): void;
  on(event: 'message', listener: (event: MessageEventMain) => void): unknown;
  removeListener(event: 'message', listener: (event: MessageEventMain) => void): unknown;
}
