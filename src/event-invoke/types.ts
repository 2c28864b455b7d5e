/** Anything that can be registered with a Callee or described in an Invoker's API map. */
export type CalleeFunction = (...args: never[]) => unknown;

/** What Callee.register() takes: a named function, an array of them, or an object whose values are such functions. */
export type Registrable = CalleeFunction | readonly CalleeFunction[] | { readonly [key: string]: CalleeFunction };

/**
 * The API map of an Invoker that was given none: any name, any arguments, an unknown result — as plain
 * event-invoke code calls.
 */
export type UntypedApi = Record<string, (...args: unknown[]) => unknown>;

/** The names in an API map that are functions. */
export type MethodName<API> = {
  [K in keyof API]: API[K] extends CalleeFunction ? K : never;
}[keyof API] &
  string;

type ParametersOf<F> = F extends (...args: infer P) => unknown ? P : never;

/**
 * What invoke() takes as `args` for a function with parameters P, by event-invoke's rule: the arguments as an
 * array, or a single argument bare — unless it is an array itself, which would be spread, so it goes wrapped.
 */
export type InvokeArgs<P extends readonly unknown[]> = unknown[] extends P
  ? unknown
  : P extends readonly []
    ? undefined | readonly []
    : P extends readonly [infer Only]
      ? Only extends readonly unknown[]
        ? readonly [Only]
        : Only | readonly [Only]
      : [] extends P
        ? Readonly<P> | undefined
        : Readonly<P>;

/** invoke()'s parameters after the name: `args` may be left out when the function needs none. */
export type InvokeRest<F> =
  undefined extends InvokeArgs<ParametersOf<F>>
    ? [args?: InvokeArgs<ParametersOf<F>>, options?: InvokeOptions]
    : [args: InvokeArgs<ParametersOf<F>>, options?: InvokeOptions];

/** What invoke() resolves with: the function's result, awaited. */
export type InvokeResult<F> = F extends (...args: never[]) => infer R ? Awaited<R> : never;

export interface InvokeOptions {
  /**
   * Milliseconds before the call rejects with a TimeoutError (`method "NAME" timeout`). 0 or less: none.
   * Default, for an Invoker created without options: 3000.
   */
  timeout?: number;
  /** Aborting it rejects the call with the signal's reason (as fetch() does) and tells an fdpipe callee to stop the work. */
  signal?: AbortSignal;
}

export interface CalleeOptions {
  /**
   * Called with what goes wrong outside any one call: the channel's 'error' events, failed sends, packets that
   * could not be understood. Without it, EPIPE and ERR_IPC_CHANNEL_CLOSED (the other side went away) are
   * ignored and anything else becomes a process warning.
   */
  onError?(error: Error): void;
}
