import { types } from 'util';
import { BufferReadError } from '../../buffer/errors';
import type { ReadBuffer } from '../../buffer/ReadBuffer';
import type { WriteBuffer } from '../../buffer/WriteBuffer';
import { bigintFromMagnitude, bigintMagnitude } from './bigint';
import {
  arrayBufferCopy,
  asBuffer,
  asUint8Array,
  TYPED_ARRAY_KINDS,
  typedArrayFromWire,
  typedArrayKind,
  NOT_TYPED_ARRAY,
  UINT8_KIND,
  wireBytes,
  type TypedArray,
} from './binary';
import { DecodeError, EncodeError } from './errors';
import {
  defineErrorProperty,
  defineHidden,
  errorMessage,
  errorName,
  errorPropertyKeys,
  isEnumerable,
  isError,
  rebuildError,
} from './errorValues';
import type { DecodeContext, EncodeContext, StreamScope } from './context';
import { checkExtension, type ValueExtension } from './extensions';
import { GUARDED_FROM, HashCollisionGuard } from './HashCollisionGuard';
import {
  addStep,
  EncodeFailure,
  extensionStep,
  indexStep,
  isStackOverflow,
  keyStep,
  mapKeyStep,
  mapValueStep,
  setItemStep,
  toEncodeError,
} from './path';
import * as T from './tags';

export interface ValueCodecOptions {
  /**
   * How many containers (arrays, objects, Maps, Sets, Errors, extension values) may nest inside one another.
   * Deeper values fail with EncodeError on the way out and DecodeError on the way in; a cyclic value hits this
   * limit and is reported as a cycle. Default 128, at most MAX_DEPTH_LIMIT (1000): the codec recurses once per
   * level, and this keeps it well inside Node's default call stack. Should the stack run out all the same (a
   * caller already deep in its own recursion, an extension that recurses, a small `--stack-size`), the value
   * fails with an EncodeError or DecodeError that says so, never with a raw RangeError.
   */
  maxDepth?: number;
  /** Registered in order, as if by register(). */
  extensions?: ValueExtension[];
}

export const DEFAULT_MAX_DEPTH = 128;
/** Arrays up to this many items are allocated whole before their items are read, whatever slotsLeft says. */
const PREALLOCATED_ITEMS = 64;
/**
 * The highest maxDepth a codec takes. Measured on Node 18 to 24, the default stack holds about 1500 levels of the
 * costliest container (a Map), from a shallow caller: this leaves room for the caller's own frames.
 */
export const MAX_DEPTH_LIMIT = 1000;

const MAX_SAFE = Number.MAX_SAFE_INTEGER;
const KEYS_CHANGED = 'cannot encode an object whose keys change while it is encoded';
const STALE_CONTEXT = "an extension's context is only valid while that extension's encode() or decode() runs";
const objectProto = Object.prototype;
const getPrototypeOf = Object.getPrototypeOf;
const isArray = Array.isArray;
const isView = ArrayBuffer.isView;
const objectKeys = Object.keys;
const hasOwn = Object.prototype.hasOwnProperty;
const asyncIterator = Symbol.asyncIterator;
const NO_STREAM_SCOPE =
  'cannot encode a stream (an AsyncIterable, Readable or ReadableStream) outside an RPC message: streams travel ' +
  'as arguments, results and event values of calls';

/**
 * Encodes JavaScript values straight into a WriteBuffer and decodes them straight from a ReadBuffer: no
 * intermediate JSON, and binary data is copied once on the way out and not at all on the way in where the memory
 * layout allows. PROTOCOL.md's "Codec values" describes the bytes and every choice made for values JSON cannot
 * carry.
 *
 * One codec may serve any number of buffers and connections; it keeps no state between calls, nor during one:
 * where a value is (its depth) travels as an argument, so an encode or decode started from inside another (by a
 * getter or an extension) is a value of its own and leaves the outer one undisturbed.
 */
export class ValueCodec {
  private readonly maxDepth: number;
  private readonly extensions: ValueExtension[] = [];
  private readonly extensionsByTag: Array<ValueExtension | undefined> = [];
  /** The RPC connection of the message being encoded or decoded, for its streams; saved and restored around each. */
  private scope: StreamScope | undefined = undefined;
  /** Array items the value being decoded may still have allocated before they are read; see readArray. */
  private slotsLeft = 0;

  constructor(options: ValueCodecOptions = {}) {
    const maxDepth = options.maxDepth ?? DEFAULT_MAX_DEPTH;
    if (!Number.isInteger(maxDepth) || maxDepth < 1 || maxDepth > MAX_DEPTH_LIMIT) {
      throw new RangeError(
        `maxDepth must be a whole number from 1 to ${MAX_DEPTH_LIMIT}, got ${maxDepth}: the codec recurses once ` +
          'per level, and a deeper value would run out of call stack (flatten it, or send it as a string or bytes)',
      );
    }
    this.maxDepth = maxDepth;
    for (const ext of options.extensions ?? []) this.register(ext);
  }

