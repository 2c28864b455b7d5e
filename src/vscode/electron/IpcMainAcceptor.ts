import { Emitter, type Event } from '../../common/event';
import { DisposableStore, toDisposable, type Disposable, supportUsing } from '../../common/lifecycle';
import { reportTo, warnUnhandled } from '../../common/warn';
import { describeValue, receivedBytes } from './bytes';
import { claimEndpoint } from './claims';
import { UnexpectedMessageError, UnknownSenderError } from './errors';
import { channelNames, type IpcChannelNames } from './names';
import type { IpcMain, IpcMainEvent, IpcMainListener, WebContents } from './types';
import { WebContentsChannel, type RendererInbound } from './WebContentsChannel';

export interface IpcMainAcceptorOptions {
  /** The Electron channel names; default VS Code's (`vscode:hello`, `vscode:message`, `vscode:disconnect`). */
  names?: Partial<IpcChannelNames>;
  /**
   * Asked about every hello, message and goodbye before it is used; false drops it (reported as
   * UnknownSenderError). Electron's security advice is to accept IPC only from frames you loaded: check
   * `event.senderFrame` here (its url, and that it is a main frame). Default: every sender is accepted.
   */
  acceptSender?: (event: IpcMainEvent) => boolean;
}

interface Live {
  channel: WebContentsChannel;
  inbound: Emitter<RendererInbound>;
}

/**
 * Accepts renderer connections over ipcMain: a hello from a WebContents opens a channel for it (a second hello
 * from the same WebContents, as after a reload, replaces the first), and its messages are routed to that channel
 * by webContents.id. Messages from a WebContents without a connection are dropped and reported on onError. One
 * acceptor per ipcMain and set of channel names; it owns its listeners on ipcMain and every channel it opened.
 */
export class IpcMainAcceptor implements Disposable {
  /** dispose(), for `using`. */
  declare readonly [Symbol.dispose]: () => void;
  private readonly live = new Map<number, Live>();
  private readonly store = new DisposableStore();
  private readonly names: IpcChannelNames;
  private readonly connectEmitter = this.store.add(
    new Emitter<WebContentsChannel>({ onListenerError: (error) => this.report(error) }),
  );
  private readonly errorEmitter = this.store.add(new Emitter<Error>({ onListenerError: warnUnhandled }));
  private disposed = false;

  /** A renderer connected (or reconnected): the channel is new, and whoever takes it owns it from here. */
  readonly onDidConnect: Event<WebContentsChannel> = this.connectEmitter.event;
  /** Dropped messages and other trouble that belongs to no connection. Unheard, they become process warnings. */
  readonly onError: Event<Error> = this.errorEmitter.event;

  constructor(
    ipcMain: IpcMain,
    private readonly options: IpcMainAcceptorOptions = {},
  ) {
    this.names = channelNames(options.names);
    try {
      for (const name of new Set(Object.values(this.names))) {
        this.store.add(claimEndpoint(ipcMain, name, 'This ipcMain'));
      }
    } catch (error) {
      this.store.dispose(); // the names claimed before the one that was taken
      throw error;
    }
    this.listen(ipcMain, this.names.hello, (event, connectionId) => this.hello(event, connectionId));
    this.listen(ipcMain, this.names.message, (event, data) => this.message(event, data));
    this.listen(ipcMain, this.names.disconnect, (event, connectionId) => this.goodbye(event, connectionId));
  }

  /** The open connections, one per WebContents. */
  get channels(): readonly WebContentsChannel[] {
    return [...this.live.values()].map((live) => live.channel);
  }

  /** Stops listening on ipcMain and closes every connection (each renderer is told). */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const { channel } of [...this.live.values()]) channel.close();
    this.store.dispose();
  }

  private listen(ipcMain: IpcMain, name: string, handle: (event: IpcMainEvent, ...args: unknown[]) => void): void {
    // Whatever goes wrong stays here: an exception out of an ipcMain listener would be the main process's uncaught one.
    const listener: IpcMainListener = (event, ...args) => {
      try {
        handle(event, ...args);
      } catch (error) {
        this.report(error instanceof Error ? error : new Error(String(error)));
      }
    };
    ipcMain.on(name, listener);
    this.store.add(toDisposable(() => ipcMain.removeListener(name, listener)));
  }

  /** The sender, if it is a WebContents this acceptor takes messages from. */
  private senderOf(event: IpcMainEvent, name: string): WebContents | undefined {
    const sender: WebContents | undefined = event?.sender;
    const id = typeof sender?.id === 'number' ? sender.id : undefined;
    if (id === undefined || (this.options.acceptSender && !this.options.acceptSender(event))) {
      this.report(new UnknownSenderError(name, id));
      return undefined;
    }
    return sender;
  }

  private hello(event: IpcMainEvent, connectionId: unknown): void {
    const sender = this.senderOf(event, this.names.hello);
    if (!sender) return;
    const id = sender.id;
    const reason = `WebContents ${id} said hello again (a reload or a new client): replaced`;
    this.live.get(id)?.inbound.fire({ kind: 'end', reason });
    const inbound = new Emitter<RendererInbound>({ onListenerError: (error) => this.report(error) });
    const channel = new WebContentsChannel(sender, inbound.event, this.names, {
      connectionId: typeof connectionId === 'string' ? connectionId : undefined,
    });
    const live: Live = { channel, inbound };
    this.live.set(id, live);
    channel.onClose(() => {
      if (this.live.get(id) === live) this.live.delete(id);
      inbound.dispose();
    });
    if (sender.isDestroyed()) {
      inbound.fire({ kind: 'end', reason: `WebContents ${id} was destroyed` });
      return;
    }
    this.connectEmitter.fire(channel);
  }

  private message(event: IpcMainEvent, data: unknown): void {
    const live = this.connectionOf(event, this.names.message);
    if (!live) return;
    const bytes = receivedBytes(data);
    if (bytes) {
      live.inbound.fire({ kind: 'message', bytes });
    } else {
      const error = new UnexpectedMessageError(
        `WebContents ${live.channel.webContents.id} sent a ${describeValue(data)} on '${this.names.message}', ` +
          'where only a Uint8Array may come: closing its connection',
      );
      live.inbound.fire({ kind: 'broken', error });
    }
  }

  private goodbye(event: IpcMainEvent, connectionId: unknown): void {
    const sender = this.senderOf(event, this.names.disconnect);
    // A goodbye from a renderer already gone (destroyed, replaced), or from a connection it had before this one,
    // has nothing left to close.
    const live = sender && this.live.get(sender.id);
    if (!live || (typeof connectionId === 'string' && connectionId !== live.channel.connectionId)) return;
    live.inbound.fire({ kind: 'end', reason: `WebContents ${sender!.id} closed the connection` });
  }

  private connectionOf(event: IpcMainEvent, name: string): Live | undefined {
    const sender = this.senderOf(event, name);
    if (!sender) return undefined;
    const live = this.live.get(sender.id);
    if (!live) this.report(new UnknownSenderError(name, sender.id));
    return live;
  }

  private report(error: unknown): void {
    reportTo(this.errorEmitter, error instanceof Error ? error : new Error(String(error)));
  }
}

supportUsing(IpcMainAcceptor.prototype);
