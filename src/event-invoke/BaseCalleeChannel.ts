import { EventEmitter } from 'events';

/**
 * The base for a custom transport a Callee serves over: override `send` to deliver a reply packet to the
 * invoker's side, and emit `'message'` with each packet that arrives (and `'error'` for transport failures, which
 * go to the Callee's onError). `destroy()` of the Callee calls `destroy()` here.
 *
 * As is, `send` emits the packet on this same emitter, so an Invoker and a Callee sharing one instance talk to
 * each other in memory.
 */
export class BaseCalleeChannel extends EventEmitter {
  send(...args: unknown[]): void {
    this.emit('message', ...args);
  }

  /** Releases what the subclass holds (listeners on the real transport). */
  destroy(): void {}
}