  /** Adds a custom type; see ValueExtension. Throws if the tag is out of range or taken. */
  register<T>(ext: ValueExtension<T>): this {
    checkExtension(ext as ValueExtension, this.extensionsByTag);
    this.extensions.push(ext as ValueExtension);
    this.extensionsByTag[ext.tag] = ext as ValueExtension;
    return this;
  }

  /**
   * Writes `value` into `buffer`. On an EncodeError the buffer holds part of a value: do not commit it.
   * @param root what to call the value in an error's path (`args`, `result`); 'value' by default
   * @param scope the RPC connection the message goes over: without one, a stream value fails to encode
   */
  encode(buffer: WriteBuffer, value: unknown, root?: string, scope?: StreamScope): void {
    const outer = this.scope;
    this.scope = scope;
    try {
      this.write(buffer, value, 0);
    } catch (thrown) {
      throw encodeErrorFrom(thrown, root ?? 'value', this.maxDepth);
    } finally {
      this.scope = outer;
    }
  }

  /**
   * Reads one value from `buffer`. Anything wrong with the bytes throws a DecodeError.
   * @param scope the RPC connection the message came over: without one, a stream value is refused
   */
  decode(buffer: ReadBuffer, scope?: StreamScope): unknown {
    const outer = this.scope;
    const outerSlots = this.slotsLeft;
    this.scope = scope;
    this.slotsLeft = buffer.remaining;
    try {
      return this.read(buffer, 0);
    } catch (thrown) {
      throw toDecodeError(thrown, buffer, this.maxDepth);
    } finally {
      this.scope = outer;
      this.slotsLeft = outerSlots;
    }
  }

  // ---------------------------------------------------------------------------------------------------- encoding

  /** `depth` counts the containers around `value`. */
  /** @internal */
  write(buffer: WriteBuffer, value: unknown, depth: number): void {
    // The most common types first: a row of typeof tests, which the engine answers without a call.
    if (typeof value === 'string') {
      buffer.writeUint8(T.STRING);
      buffer.writeString(value);
    } else if (typeof value === 'number') {
      this.writeNumber(buffer, value);
    } else if (typeof value === 'object') {
      if (value === null) buffer.writeUint8(T.NULL);
      else this.writeObject(buffer, value, depth);
    } else if (typeof value === 'boolean') {
      buffer.writeUint8(value ? T.TRUE : T.FALSE);
    } else if (value === undefined) {
      buffer.writeUint8(T.UNDEFINED);
    } else if (typeof value === 'bigint') {
      buffer.writeUint8(value < 0n ? T.NEGBIGINT : T.BIGINT);
      buffer.writeBytes(bigintMagnitude(value));
    } else {
      // A function or a symbol: only an extension can carry it.
      if (this.extensions.length !== 0 && this.writeExtension(buffer, value, depth)) return;
      throw new EncodeFailure(`cannot encode ${describeUnencodable(value)}`);
    }
  }

  private writeNumber(buffer: WriteBuffer, value: number): void {
    if (Number.isInteger(value)) {
      if (value >= 0) {
        if (value <= T.FIXINT_MAX) {
          // -0 passes every integer test above but must keep its sign.
          if (value !== 0 || 1 / value > 0) {
            buffer.writeUint8(value);
            return;
          }
        } else if (value <= MAX_SAFE) {
          buffer.writeUint8(T.UINT);
          buffer.writeLength(value);
          return;
        }
      } else if (value >= T.FIXNEG_MIN) {
        buffer.writeUint8(T.FIXNEG - 1 - value);
        return;
      } else if (value >= -MAX_SAFE) {
        buffer.writeUint8(T.NEGINT);
        buffer.writeLength(-value);
        return;
      }
    }
    buffer.writeUint8(T.FLOAT64);
    buffer.writeNumber(value);
  }

  private writeObject(buffer: WriteBuffer, value: object, depth: number): void {
    if (this.extensions.length !== 0 && this.writeExtension(buffer, value, depth)) return;
    if (isArray(value)) {
      this.writeArray(buffer, value, depth);
      return;
    }
    if (!isPlainPrototype(value)) this.writeSpecial(buffer, value, depth);
    else this.writePlainObject(buffer, value, undefined, depth);
  }

