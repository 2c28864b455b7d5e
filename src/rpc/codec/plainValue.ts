import type { ReadBuffer } from '../../buffer/ReadBuffer';
import { DecodeError } from './errors';
import * as T from './tags';

// What a peer that has not been welcomed yet may make this side decode: strings, numbers, booleans, null,
// undefined, arrays and plain objects. Nothing hash-keyed on a number (Maps, Sets), no bigints, no errors, no
// extensions: a stranger gets the smallest decoder there is. The check walks the encoded value without building
// it, so the real decoder then only ever meets these tags.

const PLAIN = 'strings, numbers, booleans, null, undefined, arrays and plain objects';

const REFUSED: Record<number, string> = {
  [T.BIGINT]: 'a bigint',
  [T.NEGBIGINT]: 'a bigint',
  [T.UINT8ARRAY]: 'a Uint8Array',
  [T.BUFFER]: 'a Buffer',
  [T.ARRAYBUFFER]: 'an ArrayBuffer',
  [T.TYPEDARRAY]: 'a typed array',
  [T.DATAVIEW]: 'a DataView',
  [T.MAP]: 'a Map',
  [T.SET]: 'a Set',
  [T.DATE]: 'a Date',
  [T.REGEXP]: 'a RegExp',
  [T.ERROR]: 'an Error',
  [T.EXTENSION]: 'an extension value',
  [T.BOXED]: 'a boxed primitive',
};

/**
 * Reads past one encoded value, throwing a DecodeError unless it is made only of plain values (and nested no
 * deeper than `maxDepth` containers).
 */
export function skipPlainValue(buffer: ReadBuffer, maxDepth: number): void {
  skip(buffer, buffer.readUint8(), 0, maxDepth);
}

/** Skips the value tagged `tag`; returns its entry count when it is a plain object, else -1. */
function skip(buffer: ReadBuffer, tag: number, depth: number, maxDepth: number): number {
  if (tag <= T.FIXINT_MAX || (tag >= T.FIXNEG && tag <= T.TRUE)) return -1;
  if (tag < T.FIXNEG) {
    if (tag >= T.FIXOBJECT) return skipEntries(buffer, tag - T.FIXOBJECT, true, depth, maxDepth);
    skipArray(buffer, tag - T.FIXARRAY, depth, maxDepth);
    return -1;
  }
  switch (tag) {
    case T.UINT:
    case T.NEGINT:
      buffer.readLength();
      return -1;
    case T.FLOAT64:
      buffer.readNumber();
      return -1;
    case T.STRING:
      buffer.readRaw(buffer.readLength());
      return -1;
    case T.ARRAY:
      skipArray(buffer, buffer.readLength(), depth, maxDepth);
      return -1;
    case T.OBJECT:
      return skipEntries(buffer, buffer.readLength(), true, depth, maxDepth);
    default: {
      const what = REFUSED[tag] ?? `tag 0x${tag.toString(16)}`;
      throw new DecodeError(`${what} where only ${PLAIN} are accepted`, buffer.position - 1);
    }
  }
}

function enter(buffer: ReadBuffer, depth: number, maxDepth: number): number {
  if (depth >= maxDepth) throw new DecodeError(`value nested deeper than maxDepth (${maxDepth})`, buffer.position);
  return depth + 1;
}

function skipArray(buffer: ReadBuffer, count: number, depth: number, maxDepth: number): void {
  depth = enter(buffer, depth, maxDepth);
  // A SAME_KEYS item repeats the keys of the plain object before it: only its values follow.
  let previousKeys = -1;
  for (let i = 0; i < count; i++) {
    const tag = buffer.readUint8();
    if (tag === T.SAME_KEYS) {
      if (previousKeys < 0) throw new DecodeError('SAME_KEYS item does not follow a plain object', buffer.position - 1);
      skipEntries(buffer, previousKeys, false, depth, maxDepth);
    } else {
      previousKeys = skip(buffer, tag, depth, maxDepth);
    }
  }
}

/**
 * Skips `count` entries (or, without keys, the values of a SAME_KEYS item); returns how many keys the decoder will
 * give the object. That is what a SAME_KEYS item after it repeats, and it is fewer than `count` when a key comes
 * twice: counting entries instead would skip more values than the decoder reads, and the decoder would then read
 * unchecked bytes (those of a key, say) as values. Keys are compared decoded, as the decoder does: two byte runs
 * that decode alike (invalid UTF-8 becomes U+FFFD) are one key.
 */
function skipEntries(buffer: ReadBuffer, count: number, withKeys: boolean, depth: number, maxDepth: number): number {
  depth = enter(buffer, depth, maxDepth);
  const keys = withKeys ? new Set<string>() : undefined;
  for (let i = 0; i < count; i++) {
    keys?.add(buffer.readString());
    skip(buffer, buffer.readUint8(), depth, maxDepth);
  }
  return keys === undefined ? count : keys.size;
}
