export { Emitter, Event, type EmitterOptions } from './event';
export { DisposableStore, toDisposable, type Disposable } from './lifecycle';
export { ListenerError, MessageTooLargeError } from './errors';
