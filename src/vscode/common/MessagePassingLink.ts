import { Emitter as CoreEmitter, type Event as CoreEvent } from '../../common/event';
import { reportTo } from '../../common/warn';
import { RpcProtocol } from '../../rpc/RpcProtocol';
import type { Event } from '../base/event';
import { createFaceCodec } from './codec';
import { ProtocolChannel } from './ProtocolChannel';
import type { IMessagePassingProtocol } from './types';

export interface LinkOptions {
  onDidDisconnect?: Event<void>;
  /** How long a call for a channel not registered yet waits for it, in ms (VS Code's timeoutDelay). */
  timeoutDelay?: number;
  /** Where errors go from the start, even those of the messages a protocol replays while the link is made. */
  onError?: (error: Error) => void;
  /** A server's bound on what a client that never reads makes it hold (RpcProtocolOptions.maxUnsentBytes). */
  maxUnsentBytes?: number;
}

/**
 * The one RpcProtocol of an IMessagePassingProtocol. VS Code lets a ChannelServer and a ChannelClient each take
 * the same protocol; fdpipe runs one RPC core per channel, so both share this link, and the last to let go of
 * it disposes it (which tells the other side, whose pending calls then reject).
 */
export class MessagePassingLink {
  private static readonly links = new WeakMap<IMessagePassingProtocol, MessagePassingLink>();

  readonly channel: ProtocolChannel;
  private rpcProtocol: RpcProtocol | undefined;
  private users = 0;
  private readonly errorEmitter = new CoreEmitter<Error>();
  /** Malformed messages and transport errors on this link; without a listener they become process warnings. */
  readonly onError: CoreEvent<Error> = this.errorEmitter.event;

  /** The link of `protocol`, made on first use; each acquire() needs one release(). */
  static acquire(protocol: IMessagePassingProtocol, options: LinkOptions = {}): MessagePassingLink {
    let link = MessagePassingLink.links.get(protocol);
    if (!link || link.channel.isClosed) {
      link = new MessagePassingLink(protocol, options);
      MessagePassingLink.links.set(protocol, link);
    }
    link.users++;
    return link;
  }

  /** A server's link: its channel hands the client's context to `onContext` before any RPC message. */
  static forServerConnection(
    protocol: IMessagePassingProtocol,
    options: LinkOptions & { onDidDisconnect: Event<void> },
    onContext: (link: MessagePassingLink, ctx: unknown) => void,
  ): MessagePassingLink {
    let made: MessagePassingLink | undefined;
    let early: { ctx: unknown } | undefined;
    // A protocol that replays buffered messages can deliver the context while the link is being made; it waits
    // until the link can be found by the channel servers and clients that the context brings.
    const link = new MessagePassingLink(protocol, options, (ctx) => (made ? onContext(made, ctx) : (early = { ctx })));
    made = link;
    MessagePassingLink.links.set(protocol, link);
    if (early && !link.channel.isClosed) onContext(link, early.ctx);
    return link;
  }

  private constructor(
    protocol: IMessagePassingProtocol,
    private readonly options: LinkOptions,
    onContext?: (ctx: unknown) => void,
  ) {
    this.channel = new ProtocolChannel(protocol, {
      onDidDisconnect: options.onDidDisconnect,
      onContext,
      onError: (error) => this.reportError(error),
    });
  }

  /** The link's RPC core, started on first use so that a server reads the context before it. */
  get rpc(): RpcProtocol {
    if (!this.rpcProtocol) {
      this.rpcProtocol = new RpcProtocol(this.channel, {
        codec: createFaceCodec(),
        serviceWaitTimeout: this.options.timeoutDelay,
        maxUnsentBytes: this.options.maxUnsentBytes,
      });
      this.rpcProtocol.onError((error) => this.reportError(error));
    }
    return this.rpcProtocol;
  }

  retain(): this {
    this.users++;
    return this;
  }

  release(): void {
    if (--this.users > 0) return;
    this.close();
  }

  /** Ends the link now, whoever still uses it. */
  close(): void {
    this.users = 0;
    this.rpcProtocol?.dispose();
    this.channel.close();
    this.errorEmitter.dispose();
  }

  private reportError(error: Error): void {
    if (this.options.onError) this.options.onError(error);
    else reportTo(this.errorEmitter, error);
  }
}
