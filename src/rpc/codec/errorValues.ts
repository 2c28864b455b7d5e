// Errors cross as name, message and stack, then every own property (code, cause, errno, custom fields...) with
// its enumerability, so the copy looks like the original to a debugger and to code that checks `err.code`.

import { types } from 'util';

// Rebuilt as their own class, so `instanceof TypeError` still works on the other side. Looked up in a Map: a name
// from the wire must never reach a property lookup on an object with a prototype.
const BUILT_IN_ERRORS = new Map<string, ErrorConstructor>(
  [Error, EvalError, RangeError, ReferenceError, SyntaxError, TypeError, URIError].map((ctor) => [ctor.name, ctor]),
);
const BUILT_IN_NAMES = new Set<string>([...BUILT_IN_ERRORS.keys(), 'AggregateError']);

/**
 * Whether `value` is an error, from this realm or another (a vm context; under Jest, Node's own errors): native
 * errors, and objects with any realm's Error.prototype in their chain (DOMException, for one, is no native error).
 */
export function isError(value: object): value is Error {
  if (value instanceof Error || types.isNativeError(value)) return true;
  for (let proto = Object.getPrototypeOf(value); proto !== null; proto = Object.getPrototypeOf(proto)) {
    if (isErrorPrototype(proto)) return true;
  }
  return false;
}

function isErrorPrototype(proto: object): boolean {
  return builtInPrototypeName(proto) === 'Error';
}

/** 'TypeError' for TypeError.prototype of any realm, and so on; undefined for any other object. */
function builtInPrototypeName(proto: object): string | undefined {
  const own = (key: string) => Object.getOwnPropertyDescriptor(proto, key)?.value;
  const name = own('name');
  const ctor = own('constructor');
  const isBuiltIn =
    typeof name === 'string' &&
    BUILT_IN_NAMES.has(name) &&
    typeof ctor === 'function' &&
    ctor.name === name &&
    ctor.prototype === proto;
  return isBuiltIn ? name : undefined;
}

/**
 * The name an error travels under: its `name`, except that a subclass which never set one (`class HttpError
 * extends Error {}`, whose `name` is inherited from Error.prototype) travels under its constructor's name, so it
 * arrives as an HttpError rather than as an anonymous Error.
 */
export function errorName(error: Error): string {
  const name = (error as { name?: unknown }).name;
  let owner: object | null = error;
  while (owner !== null && !Object.prototype.hasOwnProperty.call(owner, 'name')) owner = Object.getPrototypeOf(owner);
  if (owner !== null && builtInPrototypeName(owner) !== undefined) {
    const ctor = (error as { constructor?: unknown }).constructor;
    const ctorName = typeof ctor === 'function' ? ctor.name : undefined;
    if (typeof ctorName === 'string' && ctorName !== '' && ctorName !== name) return ctorName;
  }
  return typeof name === 'string' ? name : String(name);
}

export function errorMessage(error: Error): string {
  const message = (error as { message?: unknown }).message;
  return typeof message === 'string' ? message : message === undefined ? '' : String(message);
}

/**
 * Own string-keyed properties to carry besides name, message and stack, which have slots of their own; and `code`
 * when a class provides it through its prototype (DOMException does), since callers test it like an own one.
 */
export function errorPropertyKeys(error: Error): string[] {
  const keys = Object.getOwnPropertyNames(error);
  let kept = 0;
  for (const key of keys) if (key !== 'stack' && key !== 'message') keys[kept++] = key;
  keys.length = kept;
  if (!Object.prototype.hasOwnProperty.call(error, 'code') && (error as { code?: unknown }).code !== undefined) {
    keys.push('code');
  }
  return keys;
}

export function isEnumerable(error: Error, key: string): boolean {
  return Object.prototype.propertyIsEnumerable.call(error, key);
}

/**
 * A real Error (so util.types.isNativeError and instanceof hold) of the class the name stands for, or a plain Error
 * carrying the name as an own property. Its stack is replaced right after, so none is captured here.
 */
export function rebuildError(name: string, message: string): Error {
  const ctor = BUILT_IN_ERRORS.get(name);
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  let error: Error;
  try {
    error = name === 'AggregateError' ? new AggregateError([], message) : new (ctor ?? Error)(message);
  } finally {
    Error.stackTraceLimit = limit;
  }
  if (error.name !== name) defineHidden(error, 'name', name);
  return error;
}

/** Like an assignment, but never a setter call: a key named `__proto__` becomes an own property. */
export function defineErrorProperty(error: Error, key: string, value: unknown, enumerable: boolean): void {
  Object.defineProperty(error, key, { value, enumerable, writable: true, configurable: true });
}

export function defineHidden(error: Error, key: string, value: unknown): void {
  defineErrorProperty(error, key, value, false);
}
