import type { ChannelCloseEvent } from '../channel/Channel';

/** The connection closed while the call was pending, or before it could be sent. */
export class ConnectionClosedError extends Error {
  override name = 'ConnectionClosedError';
  constructor(
    readonly closeEvent: ChannelCloseEvent | undefined,
    what = 'The call',
  ) {
    super(`${what} failed because the connection closed${closeEvent ? `: ${closeEvent.reason}` : ''}`);
  }
}

/** The remote side has the service (or the low-level handler) but no callable method of that name. */
export class MethodNotFoundError extends Error {
  override name = 'MethodNotFoundError';
}

/** No service of that name was exposed on the remote side within the wait. */
export class ServiceNotFoundError extends Error {
  override name = 'ServiceNotFoundError';
  /** The services the remote side did expose, when it said (the message lists them too). */
  exposed?: string[];
}

/** The call took longer than its timeout; the remote work was cancelled. */
export class TimeoutError extends Error {
  override name = 'TimeoutError';
  constructor(
    readonly method: string,
    readonly timeout: number,
  ) {
    super(`The call to ${method} timed out after ${timeout} ms`);
  }
}

/** The call was cancelled through its AbortSignal. */
export class AbortError extends Error {
  override name = 'AbortError';
  constructor(method: string, reason?: unknown) {
    super(`The call to ${method} was aborted`, reason === undefined ? undefined : { cause: reason });
  }
}

/**
 * A reply larger than the caller accepts (its maxMessageSize, which it told this side): the reply was not sent,
 * the call fails with this on both sides, and the connection goes on.
 */
export class ReplyTooLargeError extends Error {
  override name = 'ReplyTooLargeError';
  constructor(
    readonly size: number,
    readonly maxMessageSize: number,
  ) {
    super(
      `The reply is ${size} bytes, over the caller's maxMessageSize of ${maxMessageSize} bytes: it was not sent and ` +
        'the call failed; the connection goes on. Return less (a page, or a stream), or raise maxMessageSize on ' +
        "the caller's channel",
    );
  }
}

/** A message that could not be understood; that message is dropped and the connection goes on. */
export class RpcProtocolError extends Error {
  override name = 'RpcProtocolError';
}

/**
 * A stream could not go on: it was read a second time, or the other side broke its rules (sent past the window the
 * consumer granted). The stream has ended on both sides.
 */
export class StreamError extends Error {
  override name = 'StreamError';
}

/** A second RpcProtocol was created on a channel that a live one is using. */
export class ChannelInUseError extends Error {
  override name = 'ChannelInUseError';
  constructor() {
    super(
      'This channel already has an RpcProtocol: two would both handle every message. Share that protocol ' +
        '(new RpcPeer(protocol), new Invoker(protocol), new Callee(protocol)), or dispose it before starting another',
    );
  }
}

/** Error classes of ours that keep their class when they come back from the other side. */
export const KNOWN_ERROR_CLASSES: Readonly<Record<string, { prototype: Error }>> = {
  ConnectionClosedError,
  MethodNotFoundError,
  ServiceNotFoundError,
  TimeoutError,
  AbortError,
  RpcProtocolError,
  StreamError,
  ReplyTooLargeError,
};