  /** A stream goes as its id on the connection; its items follow in messages of their own. */
  private writeStream(buffer: WriteBuffer, value: object): void {
    const scope = this.scope;
    if (scope === undefined) throw new EncodeFailure(NO_STREAM_SCOPE);
    if (typeof (value as { [asyncIterator]?: unknown })[asyncIterator] !== 'function') {
      throw new EncodeFailure('cannot encode an object whose Symbol.asyncIterator is not a function');
    }
    const id = scope.sendStream(value as AsyncIterable<unknown>);
    buffer.writeUint8(T.STREAM);
    buffer.writeLength(id);
  }

  /**
   * A plain object: its entries, or with `sameKeys` (its keys, just checked to be those of the array item before
   * it) a SAME_KEYS item of only its values. Like writeProperties(Object.keys(object)), without building the key
   * array: for-in over a plain object walks the engine's cached key list, which is cheaper, and turns
   * object[key] inside it into a direct field load. The own-property test skips anything enumerable that someone
   * added to Object.prototype.
   */
  private writePlainObject(buffer: WriteBuffer, object: object, sameKeys: string[] | undefined, depth: number): void {
    depth = this.enterContainer(object, depth);
    let count = 0;
    if (sameKeys === undefined) {
      for (const key in object) if (hasOwn.call(object, key)) count++;
      if (count === 0 && isKeylessStream(object)) {
        this.writeStream(buffer, object);
        return;
      }
      writeCount(buffer, T.FIXOBJECT, T.OBJECT, count);
    } else {
      count = sameKeys.length;
      buffer.writeUint8(T.SAME_KEYS);
    }
    let written = 0;
    let key: string | undefined;
    try {
      for (key in object) {
        if (!hasOwn.call(object, key)) continue;
        // A getter that adds keys would make the count a lie; stop before writing past it.
        if (++written > count) break;
        if (sameKeys === undefined) buffer.writeString(key);
        this.write(buffer, (object as Record<string, unknown>)[key], depth);
      }
      key = undefined;
      if (written !== count) throw new EncodeFailure(KEYS_CHANGED);
    } catch (thrown) {
      // Out of stack: handed up untouched, as building a step here would run out again.
      if (isStackOverflow(thrown)) throw thrown;
      throw addStep(thrown, key === undefined ? '' : keyStep(key), object);
    }
  }

  /**
   * The depth inside `container`, or a failure if that is too deep. Only containers count, on both sides, so a
   * limit means the same thing to the encoder and the decoder.
   */
  private enterContainer(container: object, depth: number): number {
    if (depth >= this.maxDepth) {
      throw new EncodeFailure(
        `cannot encode a value nested deeper than maxDepth (${this.maxDepth})`,
        true,
        undefined,
        container,
      );
    }
    return depth + 1;
  }

  private writeArray(buffer: WriteBuffer, array: unknown[], depth: number): void {
    depth = this.enterContainer(array, depth);
    const length = array.length;
    writeCount(buffer, T.FIXARRAY, T.ARRAY, length);
    // Keys of the previous item when it was a plain object written here, for SAME_KEYS.
    let previousKeys: string[] | undefined;
    let i = 0;
    try {
      for (; i < length; i++) {
        // Holes read as undefined here, so they arrive as undefined, as docs/codec.md's table says.
        const item = array[i];
        if (typeof item !== 'object' || item === null || isArray(item) || !isPlainPrototype(item)) {
          this.write(buffer, item, depth);
          previousKeys = undefined;
        } else if (this.extensions.length !== 0 && this.writeExtension(buffer, item, depth)) {
          previousKeys = undefined;
        } else if (previousKeys !== undefined && hasKeys(item, previousKeys)) {
          this.writePlainObject(buffer, item, previousKeys, depth);
        } else {
          const keys = objectKeys(item);
          if (keys.length === 0 && isKeylessStream(item)) this.writeStream(buffer, item);
          else this.writeProperties(buffer, item, keys, depth);
          // An empty key list would make SAME_KEYS longer than the one-byte empty object it replaces.
          previousKeys = keys.length !== 0 ? keys : undefined;
        }
      }
    } catch (thrown) {
      // Out of stack: handed up untouched, as building a step here would run out again.
      if (isStackOverflow(thrown)) throw thrown;
      throw addStep(thrown, indexStep(i), array);
    }
  }

  /** A plain object, or any other object reduced to its own enumerable string-keyed properties. */
  private writeProperties(buffer: WriteBuffer, object: object, keys: string[], depth: number): void {
    depth = this.enterContainer(object, depth);
    const count = keys.length;
    writeCount(buffer, T.FIXOBJECT, T.OBJECT, count);
    let i = 0;
    try {
      for (; i < count; i++) {
        const key = keys[i];
        buffer.writeString(key);
        this.write(buffer, (object as Record<string, unknown>)[key], depth);
      }
    } catch (thrown) {
      // Out of stack: handed up untouched, as building a step here would run out again.
      if (isStackOverflow(thrown)) throw thrown;
      throw addStep(thrown, keyStep(keys[i]), object);
    }
  }

