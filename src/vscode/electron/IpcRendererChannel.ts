import { AbstractChannel } from '../../channel/AbstractChannel';
import type { WriteBuffer } from '../../buffer/WriteBuffer';
import { toDisposable } from '../../common/lifecycle';
import { describeValue, exactBytes, receivedBytes } from './bytes';
import { claimEndpoint } from './claims';
import { UnexpectedMessageError } from './errors';
import { channelNames, type IpcChannelNames } from './names';
import type { IpcRenderer, IpcRendererListener } from './types';

export interface IpcRendererChannelOptions {
  /** The Electron channel names; they must match the main process's IpcMainAcceptor. Default VS Code's. */
  names?: Partial<IpcChannelNames>;
}

let connectionCount = 0;

/** Tells this renderer's connections apart across reloads; not a secret. */
function newConnectionId(): string {
  return `${Date.now().toString(36)}.${Math.random().toString(36).slice(2)}.${++connectionCount}`;
}

/**
 * A renderer's connection to the main process over ipcRenderer: it says hello on creation (the main process's
 * IpcMainAcceptor opens the other end), and goodbye on close. One at a time per ipcRenderer and channel names:
 * both would receive every message from the main process.
 */
export class IpcRendererChannel extends AbstractChannel {
  private readonly names: IpcChannelNames;
  private readonly connectionId = newConnectionId();

  constructor(
    private readonly ipcRenderer: IpcRenderer,
    options: IpcRendererChannelOptions = {},
  ) {
    super();
    this.names = channelNames(options.names);
    this.register(claimEndpoint(ipcRenderer, this.names.message, 'This ipcRenderer'));
    const onMessage: IpcRendererListener = (_event, data) => {
      const bytes = receivedBytes(data);
      if (bytes) {
        this.fireMessage(bytes);
        return;
      }
      const error = new UnexpectedMessageError(
        `The main process sent a ${describeValue(data)} on '${this.names.message}', where only a Uint8Array may come`,
      );
      this.goodbye();
      this.fireClose({ kind: 'error', reason: error.message, error });
    };
    const onDisconnect: IpcRendererListener = (_event, connectionId) => {
      // A goodbye meant for a connection this renderer had before does not end this one.
      if (connectionId !== undefined && connectionId !== this.connectionId) return;
      this.fireClose({ kind: 'remote', reason: 'the main process closed the connection' });
    };
    ipcRenderer.on(this.names.message, onMessage);
    ipcRenderer.on(this.names.disconnect, onDisconnect);
    this.register(
      toDisposable(() => {
        ipcRenderer.removeListener(this.names.message, onMessage);
        ipcRenderer.removeListener(this.names.disconnect, onDisconnect);
      }),
    );
    try {
      ipcRenderer.send(this.names.hello, this.connectionId);
    } catch (error) {
      // A preload script that refuses the channel name throws here. The constructor throws with it, so nobody will
      // ever close this channel: its claim and listeners go now, or the endpoint would stay taken for good.
      const cause = error instanceof Error ? error : new Error(String(error));
      this.fireClose({ kind: 'error', reason: `saying hello failed: ${cause.message}`, error: cause });
      throw error;
    }
  }

  getWriteBuffer(): WriteBuffer {
    return this.messageBuffer(this.sendBytes);
  }

  private readonly sendBytes = (bytes: Uint8Array) => {
    this.ipcRenderer.send(this.names.message, exactBytes(bytes));
  };

  protected doClose(): void {
    this.goodbye();
  }

  private goodbye(): void {
    try {
      this.ipcRenderer.send(this.names.disconnect, this.connectionId);
    } catch {
      // The renderer is going down; the main process hears of it through 'destroyed'.
    }
  }
}
