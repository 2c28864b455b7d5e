import type { DomMessagePort, MessageEventMain, MessagePortMain } from './types';

/** A web MessagePort's listener: gets the event, whose `data` is the message. */
type DomListener = (event: Event) => void;

/**
 * A web MessagePort (a renderer's, or one of Node's global MessageChannel) in the shape of Electron's
 * MessagePortMain, so that one channel serves both: its listeners get `{ data, ports }` either way.
 */
export function asMessagePortMain(port: DomMessagePort): MessagePortMain {
  const wrapped = new Map<(event: MessageEventMain) => void, DomListener>();
  return {
    postMessage: (message) => port.postMessage(message),
    start: () => port.start(),
    close: () => port.close(),
    on(type: 'message' | 'close', listener: (event: MessageEventMain) => void): void {
      const domListener: DomListener = (event) => {
        const { data, ports } = event as Event & { data?: unknown; ports?: readonly MessagePortMain[] };
        listener({ data, ports: ports ?? [] });
      };
      wrapped.set(listener, domListener);
      port.addEventListener(type, domListener);
    },
    removeListener(type: 'message' | 'close', listener: (event: MessageEventMain) => void): void {
      const domListener = wrapped.get(listener);
      if (domListener === undefined) return;
      wrapped.delete(listener);
      port.removeEventListener(type, domListener);
    },
  };
}