  /** Every object that is neither an array nor a plain object. */
  private writeSpecial(buffer: WriteBuffer, value: object, depth: number): void {
    if (isView(value)) {
      const kind = typedArrayKind(value);
      if (kind === UINT8_KIND) {
        buffer.writeUint8(Buffer.isBuffer(value) ? T.BUFFER : T.UINT8ARRAY);
        buffer.writeBytes(value as Uint8Array);
      } else if (kind === NOT_TYPED_ARRAY) {
        buffer.writeUint8(T.DATAVIEW);
        buffer.writeBytes(new Uint8Array(value.buffer, value.byteOffset, value.byteLength));
      } else if (kind >= 0) {
        buffer.writeUint8(T.TYPEDARRAY);
        buffer.writeUint8(kind);
        buffer.writeBytes(wireBytes(value as TypedArray));
      } else {
        throw new EncodeFailure(`cannot encode a ${value.constructor?.name ?? 'typed array of an unknown kind'}`);
      }
    } else if (value instanceof Map) {
      this.writeMap(buffer, value, depth);
    } else if (value instanceof Set) {
      this.writeSet(buffer, value, depth);
    } else if (value instanceof Date) {
      writeDate(buffer, value);
    } else if (value instanceof RegExp) {
      writeRegExp(buffer, value);
    } else if (isError(value)) {
      this.writeError(buffer, value, depth);
    } else if (value instanceof ArrayBuffer || value instanceof SharedArrayBuffer) {
      writeArrayBuffer(buffer, value);
    } else if (
      value instanceof Number ||
      value instanceof String ||
      value instanceof Boolean ||
      value instanceof BigInt ||
      value instanceof Symbol
    ) {
      this.writeBoxed(buffer, value, depth);
    } else if (
      value instanceof Promise ||
      value instanceof WeakMap ||
      value instanceof WeakSet ||
      value instanceof WeakRef
    ) {
      throw unreachableContent(value);
    } else if ((value as { [asyncIterator]?: unknown })[asyncIterator] !== undefined) {
      this.writeStream(buffer, value);
    } else if (!ofThisRealm(value) && this.writeForeign(buffer, value, depth)) {
      // A built-in object of another realm.
    } else {
      // Any other class instance: its own enumerable properties, arriving as a plain object (as with JSON and
      // structuredClone). Register an extension to keep the class.
      this.writeProperties(buffer, value, objectKeys(value), depth);
    }
  }

  /**
   * A built-in object of another realm (a vm context; under Jest, whatever Node's own modules make, as a file's
   * mtime), which the instanceof tests miss: it would arrive as its own properties, `{}`, its content lost. Told by
   * the engine's brand checks, which are slower, so only asked of objects not of this realm. False for any other.
   */
  private writeForeign(buffer: WriteBuffer, value: object, depth: number): boolean {
    if (types.isMap(value)) this.writeMap(buffer, value, depth);
    else if (types.isSet(value)) this.writeSet(buffer, value, depth);
    else if (types.isDate(value)) writeDate(buffer, value);
    else if (types.isRegExp(value)) writeRegExp(buffer, value);
    else if (types.isAnyArrayBuffer(value)) writeArrayBuffer(buffer, value);
    else if (types.isBoxedPrimitive(value)) this.writeBoxed(buffer, value, depth);
    else if (types.isPromise(value) || types.isWeakMap(value) || types.isWeakSet(value)) throw unreachableContent(value);
    else return false;
    return true;
  }

  private writeBoxed(buffer: WriteBuffer, value: object, depth: number): void {
    const primitive = value.valueOf();
    // A boxed symbol fails like a symbol.
    if (typeof primitive !== 'symbol') buffer.writeUint8(T.BOXED);
    this.write(buffer, primitive, depth);
  }

  private writeMap(buffer: WriteBuffer, map: Map<unknown, unknown>, depth: number): void {
    depth = this.enterContainer(map, depth);
    const size = map.size;
    buffer.writeUint8(T.MAP);
    buffer.writeLength(size);
    let i = 0;
    let atKey = true;
    let key: unknown;
    try {
      for (const entry of map) {
        // A getter that adds entries would make the count a lie; stop before writing past it.
        if (i === size) {
          i++;
          break;
        }
        key = entry[0];
        atKey = true;
        this.write(buffer, key, depth);
        atKey = false;
        this.write(buffer, entry[1], depth);
        i++;
      }
    } catch (thrown) {
      // Out of stack: handed up untouched, as building a step here would run out again.
      if (isStackOverflow(thrown)) throw thrown;
      throw addStep(thrown, atKey ? mapKeyStep(i) : mapValueStep(key, i), map);
    }
    if (i !== size) throw entriesChanged('Map', map);
  }

