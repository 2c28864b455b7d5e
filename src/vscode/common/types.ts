import type { VSBuffer } from '../base/buffer';
import type { CancellationToken } from '../base/cancellation';
import type { Event } from '../base/event';
import type { ChannelClient } from './ChannelClient';
import type { ChannelServer } from './ChannelServer';

// VS Code's signatures use `any` for arguments and results; here they are `unknown`. The calling side keeps its
// generic results (`call<T>`), so callers pick their type as in VS Code.

/** The calling side's view of a named service: commands take at most one argument. */
export interface IChannel {
  call<T>(command: string, arg?: unknown, cancellationToken?: CancellationToken): Promise<T>;
  listen<T>(event: string, arg?: unknown): Event<T>;
}

/**
 * A named service on the serving side; each call knows the context of the client that made it. Not generic,
 * unlike VS Code's: without `any`, a generic `call<T>` could only be implemented with casts, while this shape
 * takes VS Code's implementations (`Promise<any>`, or a generic `call<T>`) and typed ones (`Promise<unknown>`,
 * `Event<string>`) alike.
 */
export interface IServerChannel<TContext = string> {
  call(ctx: TContext, command: string, arg?: unknown, cancellationToken?: CancellationToken): Promise<unknown>;
  listen(ctx: TContext, event: string, arg?: unknown): Event<unknown>;
}

/** A way to send whole messages and hear the other side's: what VS Code's IPC runs on. */
export interface IMessagePassingProtocol {
  send(buffer: VSBuffer): void;
  readonly onMessage: Event<VSBuffer>;
  /** Waits for the write buffer (if any) to empty. */
  drain?(): Promise<void>;
}

export interface IChannelServer<TContext = string> {
  registerChannel(channelName: string, channel: IServerChannel<TContext>): void;
}

export interface IChannelClient {
  getChannel<T extends IChannel>(channelName: string): T;
}

/** What a router or a client filter sees of a connected client. */
export interface Client<TContext> {
  readonly ctx: TContext;
}

export interface IConnectionHub<TContext> {
  readonly connections: Connection<TContext>[];
  readonly onDidAddConnection: Event<Connection<TContext>>;
  readonly onDidRemoveConnection: Event<Connection<TContext>>;
}

/** Picks the client a call or an event subscription goes to. */
export interface IClientRouter<TContext = string> {
  routeCall(
    hub: IConnectionHub<TContext>,
    command: string,
    arg?: unknown,
    cancellationToken?: CancellationToken,
  ): Promise<Client<TContext>>;
  routeEvent(hub: IConnectionHub<TContext>, event: string, arg?: unknown): Promise<Client<TContext>>;
}

export interface IRoutingChannelClient<TContext = string> {
  getChannel<T extends IChannel>(channelName: string, router?: IClientRouter<TContext>): T;
}

/** A client connecting to an IPCServer: its protocol, and when it goes away. */
export interface ClientConnectionEvent {
  protocol: IMessagePassingProtocol;
  readonly onDidClientDisconnect: Event<void>;
}

/** One connected client, as an IPCServer holds it. */
export interface Connection<TContext> extends Client<TContext> {
  readonly channelServer: ChannelServer<TContext>;
  readonly channelClient: ChannelClient;
}

export enum RequestInitiator {
  LocalSide = 0,
  OtherSide = 1,
}

/**
 * Told about each call's messages, as VS Code's is: a ChannelClient's logger hears the requests it sends
 * (`logOutgoing`, LocalSide, `req: channel.command`, the argument) and their replies (`logIncoming`, LocalSide,
 * `reply:` or `replyErr:`, the result or error); a ChannelServer's hears the requests it serves (`logIncoming`,
 * OtherSide) and the replies it sends (`logOutgoing`, OtherSide). `msgLength` is the message's size in bytes on
 * fdpipe's wire. Event subscriptions, event fires, cancels and the initialize message are not logged.
 */
export interface IIPCLogger {
  logIncoming(msgLength: number, requestId: number, initiator: RequestInitiator, str: string, data?: unknown): void;
  logOutgoing(msgLength: number, requestId: number, initiator: RequestInitiator, str: string, data?: unknown): void;
}
