import { RemoteStream } from '../../rpc/protocol/streams/RemoteStream';
import { toDisposable, type IDisposable } from './lifecycle';

/** The `$mid` of a marshalled object: what it was before it became JSON. Only the ids revived here are listed. */
export enum MarshalledId {
  Uri = 1,
  Regexp = 2,
  Date = 17,
}

/** An object that says what it was before marshalling, as VS Code's URI does through toJSON(). */
export interface MarshalledObject {
  $mid: number;
}

type Reviver = (marshalled: MarshalledObject & Record<string, unknown>) => unknown;

// VS Code revives URIs with its own URI class; fdpipe has none, so an application registers the classes it
// marshals (URI included) here. RegExp and Date come built in.
const revivers = new Map<number, Reviver>([
  [MarshalledId.Regexp, (o) => new RegExp(String(o.source), String(o.flags ?? ''))],
  [MarshalledId.Date, (o) => new Date(typeof o.source === 'number' || typeof o.source === 'string' ? o.source : NaN)],
]);

/** Teaches revive() a `$mid`; the returned disposable forgets it again. */
export function registerMarshalledReviver(mid: number, reviver: Reviver): IDisposable {
  const previous = revivers.get(mid);
  revivers.set(mid, reviver);
  return toDisposable(() => {
    if (revivers.get(mid) !== reviver) return;
    if (previous) revivers.set(mid, previous);
    else revivers.delete(mid);
  });
}

/** Turns marshalled objects (those with a known `$mid`), at any depth up to 200, back into what they were. */
export function revive<T = unknown>(obj: unknown, depth = 0): T {
  return reviveValue(obj, depth) as T;
}

function isMarshalled(obj: object): obj is MarshalledObject & Record<string, unknown> {
  return typeof (obj as Partial<MarshalledObject>).$mid === 'number';
}

function reviveValue(obj: unknown, depth: number): unknown {
  if (!obj || typeof obj !== 'object' || depth > 200) return obj;
  if (ArrayBuffer.isView(obj) || obj instanceof Date || obj instanceof RegExp) return obj;
  // A stream's items arrive later, as they are; the stream itself is no marshalled object.
  if (obj instanceof RemoteStream) return obj;
  if (isMarshalled(obj)) {
    const reviver = revivers.get(obj.$mid);
    if (reviver) return reviver(obj);
  }
  if (Array.isArray(obj)) {
    for (let i = 0; i < obj.length; i++) obj[i] = reviveValue(obj[i], depth + 1);
    return obj;
  }
  // Revived in place, as VS Code does: the object is the caller's to keep.
  for (const key of Object.keys(obj)) {
    const value: unknown = Reflect.get(obj, key);
    if (value && typeof value === 'object') Reflect.set(obj, key, reviveValue(value, depth + 1));
  }
  return obj;
}
