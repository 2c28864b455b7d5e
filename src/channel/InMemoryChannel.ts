import type { WriteBuffer } from '../buffer/WriteBuffer';
import { AbstractChannel } from './AbstractChannel';

/**
 * One end of a pair of channels joined in memory: a committed message reaches the other end on a later turn of the
 * event loop,
 * in order, with no copy. For tests, and for services that run in the same process as their callers.
 */
export class InMemoryChannel extends AbstractChannel {
  private peer: InMemoryChannel | undefined;
  private inbox: Array<Uint8Array | 'end'> = [];
  private deliveryScheduled = false;

  /** Two channels, each delivering to the other. */
  static createPair(): [InMemoryChannel, InMemoryChannel] {
    const a = new InMemoryChannel();
    const b = new InMemoryChannel();
    a.peer = b;
    b.peer = a;
    return [a, b];
  }

  private constructor() {
    super();
  }

  getWriteBuffer(): WriteBuffer {
    return this.messageBuffer(this.deliverToPeer);
  }

  private readonly deliverToPeer = (bytes: Uint8Array) => this.peer?.receive(bytes);

  protected doClose(): void {
    const peer = this.peer;
    this.peer = undefined;
    peer?.receive('end');
  }

  private receive(item: Uint8Array | 'end'): void {
    this.inbox.push(item);
    if (this.deliveryScheduled) return;
    this.deliveryScheduled = true;
    // setImmediate, not nextTick: a busy pair must leave the event loop room for timers and I/O, as a socket does.
    setImmediate(() => this.deliver());
  }

  private deliver(): void {
    this.deliveryScheduled = false;
    const inbox = this.inbox;
    this.inbox = [];
    for (const item of inbox) {
      if (this.isClosed) return;
      if (item === 'end') {
        this.peer = undefined;
        this.fireClose({ kind: 'remote', reason: 'the other side closed the channel' });
      } else {
        this.fireMessage(item);
      }
    }
  }
}
