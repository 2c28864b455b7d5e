import type { RemoteStream } from './protocol/streams/RemoteStream';
import type { StreamItem } from './streamTypes';

// The types of values as the value codec really carries them, for Remote<T>: what a call's arguments may be
// (Sendable) and what its result arrives as (Received). They follow ValueCodec's rules (docs/codec.md): class
// instances arrive as their own data properties, functions and symbols do not cross at all.

/**
 * Types your codec extensions carry whole, by declaration merging, so that Remote<T> leaves them as they are
 * instead of reducing them to their data properties. The keys are any names you like:
 *
 *     declare module 'fdpipe' {
 *       interface CodecExtensionTypes { point: Point }
 *     }
 *
 * Declare only types for which an extension is registered on both sides' codecs.
 */
export interface CodecExtensionTypes {}

type ExtensionType = CodecExtensionTypes[keyof CodecExtensionTypes];

/**
 * Stands where a value cannot cross a connection (a function, a symbol, a promise, a WeakMap…): a parameter of
 * this type takes no argument, and a result of this type cannot be used. `why` says what to do instead.
 */
export interface NotSendable<Why extends string> {
  readonly 'fdpipe: cannot be sent': Why;
}

type FunctionWhy = 'a function cannot cross a connection: send data, or expose a service the other side calls back';
type SymbolWhy = 'a symbol cannot cross a connection';
type PromiseWhy = 'a promise cannot cross a connection: await it and send its value';
type WeakWhy = 'a WeakMap, WeakSet or WeakRef cannot cross a connection: its content is out of reach';

type IsAny<T> = 0 extends 1 & T ? true : false;
type AnyFunction = (...args: any[]) => unknown;
type AnyConstructor = abstract new (...args: any[]) => unknown;
// By its tag rather than by name: WeakRef's type needs lib ES2021, which a user's TypeScript may not load.
type WeakRefLike = { readonly [Symbol.toStringTag]: 'WeakRef' };
type Primitive = string | number | boolean | bigint | null | undefined;
// Values that cross as themselves (same class, same content).
type CarriedWhole =
  | Date
  | RegExp
  | ArrayBuffer
  | DataView
  | Int8Array
  | Uint8Array
  | Uint8ClampedArray
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | Float32Array
  | Float64Array
  | BigInt64Array
  | BigUint64Array
  | Number
  | String
  | Boolean;

/**
 * What a value of type T arrives as on the other side: primitives, Dates, RegExps, bytes and typed arrays as they
 * are; Maps, Sets, arrays and tuples with their contents received in turn; an Error as an Error with its own data
 * properties (its class is kept only for the built-in ones); a stream as a RemoteStream; any other object — a
 * class instance included — as a plain object of its data properties, methods left behind (register a codec
 * extension and declare it in CodecExtensionTypes to keep a class). A function, symbol or promise becomes
 * NotSendable. Getters on a class are not told apart from data properties here, but do not cross.
 */
export type Received<T> =
  IsAny<T> extends true ? T : [T] extends [never] ? never : unknown extends T ? T : ReceivedEach<T>;

// One test per line, in order: the first that holds decides. Map and Set come before the weak collections, as
// they have every member those have.
// prettier-ignore
type ReceivedEach<T> =
  T extends Primitive ? T :
  T extends AnyFunction | AnyConstructor ? NotSendable<FunctionWhy> :
  T extends symbol ? NotSendable<SymbolWhy> :
  T extends ExtensionType ? T :
  T extends PromiseLike<unknown> ? NotSendable<PromiseWhy> :
  T extends Buffer ? Buffer :
  T extends SharedArrayBuffer ? ArrayBuffer :
  T extends CarriedWhole ? T :
  T extends AsyncIterable<unknown> ? RemoteStream<Received<StreamItem<T>>> :
  T extends ReadonlyMap<infer K, infer V> ? Map<Received<K>, Received<V>> :
  T extends ReadonlySet<infer V> ? Set<Received<V>> :
  T extends WeakMap<object, unknown> | WeakSet<object> | WeakRefLike ? NotSendable<WeakWhy> :
  T extends readonly unknown[] ? { -readonly [I in keyof T]: Received<T[I]> } :
  T extends Error ? Error & DataOf<Omit<T, keyof Error>> :
  DataOf<T>;

/** An object's own data: string keys whose values are not functions (methods stay behind), each received. */
type DataOf<T> = {
  -readonly [K in keyof T as K extends string | number ? (T[K] extends AnyFunction ? never : K) : never]: Received<
    T[K]
  >;
};

/**
 * What a parameter of type P accepts as an argument: P itself, except where a value cannot cross — a function
 * (as the argument itself, or as an item of an array, Map or Set), a symbol, a promise, a WeakMap… — which is
 * NotSendable there, so passing one does not compile. A function-valued property of an object is taken as a
 * method, which stays behind as a class's methods do (an object's own function property still fails at run time
 * with an EncodeError naming it). An AbortSignal passes: put it last to make a call cancellable.
 */
export type Sendable<P> = IsAny<P> extends true ? P : unknown extends P ? P : SendableEach<P>;

// As for ReceivedEach: the first test that holds decides.
// prettier-ignore
type SendableEach<P> =
  P extends Primitive | AbortSignal | CarriedWhole | SharedArrayBuffer | ExtensionType ? P :
  P extends AnyFunction | AnyConstructor ? NotSendable<FunctionWhy> :
  P extends symbol ? NotSendable<SymbolWhy> :
  P extends PromiseLike<unknown> ? NotSendable<PromiseWhy> :
  P extends AsyncIterable<unknown> | Error ? P :
  P extends Map<infer K, infer V> ? Map<Sendable<K>, Sendable<V>> :
  P extends ReadonlyMap<infer K, infer V> ? ReadonlyMap<Sendable<K>, Sendable<V>> :
  P extends Set<infer V> ? Set<Sendable<V>> :
  P extends ReadonlySet<infer V> ? ReadonlySet<Sendable<V>> :
  P extends WeakMap<object, unknown> | WeakSet<object> | WeakRefLike ? NotSendable<WeakWhy> :
  P extends readonly unknown[] ? { [I in keyof P]: Sendable<P[I]> } :
  { [K in keyof P]: P[K] extends AnyFunction ? P[K] : Sendable<P[K]> };

/** A parameter list with each parameter Sendable (optional and rest parameters stay so). */
export type SendableParameters<A extends readonly unknown[]> = { [I in keyof A]: Sendable<A[I]> };
