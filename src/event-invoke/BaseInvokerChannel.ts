import { EventEmitter } from 'events';

/**
 * The base for a custom transport an Invoker runs over (PM2's bus, a socket, a window's postMessage): override
 * `send` to deliver a packet to the callee's side, and emit `'message'` with each packet that arrives. The Invoker
 * calls only while `connected` is true, and `destroy()` of the Invoker calls `disconnect()` and `destroy()` here.
 *
 * As is, `send` emits the packet on this same emitter, so an Invoker and a Callee sharing one instance talk to
 * each other in memory.
 */
export class BaseInvokerChannel extends EventEmitter {
  // An accessor, not a field: a subclass may compute `connected` with a getter of its own (a field defined here
  // would shadow it on every instance), or set it in connect() as event-invoke's examples do.
  #connected = false;

  get connected(): boolean {
    return this.#connected;
  }

  set connected(value: boolean) {
    this.#connected = value;
  }

  send(...args: unknown[]): void {
    this.emit('message', ...args);
  }

  connect(): void {
    this.connected = true;
  }

  disconnect(): void {
    this.connected = false;
  }

  /** Releases what the subclass holds (listeners on the real transport). */
  destroy(): void {}
}