  private writeSet(buffer: WriteBuffer, set: Set<unknown>, depth: number): void {
    depth = this.enterContainer(set, depth);
    const size = set.size;
    buffer.writeUint8(T.SET);
    buffer.writeLength(size);
    let i = 0;
    try {
      for (const item of set) {
        if (i === size) {
          i++;
          break;
        }
        this.write(buffer, item, depth);
        i++;
      }
    } catch (thrown) {
      // Out of stack: handed up untouched, as building a step here would run out again.
      if (isStackOverflow(thrown)) throw thrown;
      throw addStep(thrown, setItemStep(i), set);
    }
    if (i !== size) throw entriesChanged('Set', set);
  }

  private writeError(buffer: WriteBuffer, error: Error, depth: number): void {
    depth = this.enterContainer(error, depth);
    const keys = errorPropertyKeys(error);
    buffer.writeUint8(T.ERROR);
    buffer.writeString(errorName(error));
    buffer.writeString(errorMessage(error));
    const stack = error.stack;
    this.write(buffer, typeof stack === 'string' ? stack : undefined, depth);
    buffer.writeLength(keys.length);
    let i = 0;
    try {
      for (; i < keys.length; i++) {
        const key = keys[i];
        buffer.writeString(key);
        buffer.writeUint8(isEnumerable(error, key) ? T.PROP_ENUMERABLE : 0);
        this.write(buffer, (error as unknown as Record<string, unknown>)[key], depth);
      }
    } catch (thrown) {
      // Out of stack: handed up untouched, as building a step here would run out again.
      if (isStackOverflow(thrown)) throw thrown;
      throw addStep(thrown, keyStep(keys[i]), error);
    }
  }

  /** Writes `value` with the first extension that claims it; false if none does. */
  private writeExtension(buffer: WriteBuffer, value: unknown, depth: number): boolean {
    const extensions = this.extensions;
    for (let i = 0; i < extensions.length; i++) {
      const ext = extensions[i];
      if (!ext.test(value)) continue;
      // A function or symbol is no object, but as a cycle cannot pass through one, it needs no identity here.
      const inner = this.enterContainer(value as object, depth);
      buffer.writeUint8(T.EXTENSION);
      buffer.writeUint8(ext.tag);
      // Nested failures are not named here but travel up through the catch below, which adds this value's step.
      // Once encode() returns, the depth it counts from no longer holds: a kept context must not write with it.
      const context = new NestedContext(this, inner);
      try {
        ext.encode(value, buffer, context);
      } catch (thrown) {
        // Out of stack: handed up untouched, as building a step here would run out again.
        if (isStackOverflow(thrown)) throw thrown;
        throw addStep(thrown, extensionStep(ext.tag), value as object);
      } finally {
        context.open = false;
      }
      return true;
    }
    return false;
  }

  // ---------------------------------------------------------------------------------------------------- decoding

  /** `depth` counts the containers around the value being read. */
  /** @internal */
  read(buffer: ReadBuffer, depth: number): unknown {
    return this.readTagged(buffer, buffer.readUint8(), depth);
  }

