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
  /** Whether calls may go out; false until connect(). */
  declare connected: boolean;

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

// `connected` is typed as a property, as event-invoke declares it, so a TypeScript subclass may make it a field;
// it is an accessor on the prototype rather than a field on each instance, so that a JavaScript subclass may also
// compute it with a getter of its own (a field defined here would shadow that getter on every instance).
const connectedState = new WeakMap<BaseInvokerChannel, boolean>();
Object.defineProperty(BaseInvokerChannel.prototype, 'connected', {
  get(this: BaseInvokerChannel): boolean {
    return connectedState.get(this) ?? false;
  },
  set(this: BaseInvokerChannel, value: boolean) {
    connectedState.set(this, value);
  },
  configurable: true,
});
