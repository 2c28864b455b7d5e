import { RpcProtocolError } from '../rpc/errors';

// event-invoke's message shape, and the fields fdpipe adds to it.
//
// A call, invoker to callee:      { _seq, name, args, _from: 'invoker' }
// Its outcome, callee to invoker: { _seq, _status, name, payload, _from: 'callee' }
//   _status 0: resolved with payload; 1: the function threw, payload is the error's message; 2: no function of that
//   name, payload is `unregistered function: "NAME"`.
// Each side skips packets marked with its own role, so a side that hears its own messages on a shared bus
// ignores them. An invoker matches a reply by both _seq and name.
//
// fdpipe's extras ride in `_fdpipe`, a field event-invoke never reads:
//   on a call:  { from: the sender's id, cancellable?: true }
//   on a reply: { to: the id of the call's sender, error?: base64 of the RPC codec's encoding of the rejection —
//                 class, stack, code, cause and all }
//   a cancel:   { _from: 'callee', _fdpipe: { cancel: _seq, from } } — marked as a callee's and nameless, so that
//               event-invoke's Callee skips it as its own echo and its Invoker finds no call under it.

export const FROM_INVOKER = 'invoker';
export const FROM_CALLEE = 'callee';

export const STATUS_OK = 0;
export const STATUS_FAIL = 1;
export const STATUS_NOT_FOUND = 2;

export interface RequestPacket {
  _seq: number;
  name: string;
  args: readonly unknown[];
  _from: typeof FROM_INVOKER;
  _fdpipe: { from: string; cancellable?: true };
}

export interface ReplyPacket {
  _seq: unknown;
  _status: number;
  name: unknown;
  payload: unknown;
  _from: typeof FROM_CALLEE;
  _fdpipe?: { to?: string; error?: string };
}

export interface CancelPacket {
  _from: typeof FROM_CALLEE;
  _fdpipe: { cancel: number; from: string };
}

/** A packet as it arrived, its fields not yet trusted beyond what its kind needs. */
export type IncomingPacket =
  | { kind: 'request'; seq: unknown; name: unknown; args: unknown; from: string | undefined; cancellable: boolean }
  | {
      kind: 'reply';
      seq: unknown;
      name: unknown;
      status: unknown;
      payload: unknown;
      to: string | undefined;
      error: string | undefined;
    }
  | { kind: 'cancel'; seq: number; from: string };

type Fields = Record<string, unknown>;

function isRecord(value: unknown): value is Fields {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A packet marked as event-invoke's whose fields cannot be taken as what they claim. */
export function malformedPacket(why: string): RpcProtocolError {
  return new RpcProtocolError(`Dropped a malformed event-invoke packet: ${why}`);
}

function optionalString(extras: Fields, key: string): string | undefined {
  const value = extras[key];
  if (value === undefined || typeof value === 'string') return value;
  throw malformedPacket(`_fdpipe.${key} is ${typeof value}, not a string`);
}

/**
 * What a message heard on an endpoint is. Undefined for anything without event-invoke's `_from` mark: an endpoint
 * such as `process` carries other traffic too, which is none of this face's business.
 * @throws RpcProtocolError when it is marked as a packet but fdpipe's fields in it are not what fdpipe sends.
 */
export function readPacket(message: unknown): IncomingPacket | undefined {
  if (!isRecord(message)) return undefined;
  const from = message._from;
  if (from !== FROM_INVOKER && from !== FROM_CALLEE) {
    // event-invoke's Invoker takes anything not marked as an invoker's as a possible outcome, so a hand-written
    // callee that leaves out the mark still works there; an outcome needs at least its _seq and _status here.
    if (from !== undefined || !('_seq' in message) || !('_status' in message)) return undefined;
  }
  const extras = message._fdpipe;
  if (extras !== undefined && !isRecord(extras)) throw malformedPacket(`_fdpipe is ${typeof extras}, not an object`);

  if (from === FROM_INVOKER) {
    const cancellable = extras?.cancellable;
    if (cancellable !== undefined && typeof cancellable !== 'boolean') {
      throw malformedPacket(`_fdpipe.cancellable is ${typeof cancellable}, not a boolean`);
    }
    return {
      kind: 'request',
      seq: message._seq,
      name: message.name,
      args: message.args,
      from: extras && optionalString(extras, 'from'),
      cancellable: cancellable === true,
    };
  }
  if (extras !== undefined && extras.cancel !== undefined) {
    if (!Number.isSafeInteger(extras.cancel)) throw malformedPacket('_fdpipe.cancel is not an integer');
    const sender = optionalString(extras, 'from');
    if (sender === undefined) throw malformedPacket('a cancel without _fdpipe.from');
    return { kind: 'cancel', seq: extras.cancel as number, from: sender };
  }
  return {
    kind: 'reply',
    seq: message._seq,
    name: message.name,
    status: message._status,
    payload: message.payload,
    to: extras && optionalString(extras, 'to'),
    error: extras && optionalString(extras, 'error'),
  };
}

export function requestPacket(
  seq: number,
  name: string,
  args: readonly unknown[],
  from: string,
  cancellable: boolean,
): RequestPacket {
  return { _seq: seq, name, args, _from: FROM_INVOKER, _fdpipe: cancellable ? { from, cancellable: true } : { from } };
}

/** The outcome of a call this side served, addressed to the call's sender when it said who it is. */
export function replyPacket(
  seq: unknown,
  name: unknown,
  status: number,
  payload: unknown,
  to: string | undefined,
  error?: string,
): ReplyPacket {
  const packet: ReplyPacket = { _seq: seq, _status: status, name, payload, _from: FROM_CALLEE };
  if (to !== undefined || error !== undefined) {
    packet._fdpipe = {};
    if (to !== undefined) packet._fdpipe.to = to;
    if (error !== undefined) packet._fdpipe.error = error;
  }
  return packet;
}

export function cancelPacket(seq: number, from: string): CancelPacket {
  return { _from: FROM_CALLEE, _fdpipe: { cancel: seq, from } };
}

/**
 * The outcome of a call that failed: status 2 for a missing function, 1 otherwise, with the message as payload as
 * event-invoke has it, and the rejection whole — `encoded` by the core's codec — in fdpipe's extras.
 */
export function failurePacket(
  seq: unknown,
  name: unknown,
  to: string | undefined,
  reason: unknown,
  encoded: Uint8Array,
): ReplyPacket {
  const status = reason instanceof Error && reason.name === 'MethodNotFoundError' ? STATUS_NOT_FOUND : STATUS_FAIL;
  const base64 = Buffer.from(encoded.buffer, encoded.byteOffset, encoded.byteLength).toString('base64');
  return replyPacket(seq, name, status, messageOf(reason), to, base64);
}

function messageOf(reason: unknown): string {
  if (reason instanceof Error) return reason.message;
  const message = typeof reason === 'object' && reason !== null ? (reason as { message?: unknown }).message : undefined;
  return typeof message === 'string' ? message : String(reason);
}
