import { AbstractChannel } from '../../channel/AbstractChannel';
import type { WriteBuffer } from '../../buffer/WriteBuffer';
import type { Event } from '../../common/event';
import { toDisposable } from '../../common/lifecycle';
import { exactBytes } from './bytes';
import type { IpcChannelNames } from './names';
import type { WebContents } from './types';

/** What the acceptor routes to one renderer's channel: its messages, or the end of the connection. */
export type RendererInbound =
  | { kind: 'message'; bytes: Uint8Array }
  | { kind: 'end'; reason: string }
  | { kind: 'broken'; error: Error };

/**
 * The main process's end of one renderer's connection over ipcMain. IpcMainAcceptor makes one per hello and routes
 * the renderer's messages to it by webContents.id; this channel sends through webContents.send and closes when
 * the renderer says goodbye, says hello again, or its WebContents is destroyed.
 */
export class WebContentsChannel extends AbstractChannel {
  /** The id the renderer's hello gave this connection, if it gave one (fdpipe's renderers do). */
  readonly connectionId: string | undefined;

  /** Made by IpcMainAcceptor, which feeds `inbound` with what it routes to this renderer. */
  constructor(
    readonly webContents: WebContents,
    inbound: Event<RendererInbound>,
    private readonly names: IpcChannelNames,
    hello: { connectionId?: string } = {},
  ) {
    super();
    this.connectionId = hello.connectionId;
    this.register(
      inbound((item) => {
        if (item.kind === 'message') this.fireMessage(item.bytes);
        else if (item.kind === 'end') this.fireClose({ kind: 'remote', reason: item.reason });
        else {
          // The renderer thinks it is connected: it is told, unlike after a goodbye or a new hello of its own.
          this.tellRenderer();
          this.fireClose({ kind: 'error', reason: item.error.message, error: item.error });
        }
      }),
    );
    // A renderer that crashes or whose window closes says no goodbye: this is how the main process hears of it.
    const onDestroyed = () => this.fireClose({ kind: 'remote', reason: `WebContents ${webContents.id} was destroyed` });
    webContents.once('destroyed', onDestroyed);
    this.register(toDisposable(() => webContents.removeListener('destroyed', onDestroyed)));
  }

  getWriteBuffer(): WriteBuffer {
    return this.messageBuffer(this.sendBytes);
  }

  private readonly sendBytes = (bytes: Uint8Array) => {
    try {
      this.webContents.send(this.names.message, exactBytes(bytes));
    } catch (error) {
      // Electron throws once the WebContents is destroyed, which may be before 'destroyed' is emitted. The message
      // is lost with the renderer, as bytes written to a dead peer's socket are; onClose says so.
      const cause = error instanceof Error ? error : new Error(String(error));
      this.fireClose({ kind: 'remote', reason: `the renderer is gone: ${cause.message}`, error: cause });
    }
  };

  protected doClose(): void {
    this.tellRenderer();
  }

  private tellRenderer(): void {
    if (this.webContents.isDestroyed()) return;
    try {
      // With the id the renderer's hello gave, so that a renderer which has reloaded and connected anew in the
      // meantime does not take this goodbye for its new connection.
      this.webContents.send(this.names.disconnect, this.connectionId);
    } catch {
      // Destroyed in the meantime: there is nobody to tell.
    }
  }
}
