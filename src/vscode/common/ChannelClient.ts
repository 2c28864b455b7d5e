import { ChannelClient as CoreChannelClient } from '../../rpc/channels/ChannelClient';
import { Emitter, type Event } from '../base/event';
import { dispose, type IDisposable } from '../base/lifecycle';
import { toFaceChannel, type ChannelLifetime } from './channelAdapters';
import { logCallsMade } from './ipcLogging';
import { MessagePassingLink } from './MessagePassingLink';
import type { IChannel, IChannelClient, IIPCLogger, IMessagePassingProtocol } from './types';
import { supportUsing } from '../../common/lifecycle';

/** Gives the channels the other side's ChannelServer registered. */
export class ChannelClient implements IChannelClient, IDisposable, ChannelLifetime {
  /** dispose(), for `using`. */
  declare readonly [Symbol.dispose]: () => void;
  private readonly link: MessagePassingLink;
  private readonly core: CoreChannelClient;
  private disposed = false;
  private readonly logging: IDisposable | undefined;
  readonly active = new Set<IDisposable>();
  private readonly initializeEmitter = new Emitter<void>();
  /** Fires when the other side's ChannelServer has said it is ready. */
  readonly onDidInitialize: Event<void> = this.initializeEmitter.event;

  constructor(protocol: IMessagePassingProtocol, logger: IIPCLogger | null = null) {
    this.link = MessagePassingLink.acquire(protocol);
    this.logging = logger ? logCallsMade(this.link.rpc, logger) : undefined;
    this.core = new CoreChannelClient(this.link.rpc);
    this.core.whenInitialized().then(
      () => this.initializeEmitter.fire(),
      () => {}, // closed first: nothing will initialize
    );
  }

  get isDisposed(): boolean {
    return this.disposed;
  }

  getChannel<T extends IChannel>(channelName: string): T {
    return toFaceChannel(this.core.getChannel(channelName), this) as T;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    // Pending calls reject with CancellationError and subscriptions end, as in VS Code.
    const active = [...this.active];
    this.active.clear();
    dispose(active);
    this.logging?.dispose();
    this.core.dispose();
    this.initializeEmitter.dispose();
    this.link.release();
  }
}

supportUsing(ChannelClient.prototype);
