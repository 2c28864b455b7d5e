import type { Channel } from '../channel/Channel';
import type { EndpointListener } from '../channel/MessageEndpointChannel';
import { ConnectionClosedError } from '../rpc/errors';
import { RpcProtocol } from '../rpc/RpcProtocol';
import { BaseCalleeChannel } from './BaseCalleeChannel';
import { BaseInvokerChannel } from './BaseInvokerChannel';

// Structural types, so that Node's own ChildProcess, process, Worker, parentPort and MessagePort — and the custom
// channels of event-invoke code — are accepted as they are under strict, with no cast.

/** The endpoint events the face listens to. */
export type EndpointEvent = 'message' | 'error' | 'disconnect' | 'exit' | 'close';

export interface EndpointEvents {
  on(event: EndpointEvent, listener: EndpointListener): unknown;
  removeListener(event: EndpointEvent, listener: EndpointListener): unknown;
}

/**
 * Node's IPC shape — a ChildProcess, or `process` in a forked child — and event-invoke's custom channels
 * (BaseInvokerChannel, BaseCalleeChannel). `send` is typed as Node's four-parameter form, which both ChildProcess
 * and process declare; a custom channel's `send(packet)` fits it too.
 */
export interface SendingPacketEndpoint extends EndpointEvents {
  send?(
    message: unknown,
    sendHandle?: undefined,
    options?: undefined,
    callback?: (error: Error | null) => void,
  ): unknown;
  readonly connected?: boolean;
  disconnect?(): void;
  destroy?(): void;
}

/** The postMessage shape: a worker_threads Worker, parentPort, or a MessagePort. */
export interface PostingPacketEndpoint extends EndpointEvents {
  postMessage(message: unknown): void;
}

/** Where the face speaks event-invoke's packets. */
export type PacketEndpoint = SendingPacketEndpoint | PostingPacketEndpoint;

/**
 * What an Invoker or a Callee runs over: a packet endpoint (event-invoke's message shape, so event-invoke
 * processes can be on the other side), or an fdpipe Channel or RpcProtocol (fdpipe's binary protocol).
 */
export type EventInvokeTarget = PacketEndpoint | Channel | RpcProtocol;

/**
 * Checks what JavaScript callers may pass: anything else would fail deep inside with a TypeError about a missing
 * property, where this one says what is wanted.
 */
export function assertTarget(target: unknown): asserts target is EventInvokeTarget {
  const ok =
    typeof target === 'object' &&
    target !== null &&
    (target instanceof RpcProtocol ||
      isChannel(target as EventInvokeTarget) ||
      (typeof (target as EndpointEvents).on === 'function' &&
        typeof (target as EndpointEvents).removeListener === 'function'));
  if (!ok) {
    throw new TypeError(
      `An Invoker or Callee runs over a ChildProcess, process, a Worker, parentPort, a MessagePort, a custom ` +
        `channel (an EventEmitter with send()), an fdpipe Channel or an RpcProtocol; got ${
          target === null ? 'null' : typeof target
        }`,
    );
  }
}

export function isChannel(target: EventInvokeTarget): target is Channel {
  const channel = target as Channel;
  return typeof channel.getWriteBuffer === 'function' && typeof channel.onMessage === 'function';
}

export function isPosting(endpoint: PacketEndpoint): endpoint is PostingPacketEndpoint {
  return typeof (endpoint as PostingPacketEndpoint).postMessage === 'function';
}

/** event-invoke's own channel classes, whose `send` takes the packet alone and which have no lifecycle events. */
export function isCustomChannel(endpoint: PacketEndpoint): boolean {
  return endpoint instanceof BaseInvokerChannel || endpoint instanceof BaseCalleeChannel;
}

/**
 * Whether calls can go out, by event-invoke's rule for what has `send` (its `connected` must be true: a custom
 * channel is connected by connect()); the postMessage shape has no such flag and counts as connected until it
 * closes.
 */
export function isConnected(target: EventInvokeTarget): boolean {
  if (target instanceof RpcProtocol) return !target.isDisposed;
  if (isChannel(target)) return !target.isClosed;
  if (isPosting(target)) return true;
  return Boolean(target.connected);
}

/** Codes of failures that only mean the other side went away: its close event tells that story already. */
const PEER_GONE_CODES = new Set(['EPIPE', 'ERR_IPC_CHANNEL_CLOSED', 'ERR_IPC_DISCONNECTED', 'ECONNRESET']);

export function isPeerGone(error: unknown): boolean {
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  return typeof code === 'string' && PEER_GONE_CODES.has(code);
}

/** How packets leave through `endpoint`; `onFailed` hears of sends that fail after they left. */
export function packetSender(endpoint: PacketEndpoint, onFailed: (error: Error) => void): (packet: object) => void {
  if (isPosting(endpoint)) return (packet) => endpoint.postMessage(packet);
  // A custom channel's send takes the packet alone, as event-invoke calls it.
  if (isCustomChannel(endpoint)) return (packet) => void endpoint.send!(packet);
  // Node's IPC: with a callback, a failed send comes back here instead of as an 'error' event that, unheard,
  // would crash the process. Node takes the callback second as well as fourth (its types declare only the
  // latter for process.send); second also suits an endpoint of the (message, callback) shape.
  const onSent = (error: Error | null) => {
    if (error) onFailed(error);
  };
  return (packet) => {
    const send = endpoint.send as ((message: unknown, callback: typeof onSent) => unknown) | undefined;
    if (typeof send !== 'function') {
      throw new ConnectionClosedError({ kind: 'local', reason: 'this process has no IPC channel' }, 'Sending');
    }
    send.call(endpoint, packet, onSent);
  };
}
