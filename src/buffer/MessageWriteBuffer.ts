import { AbstractWriteBuffer } from './AbstractWriteBuffer';
import { BufferCommittedError } from './errors';
import { DEFAULT_BUFFER_SIZE } from './Uint8ArrayWriteBuffer';

/**
 * The write buffer of the channels that send whole messages (in memory, to a port, over Node's IPC): commit() hands
 * the message to one function fixed up front. A Uint8ArrayWriteBuffer with an onCommit listener would do the same,
 * but at the price of an Event subscription per message.
 */
export class MessageWriteBuffer extends AbstractWriteBuffer {
  private declare readonly send: (message: Uint8Array) => void;

  constructor(send: (message: Uint8Array) => void) {
    super(Buffer.allocUnsafe(DEFAULT_BUFFER_SIZE), 0);
    this.send = send;
  }

  commit(): void {
    if (this.committed) throw new BufferCommittedError();
    this.committed = true;
    this.send(this.memory.subarray(0, this.pos));
  }
}
