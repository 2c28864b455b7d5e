/**
 * The Electron IPC channel names a renderer connection uses. The defaults are VS Code's, so a preload script or
 * a sender check that lets `vscode:` channels through (as VS Code's do) lets fdpipe through too.
 */
export interface IpcChannelNames {
  /**
   * Renderer to main, with a connection id (a string) or nothing: a new connection from this renderer,
   * replacing any it had.
   */
  hello: string;
  /** Either way, one Uint8Array: one message. */
  message: string;
  /** Either way, with the id the hello gave (if it gave one): this side closed that connection. */
  disconnect: string;
}

export const DEFAULT_IPC_CHANNEL_NAMES: Readonly<IpcChannelNames> = Object.freeze({
  hello: 'vscode:hello',
  message: 'vscode:message',
  disconnect: 'vscode:disconnect',
});

export function channelNames(names: Partial<IpcChannelNames> | undefined): IpcChannelNames {
  return { ...DEFAULT_IPC_CHANNEL_NAMES, ...names };
}
