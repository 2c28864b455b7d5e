import { AbstractWriteBuffer } from '../../buffer/AbstractWriteBuffer';
import { BufferCommittedError } from '../../buffer/errors';
import { DEFAULT_BUFFER_SIZE } from '../../buffer/Uint8ArrayWriteBuffer';
import { DATA, DATA_HEADER_SIZE } from './wire';

/**
 * A message of a session, written after room for the DATA header: commit() hands over the whole frame, which the
 * session numbers, keeps for replay and sends as it is.
 */
export class SessionWriteBuffer extends AbstractWriteBuffer {
  private declare readonly send: (frame: Buffer) => void;

  constructor(send: (frame: Buffer) => void) {
    const memory = Buffer.allocUnsafe(DEFAULT_BUFFER_SIZE);
    memory[0] = DATA;
    super(memory, DATA_HEADER_SIZE);
    this.send = send;
  }

  /** The message's size: what the RPC core asks to know whether it may travel in fragments. */
  get size(): number {
    return this.pos - DATA_HEADER_SIZE;
  }

  commit(): void {
    if (this.committed) throw new BufferCommittedError();
    this.committed = true;
    this.send(this.memory.subarray(0, this.pos));
  }
}
