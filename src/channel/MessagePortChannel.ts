import type { MessagePort } from 'worker_threads';
import type { WriteBuffer } from '../buffer/WriteBuffer';
import { flushAtExit, flushed } from '../common/exitFlush';
import { toDisposable, type Disposable } from '../common/lifecycle';
import { AbstractChannel } from './AbstractChannel';

/**
 * Messages at least this large move to the other thread by transferring their memory instead of copying it.
 * Below it, a copy is cheaper than detaching and re-creating an ArrayBuffer.
 */
const TRANSFER_FROM = 64 * 1024;

/** Node keeps small Buffers in shared 8 KiB pools; only a message that owns its ArrayBuffer may give it away. */
function ownsItsMemory(bytes: Uint8Array): boolean {
  return bytes.buffer.byteLength > 8192 && bytes.buffer.byteLength <= bytes.byteLength * 2;
}

/**
 * A channel over a worker_threads MessagePort (either end of a MessageChannel, or parentPort).
 *
 * The messages committed in one tick cross in one postMessage, as an array: each postMessage costs far more than
 * a small message. A small message is posted as an exact copy — posting a view would clone its whole underlying
 * ArrayBuffer, a shared pool that holds other data. A large one is handed over by transferring its ArrayBuffer:
 * the write buffer gives it up at commit(), so nothing is copied. Closing either side closes the port, and the
 * other side sees onClose.
 */
export class MessagePortChannel extends AbstractChannel {
  private readonly detach: Disposable;
  private outbox: Uint8Array[] = [];
  private transfers: ArrayBuffer[] = [];
  private outboxScheduled = false;

  constructor(private readonly port: MessagePort) {
    super();
    const onMessage = (message: unknown) => {
      if (Array.isArray(message)) {
        for (const item of message) if (item instanceof Uint8Array) this.fireMessage(item);
      } else if (message instanceof Uint8Array) {
        this.fireMessage(message);
      }
    };
    const onClose = () => {
      this.detach.dispose();
      this.fireClose({ kind: 'remote', reason: 'the other side closed the message port' });
    };
    port.on('message', onMessage);
    port.on('close', onClose);
    this.detach = this.register(
      toDisposable(() => {
        port.off('message', onMessage);
        port.off('close', onClose);
      }),
    );
  }

  getWriteBuffer(): WriteBuffer {
    return this.messageBuffer(this.postBytes);
  }

  private readonly postBytes = (bytes: Uint8Array) => {
    if (bytes.byteLength >= TRANSFER_FROM && ownsItsMemory(bytes)) {
      this.outbox.push(bytes);
      this.transfers.push(bytes.buffer as ArrayBuffer);
    } else {
      this.outbox.push(Uint8Array.prototype.slice.call(bytes));
    }
    if (!this.outboxScheduled) {
      this.outboxScheduled = true;
      process.nextTick(this.flushOutbox);
      flushAtExit(this.flushOutbox);
    }
  };

  private readonly flushOutbox = () => {
    this.outboxScheduled = false;
    flushed(this.flushOutbox);
    const outbox = this.outbox;
    if (outbox.length === 0) return;
    const transfers = this.transfers;
    this.outbox = [];
    this.transfers = [];
    this.port.postMessage(outbox.length === 1 ? outbox[0] : outbox, transfers);
  };

  protected doClose(): void {
    this.flushOutbox();
    this.detach.dispose();
    this.port.close();
  }
}
