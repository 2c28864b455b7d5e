import { exactBytes, receivedBytes } from './bytes';

// A utility process's message stream is shared: the app posts its own messages (and MessagePortMains) on it too.
// So fdpipe's are tagged, and the rest is left to whoever else listens. The shape is MessageEndpointChannel's, so
// either kind of channel can be on the other end.
interface Envelope {
  fdpipe: 1;
  data?: Uint8Array;
  close?: true;
}

export type Unwrapped = { kind: 'message'; bytes: Uint8Array } | { kind: 'close' } | { kind: 'not-ours' };

export function wrapBytes(bytes: Uint8Array): Envelope {
  return { fdpipe: 1, data: exactBytes(bytes) };
}

export const CLOSE_ENVELOPE: Readonly<Envelope> = Object.freeze({ fdpipe: 1, close: true });

export function unwrap(message: unknown): Unwrapped {
  if (typeof message !== 'object' || message === null || (message as Envelope).fdpipe !== 1) {
    return { kind: 'not-ours' };
  }
  const envelope = message as Envelope;
  if (envelope.close === true) return { kind: 'close' };
  const bytes = receivedBytes(envelope.data);
  return bytes ? { kind: 'message', bytes } : { kind: 'not-ours' };
}
