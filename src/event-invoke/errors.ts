import type { ChannelCloseEvent } from '../channel/Channel';
import { ConnectionClosedError, MethodNotFoundError, TimeoutError } from '../rpc/errors';
import { STATUS_NOT_FOUND } from './packets';

// Each message starts with event-invoke's own text for the same failure, so code that matches on those texts keeps
// working; what follows is ours. Where a failure is one the RPC core already has a class for, it is that class.

/** invoke() was given something other than a non-empty string as the name. */
export class InvalidMethodNameError extends TypeError {
  override name = 'InvalidMethodNameError';
  constructor(name: unknown) {
    super(`bad method name to invoke: expected a non-empty string, got ${describe(name)}`);
  }
}

/** invoke() on a channel that is not connected (never connected, disconnected, or the Invoker was destroyed). */
export class ChannelNotConnectedError extends ConnectionClosedError {
  override name = 'ChannelNotConnectedError';
  constructor(why: string, closeEvent?: ChannelCloseEvent) {
    super(closeEvent);
    this.message = `channel is not connected: ${why}`;
  }
}

/** A call still waiting when its Invoker was destroyed. */
export class InvokerDestroyedError extends ConnectionClosedError {
  override name = 'InvokerDestroyedError';
  constructor(method: string) {
    super({ kind: 'local', reason: 'the Invoker was destroyed' });
    this.message = `rejected by destroy(): the Invoker was destroyed while "${method}" was pending`;
  }
}

/** register() was given something that is neither a named function, an array of them, nor an object of them. */
export class RegisterError extends TypeError {
  override name = 'RegisterError';
  constructor(value: unknown, why: string) {
    super(`cannot register "${typeof value}": ${why}`);
  }
}

/** listen() was called a second time on the same Callee. */
export class AlreadyListenedError extends Error {
  override name = 'AlreadyListenedError';
  constructor() {
    super('already listened: listen() may be called once per Callee');
  }
}

/** The call took longer than its timeout: a TimeoutError with event-invoke's text first. */
export function invokeTimeoutError(method: string, timeout: number): TimeoutError {
  const error = new TimeoutError(method, timeout);
  error.message = `method "${method}" timeout: no reply within ${timeout} ms`;
  return error;
}

/** No function of that name is registered with the Callee: a MethodNotFoundError with event-invoke's text. */
export function unregisteredFunctionError(name: unknown): MethodNotFoundError {
  return new MethodNotFoundError(`unregistered function: "${String(name)}"`);
}

/**
 * What a failure reply from an event-invoke callee stands for: it carries only a message (and, with status 2, that
 * the function is missing). No stack of its own, which would only point here, mistaken for the callee's.
 */
export function payloadFailure(status: number, payload: unknown): Error {
  const message = payload === undefined ? '' : String(payload);
  const error = status === STATUS_NOT_FOUND ? new MethodNotFoundError(message) : new Error(message);
  error.stack = `${error.name}: ${message}`;
  return error;
}

function describe(value: unknown): string {
  if (typeof value === 'string') return 'an empty string';
  return value === null ? 'null' : typeof value;
}
