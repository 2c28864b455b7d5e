import type { MessagePort } from 'worker_threads';
import type { WriteBuffer } from '../buffer/WriteBuffer';
import { AbstractChannel } from './AbstractChannel';

/**
 * Messages at least this large move to the other thread by transferring their memory instead of copying it.
 * Below it, a structured-clone copy is cheaper than detaching and re-creating an ArrayBuffer.
 */
const TRANSFER_FROM = 64 * 1024;

/** Node keeps small Buffers in shared 8 KiB pools; only a message that owns its ArrayBuffer may give it away. */
function ownsItsMemory(bytes: Uint8Array): boolean {
  return bytes.buffer.byteLength > 8192 && bytes.buffer.byteLength <= bytes.byteLength * 2;
}

/**
 * A channel over a worker_threads MessagePort (either end of a MessageChannel, or parentPort). A large committed
 * message is handed over by transferring its ArrayBuffer: the write buffer gives it up at commit(), so nothing
 * is copied. Closing either side closes the port, and the other side sees onClose.
 */
export class MessagePortChannel extends AbstractChannel {
  private readonly detach: () => void;

  constructor(private readonly port: MessagePort) {
    super();
    const onMessage = (message: unknown) => {
      if (message instanceof Uint8Array) this.fireMessage(message);
    };
    const onClose = () => {
      this.detach();
      this.fireClose({ kind: 'remote', reason: 'the other side closed the message port' });
    };
    port.on('message', onMessage);
    port.on('close', onClose);
    this.detach = () => {
      port.off('message', onMessage);
      port.off('close', onClose);
    };
  }

  getWriteBuffer(): WriteBuffer {
    return this.messageBuffer(this.postBytes);
  }

  private readonly postBytes = (bytes: Uint8Array) => {
    if (bytes.byteLength >= TRANSFER_FROM && ownsItsMemory(bytes)) {
      this.port.postMessage(bytes, [bytes.buffer as ArrayBuffer]);
    } else {
      this.port.postMessage(bytes);
    }
  };

  protected doClose(): void {
    this.detach();
    this.port.close();
  }
}
