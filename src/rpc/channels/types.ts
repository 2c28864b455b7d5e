import type { Event } from '../../common/event';

/**
 * A named service on the serving side of a connection, in the VS Code shape: commands take one argument, and
 * each call knows the context of the client that made it.
 */
export interface IServerChannel<TContext = string> {
  // Not generic, unlike the calling side: what a server returns goes to the codec, which takes anything, so an
  // implementation may declare its own result and event types (a generic `call<T>` still fits too).
  call(ctx: TContext, command: string, arg?: unknown, signal?: AbortSignal): Promise<unknown>;
  listen(ctx: TContext, event: string, arg?: unknown): Event<unknown>;
}

/** The calling side's view of a named service. */
export interface IChannel {
  call<T = unknown>(command: string, arg?: unknown, signal?: AbortSignal): Promise<T>;
  listen<T = unknown>(event: string, arg?: unknown): Event<T>;
}
