import type { Event } from '../../common/event';

/**
 * A named service on the serving side of a connection, in the VS Code shape: commands take one argument, and
 * each call knows the context of the client that made it.
 */
export interface IServerChannel<TContext = string> {
  call<T = unknown>(ctx: TContext, command: string, arg?: unknown, signal?: AbortSignal): Promise<T>;
  listen<T = unknown>(ctx: TContext, event: string, arg?: unknown): Event<T>;
}

/** The calling side's view of a named service. */
export interface IChannel {
  call<T = unknown>(command: string, arg?: unknown, signal?: AbortSignal): Promise<T>;
  listen<T = unknown>(event: string, arg?: unknown): Event<T>;
}
