import type { Disposable } from '../common/lifecycle';
import { ValueCodec } from '../rpc/codec';
import { currentCallSignal } from '../rpc/protocol/cancellation';
import { RpcProtocol } from '../rpc/RpcProtocol';
import { assertTarget, isChannel, type EventInvokeTarget } from './endpoints';
import { unregisteredFunctionError } from './errors';
import { PacketChannel } from './PacketChannel';
import type { CalleeFunction } from './types';

/** Where served calls find their function: a listening Callee. */
export interface FunctionSource {
  lookup(name: string): CalleeFunction | undefined;
}

/**
 * Every Invoker and Callee on one target share one RpcProtocol — a channel has one at a time — started by the
 * first of them and ended by the last. Over a packet endpoint the connection also owns the PacketChannel made for
 * it, and closing that takes its listeners off the endpoint (a `process.on('message')` listener would otherwise
 * keep a child alive). A protocol passed in is used as it is and never ended here.
 */
interface Connection {
  readonly protocol: RpcProtocol;
  readonly packets: PacketChannel | undefined;
  readonly ownsProtocol: boolean;
  users: number;
  /** Listening Callees, in the order they listened: the first that has a function serves it. */
  readonly sources: FunctionSource[];
  handler: Disposable | undefined;
}

const connections = new WeakMap<object, Connection>();

export interface Lease {
  readonly protocol: RpcProtocol;
  /** Set over a packet endpoint. */
  readonly packets: PacketChannel | undefined;
  /** Serves calls from `source`'s functions until the returned Disposable is disposed. */
  serve(source: FunctionSource): Disposable;
  release(): void;
}

export function lease(target: EventInvokeTarget): Lease {
  assertTarget(target);
  let connection = connections.get(target);
  if (!connection || (connection.ownsProtocol && connection.protocol.isDisposed)) {
    connection = open(target);
    connections.set(target, connection);
  }
  const mine = connection;
  mine.users++;
  let released = false;
  return {
    protocol: mine.protocol,
    packets: mine.packets,
    serve: (source) => serve(mine, source),
    release() {
      if (released) return;
      released = true;
      if (--mine.users > 0) return;
      if (connections.get(target) === mine) connections.delete(target);
      if (!mine.ownsProtocol) return;
      mine.protocol.dispose();
      mine.packets?.close();
    },
  };
}

function open(target: EventInvokeTarget): Connection {
  const common = { users: 0, sources: [], handler: undefined };
  if (target instanceof RpcProtocol) return { protocol: target, packets: undefined, ownsProtocol: false, ...common };
  if (isChannel(target)) {
    return { protocol: new RpcProtocol(target), packets: undefined, ownsProtocol: true, ...common };
  }
  // The channel translates with the protocol's own codec, so a value decoded at its edge is the one encoded.
  const codec = new ValueCodec();
  const packets = new PacketChannel(target, codec);
  return { protocol: new RpcProtocol(packets, { codec }), packets, ownsProtocol: true, ...common };
}

function serve(connection: Connection, source: FunctionSource): Disposable {
  const sources = connection.sources;
  if (!connection.handler) {
    connection.handler = connection.protocol.setRequestHandler((method, args) => call(sources, method, args));
  }
  sources.push(source);
  if (connection.packets) connection.packets.serving = true;
  let served = true;
  return {
    dispose() {
      if (!served) return;
      served = false;
      sources.splice(sources.indexOf(source), 1);
      if (sources.length > 0) return;
      connection.handler?.dispose();
      connection.handler = undefined;
      if (connection.packets) connection.packets.serving = false;
    },
  };
}

function call(sources: readonly FunctionSource[], method: string, args: unknown[]): unknown {
  // A caller that passed an AbortSignal has a live one appended by the core; event-invoke functions take exactly
  // the arguments sent, so it is taken off again. The function reaches it with currentCallSignal().
  const signal = currentCallSignal();
  const own = signal !== undefined && args[args.length - 1] === signal ? args.slice(0, -1) : args;
  for (const source of sources) {
    const fn = source.lookup(method) as ((...a: unknown[]) => unknown) | undefined;
    if (fn) return fn(...own);
  }
  throw unregisteredFunctionError(method);
}