  private readTagged(buffer: ReadBuffer, tag: number, depth: number): unknown {
    if (tag <= T.FIXINT_MAX) return tag;
    if (tag < T.FIXNEG) {
      if (tag < T.FIXOBJECT) return this.readArray(buffer, tag - T.FIXARRAY, depth);
      return this.readObject(buffer, tag - T.FIXOBJECT, depth);
    }
    if (tag < T.UNDEFINED) return T.FIXNEG - 1 - tag;
    switch (tag) {
      case T.UNDEFINED:
        return undefined;
      case T.NULL:
        return null;
      case T.FALSE:
        return false;
      case T.TRUE:
        return true;
      case T.UINT:
        return buffer.readLength();
      case T.NEGINT:
        // 0 - n, not -n: a non-canonical zero magnitude must not make -0.
        return 0 - buffer.readLength();
      case T.FLOAT64:
        return buffer.readNumber();
      case T.STRING:
        return buffer.readString();
      case T.ARRAY:
        return this.readArray(buffer, readCount(buffer, 1), depth);
      case T.OBJECT:
        return this.readObject(buffer, readCount(buffer, 2), depth);
      case T.BIGINT:
        return bigintFromMagnitude(buffer.readBytes(), false);
      case T.NEGBIGINT:
        return bigintFromMagnitude(buffer.readBytes(), true);
      case T.UINT8ARRAY:
        return asUint8Array(buffer.readBytes());
      case T.BUFFER:
        return asBuffer(buffer.readBytes());
      case T.ARRAYBUFFER:
        return arrayBufferCopy(buffer.readBytes());
      case T.TYPEDARRAY:
        return readTypedArray(buffer);
      case T.DATAVIEW: {
        const bytes = buffer.readBytes();
        return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      }
      case T.MAP:
        return this.readMap(buffer, readCount(buffer, 2), depth);
      case T.SET:
        return this.readSet(buffer, readCount(buffer, 1), depth);
      case T.DATE:
        return new Date(buffer.readNumber());
      case T.REGEXP:
        return readRegExp(buffer);
      case T.ERROR:
        return this.readError(buffer, depth);
      case T.EXTENSION:
        return this.readExtension(buffer, depth);
      case T.BOXED:
        return this.readBoxed(buffer);
      case T.STREAM: {
        const scope = this.scope;
        if (scope === undefined) {
          throw new DecodeError(
            'a stream value can only arrive in an RPC message from a connected peer, and this is not one',
            buffer.position - 1,
          );
        }
        return scope.receiveStream(buffer.readLength());
      }
      default:
        throw new DecodeError(`unknown tag 0x${tag.toString(16)}`, buffer.position - 1);
    }
  }

  private readBoxed(buffer: ReadBuffer): object {
    const tag = buffer.readUint8();
    // Only primitives can be boxed. Checking the tag first also keeps a run of BOXED tags from recursing.
    const primitive =
      tag <= T.FIXINT_MAX ||
      (tag >= T.FIXNEG && tag < T.UNDEFINED) ||
      (tag >= T.FALSE && tag <= T.NEGBIGINT && tag !== T.ARRAY && tag !== T.OBJECT);
    if (!primitive) {
      throw new DecodeError(
        `a boxed value must be a number, string, boolean or bigint, not tag 0x${tag.toString(16)}`,
        buffer.position - 1,
      );
    }
    return Object(this.readTagged(buffer, tag, 0));
  }

  private enter(buffer: ReadBuffer, depth: number): number {
    if (depth >= this.maxDepth) {
      throw new DecodeError(`value nested deeper than maxDepth (${this.maxDepth})`, buffer.position);
    }
    return depth + 1;
  }

  private readArray(buffer: ReadBuffer, count: number, depth: number): unknown[] {
    depth = this.enter(buffer, depth);
    // Room for every item up front, which is faster than growing, while the counts so allotted stay within the
    // message's size: every item takes a byte, so a whole message always does. Each count is checked against the
    // bytes left, but each level of a nested array could claim them all, and a message cut short would then
    // cost depth × its size in slots for items that never come (a 4 MB one, 4 GB). Past that, it grows as read.
    let array: unknown[];
    if (count <= PREALLOCATED_ITEMS) {
      array = new Array(count);
    } else if (count <= this.slotsLeft) {
      this.slotsLeft -= count;
      array = new Array(count);
    } else {
      array = [];
    }
    // Whether the previous item was a plain object read here, and its keys once a SAME_KEYS item needed them.
    let previousIsObject = false;
    let previousKeys: string[] | undefined;
    for (let i = 0; i < count; i++) {
      const tag = buffer.readUint8();
      if (tag === T.SAME_KEYS) {
        if (!previousIsObject) {
          throw new DecodeError('SAME_KEYS item does not follow a plain object', buffer.position - 1);
        }
        // Object.keys of what was just decoded gives the keys in wire order (see the wire format), as strings the
        // engine already knows as property names: stores with them take the fast path.
        previousKeys ??= objectKeys(array[i - 1] as object);
        array[i] = this.readSameKeys(buffer, previousKeys, depth);
      } else {
        array[i] = this.readTagged(buffer, tag, depth);
        previousIsObject = tag === T.OBJECT || (tag >= T.FIXOBJECT && tag < T.FIXNEG);
        previousKeys = undefined;
      }
    }
    return array;
  }

