import { toDisposable, type Disposable } from '../common/lifecycle';
import type { WriteBuffer } from '../buffer/WriteBuffer';
import { AbstractChannel } from './AbstractChannel';

/**
 * A listener as an endpoint sees it: called with whatever the event carries. Node types its listeners' arguments
 * as `any`, which `unknown` accepts (where `never` did not); the channel checks every argument before using it.
 */
export type EndpointListener = (...args: unknown[]) => void;

/**
 * Anything with Node's IPC shape: a ChildProcess, or `process` in a forked child. The channel calls
 * `send(message, undefined, undefined, callback)`, the one form both are declared with (Node's types give
 * `process.send` no two-argument form).
 */
export interface SendingEndpoint {
  send?(message: unknown, sendHandle: undefined, options: undefined, callback: (error: Error | null) => void): unknown;
  on(event: string, listener: EndpointListener): unknown;
  off(event: string, listener: EndpointListener): unknown;
}

/** Anything with the postMessage shape: a worker_threads Worker, parentPort or MessagePort. */
export interface PostingEndpoint {
  postMessage(message: unknown): void;
  on(event: string, listener: EndpointListener): unknown;
  off(event: string, listener: EndpointListener): unknown;
}

export type MessageEndpoint = SendingEndpoint | PostingEndpoint;

// Messages of ours are tagged, so the endpoint can carry other traffic too. Node's IPC may be in 'json' mode,
// where a Uint8Array would arrive as an index-keyed object, so bytes travel there as base64; postMessage clones
// bytes natively.
interface EnvelopeMessage {
  fdpipe: 1;
  data?: Uint8Array | string;
  close?: true;
}

function isEnvelope(message: unknown): message is EnvelopeMessage {
  return typeof message === 'object' && message !== null && (message as EnvelopeMessage).fdpipe === 1;
}

/**
 * A channel over a message-event endpoint rather than a byte stream. Slower than IPCChannel — every message is
 * cloned by Node's IPC or by postMessage — but it lets code reach processes and threads that have no fd 4 pipe.
 */
export class MessageEndpointChannel extends AbstractChannel {
  private readonly post: (message: EnvelopeMessage) => void;
  private readonly usesBase64: boolean;
  private readonly detach: Disposable;

  constructor(endpoint: MessageEndpoint) {
    super();
    if (typeof (endpoint as PostingEndpoint).postMessage === 'function') {
      const poster = endpoint as PostingEndpoint;
      this.post = (message) => poster.postMessage(message);
      this.usesBase64 = false;
    } else if (typeof (endpoint as SendingEndpoint).send === 'function') {
      const sender = endpoint as SendingEndpoint;
      // With a callback, a failed send (EPIPE once the other side is gone) comes back here instead of being
      // emitted as an 'error' event that, unheard, would crash the process.
      const onSent = (error: Error | null) => {
        if (error) this.shutDown(`sending failed, the other side is gone: ${error.message}`);
      };
      // Node's send takes the callback second as well as fourth; an endpoint of the (message, callback) shape only second.
      this.post = (message) => (sender.send as unknown as (message: unknown, callback: typeof onSent) => unknown)(message, onSent);
      this.usesBase64 = true;
    } else {
      throw new TypeError(
        'The endpoint has neither send() nor postMessage(): pass a ChildProcess forked with an IPC channel, ' +
          '`process` in such a child, a worker_threads Worker, parentPort or a MessagePort',
      );
    }

    const onMessage = (message: unknown) => {
      if (!isEnvelope(message)) return;
      if (message.close) {
        this.shutDown('the other side closed the channel');
      } else if (typeof message.data === 'string') {
        this.fireMessage(Buffer.from(message.data, 'base64'));
      } else if (message.data instanceof Uint8Array) {
        this.fireMessage(message.data);
      }
    };
    const onGone = () => this.shutDown('the other side went away');
    endpoint.on('message', onMessage);
    endpoint.on('disconnect', onGone);
    endpoint.on('exit', onGone);
    endpoint.on('close', onGone);
    this.detach = this.register(
      toDisposable(() => {
        endpoint.off('message', onMessage);
        endpoint.off('disconnect', onGone);
        endpoint.off('exit', onGone);
        endpoint.off('close', onGone);
      }),
    );
  }

  getWriteBuffer(): WriteBuffer {
    return this.messageBuffer(this.postBytes);
  }

  private readonly postBytes = (bytes: Uint8Array) => {
    // postMessage would clone a view's whole ArrayBuffer — for a small message, a shared pool holding other data —
    // so it gets an exact copy.
    const data = this.usesBase64
      ? Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64')
      : Uint8Array.prototype.slice.call(bytes);
    this.post({ fdpipe: 1, data });
  };

  protected doClose(): void {
    this.detach.dispose();
    try {
      this.post({ fdpipe: 1, close: true });
    } catch {
      // The endpoint is already gone; there is nobody to tell.
    }
  }

  private shutDown(reason: string): void {
    if (this.isClosed) return;
    this.detach.dispose();
    this.fireClose({ kind: 'remote', reason });
  }
}