  private readSameKeys(buffer: ReadBuffer, keys: string[], depth: number): Record<string, unknown> {
    depth = this.enter(buffer, depth);
    const object: Record<string, unknown> = {};
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i];
      const value = this.read(buffer, depth);
      setEntry(object, key, value);
    }
    return object;
  }

  private readObject(buffer: ReadBuffer, count: number, depth: number): Record<string, unknown> {
    depth = this.enter(buffer, depth);
    const object: Record<string, unknown> = {};
    for (let i = 0; i < count; i++) {
      const key = buffer.readString();
      const value = this.read(buffer, depth);
      setEntry(object, key, value);
    }
    return object;
  }

  private readMap(buffer: ReadBuffer, count: number, depth: number): Map<unknown, unknown> {
    depth = this.enter(buffer, depth);
    const map = new Map<unknown, unknown>();
    if (count <= GUARDED_FROM) {
      for (let i = 0; i < count; i++) {
        const key = this.read(buffer, depth);
        map.set(key, this.read(buffer, depth));
      }
      return map;
    }
    // A large one is filled under watch, so that a peer cannot choose keys that make it quadratic.
    const guard = new HashCollisionGuard('Map', count);
    for (let i = 0; i < count; i++) {
      const key = this.read(buffer, depth);
      const size = map.size;
      map.set(key, this.read(buffer, depth));
      guard.add(key, map.size, map.size !== size, buffer.position);
    }
    return map;
  }

  private readSet(buffer: ReadBuffer, count: number, depth: number): Set<unknown> {
    depth = this.enter(buffer, depth);
    const set = new Set<unknown>();
    if (count <= GUARDED_FROM) {
      for (let i = 0; i < count; i++) set.add(this.read(buffer, depth));
      return set;
    }
    const guard = new HashCollisionGuard('Set', count);
    for (let i = 0; i < count; i++) {
      const item = this.read(buffer, depth);
      const size = set.size;
      guard.add(item, set.add(item).size, set.size !== size, buffer.position);
    }
    return set;
  }

  private readError(buffer: ReadBuffer, depth: number): Error {
    depth = this.enter(buffer, depth);
    const name = buffer.readString();
    const error = rebuildError(name, buffer.readString());
    const stack = this.read(buffer, depth);
    if (stack !== undefined && typeof stack !== 'string') {
      throw new DecodeError(`an Error's stack must be a string or undefined, got ${typeof stack}`, buffer.position);
    }
    defineHidden(error, 'stack', stack);
    const count = readCount(buffer, 3);
    for (let i = 0; i < count; i++) {
      const key = buffer.readString();
      const attributes = buffer.readUint8();
      defineErrorProperty(error, key, this.read(buffer, depth), (attributes & T.PROP_ENUMERABLE) !== 0);
    }
    return error;
  }

  private readExtension(buffer: ReadBuffer, depth: number): unknown {
    const tag = buffer.readUint8();
    const ext = this.extensionsByTag[tag];
    if (!ext) throw new DecodeError(`no extension is registered for extension tag ${tag}`, buffer.position - 1);
    const inner = this.enter(buffer, depth);
    const context = new NestedContext(this, inner);
    try {
      return ext.decode(buffer, context);
    } finally {
      context.open = false;
    }
  }
}

/**
 * A plain object that is an AsyncIterable, as an object literal with an `async *[Symbol.asyncIterator]()` is. Only
 * asked of plain objects with no enumerable string keys: a symbol lookup on every plain object costs the common
 * case some 10%, and such an object would otherwise arrive as `{}`.
 */
function isKeylessStream(value: object): boolean {
  return (value as { [asyncIterator]?: unknown })[asyncIterator] !== undefined;
}

function writeDate(buffer: WriteBuffer, date: Date): void {
  buffer.writeUint8(T.DATE);
  buffer.writeNumber(date.getTime());
}

function writeRegExp(buffer: WriteBuffer, regexp: RegExp): void {
  buffer.writeUint8(T.REGEXP);
  buffer.writeString(regexp.source);
  buffer.writeString(regexp.flags);
}

function writeArrayBuffer(buffer: WriteBuffer, value: ArrayBuffer | SharedArrayBuffer): void {
  buffer.writeUint8(T.ARRAYBUFFER);
  buffer.writeBytes(new Uint8Array(value));
}

/** Their content is not reachable, so the own-properties fallback would send an empty object in silence. */
function unreachableContent(value: object): EncodeFailure {
  return new EncodeFailure(`cannot encode a ${value.constructor.name}`);
}

/** Whether the prototype chain of `value` ends in this realm's Object.prototype, as all but a few objects' do. */
function ofThisRealm(value: object): boolean {
  for (let proto = getPrototypeOf(value); proto !== null; proto = getPrototypeOf(proto)) {
    if (proto === objectProto) return true;
  }
  return false;
}

function isPlainPrototype(value: object): boolean {
  const proto = getPrototypeOf(value);
  return proto === objectProto || proto === null;
}

/** Whether Object.keys(object) would equal `keys`, found without building it. */
function hasKeys(object: object, keys: string[]): boolean {
  let i = 0;
  for (const key in object) {
    if (!hasOwn.call(object, key)) continue;
    if (key !== keys[i]) return false;
    i++;
  }
  return i === keys.length;
}

/** The failure of a Map or Set that gained or lost entries while it was encoded: its count went out first. */
function entriesChanged(kind: 'Map' | 'Set', collection: object): EncodeFailure {
  return addStep(new EncodeFailure(`cannot encode a ${kind} whose entries change while it is encoded`), '', collection);
}

function writeCount(buffer: WriteBuffer, fixTag: number, tag: number, count: number): void {
  if (count <= T.FIXCOUNT_MAX) {
    buffer.writeUint8(fixTag + count);
  } else {
    buffer.writeUint8(tag);
    buffer.writeLength(count);
  }
}

/**
 * A count of things that each take at least `minBytes`, checked against what is left so that a lying count fails
 * here instead of after a long loop or a large allocation.
 */
function readCount(buffer: ReadBuffer, minBytes: number): number {
  const count = buffer.readLength();
  if (count * minBytes > buffer.remaining) {
    throw new DecodeError(
      `a count of ${count} cannot fit in the ${buffer.remaining} bytes left in the message`,
      buffer.position,
    );
  }
  return count;
}

function readTypedArray(buffer: ReadBuffer): TypedArray {
  const kind = buffer.readUint8();
  if (kind >= TYPED_ARRAY_KINDS.length) {
    throw new DecodeError(`unknown typed array kind ${kind}`, buffer.position - 1);
  }
  const bytes = buffer.readBytes();
  const size = TYPED_ARRAY_KINDS[kind].BYTES_PER_ELEMENT;
  if (bytes.byteLength % size !== 0) {
    throw new DecodeError(
      `${TYPED_ARRAY_KINDS[kind].name} of ${bytes.byteLength} bytes is not a whole number of elements`,
      buffer.position,
    );
  }
  return typedArrayFromWire(kind, bytes);
}

function readRegExp(buffer: ReadBuffer): RegExp {
  const source = buffer.readString();
  const flags = buffer.readString();
  try {
    return new RegExp(source, flags);
  } catch (thrown) {
    throw new DecodeError(`invalid RegExp /${source}/${flags}`, buffer.position, { cause: thrown });
  }
}

/** Assigning to '__proto__' would call the inherited setter and swap the prototype: that key becomes a plain own one. */
function setEntry(object: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') {
    Object.defineProperty(object, key, { value, enumerable: true, writable: true, configurable: true });
  } else {
    object[key] = value;
  }
}

function encodeErrorFrom(thrown: unknown, root: string, maxDepth: number): unknown {
  if (thrown instanceof EncodeFailure) return toEncodeError(thrown, root);
  if (isStackOverflow(thrown)) {
    return new EncodeError(
      `cannot encode a value nested this deeply: the call stack ran out before maxDepth (${maxDepth}) was reached ` +
        '(lower maxDepth, or encode from a shallower stack)',
      root,
      '',
      { cause: thrown },
    );
  }
  // Thrown at the root, outside any container: the buffer failing, or an extension on the root value.
  return toEncodeError(addStep(thrown, '', {}), root);
}

function toDecodeError(thrown: unknown, buffer: ReadBuffer, maxDepth: number): unknown {
  if (thrown instanceof DecodeError) return thrown;
  if (thrown instanceof BufferReadError) {
    return new DecodeError(`truncated or corrupt message: ${thrown.message}`, buffer.position, { cause: thrown });
  }
  if (isStackOverflow(thrown)) {
    return new DecodeError(
      `value nested too deeply: the call stack ran out before maxDepth (${maxDepth}) was reached (lower maxDepth, ` +
        'or decode from a shallower stack)',
      buffer.position,
      { cause: thrown },
    );
  }
  const message = thrown instanceof Error ? `${thrown.name}: ${thrown.message}` : String(thrown);
  return new DecodeError(`decoding failed: ${message}`, buffer.position, { cause: thrown });
}

function describeUnencodable(value: unknown): string {
  if (typeof value === 'function') return value.name ? `a function (${value.name})` : 'a function';
  if (typeof value === 'symbol') return `a symbol (${value.toString()})`;
  return `a value of type ${typeof value}`;
}

/** An extension's context: one object per extension value, no closures; valid while that extension's call runs. */
class NestedContext implements EncodeContext, DecodeContext {
  open = true;
  constructor(
    private readonly codec: ValueCodec,
    private readonly depth: number,
  ) {}

  encode(buffer: WriteBuffer, value: unknown): void {
    if (!this.open) throw new TypeError(STALE_CONTEXT);
    this.codec.write(buffer, value, this.depth);
  }

  decode(buffer: ReadBuffer): unknown {
    if (!this.open) throw new TypeError(STALE_CONTEXT);
    return this.codec.read(buffer, this.depth);
  }
}
