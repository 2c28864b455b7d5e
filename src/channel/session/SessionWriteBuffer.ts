import { AbstractWriteBuffer } from '../../buffer/AbstractWriteBuffer';
import { BufferCommittedError } from '../../buffer/errors';
import { DEFAULT_BUFFER_SIZE } from '../../buffer/Uint8ArrayWriteBuffer';
import { DATA } from './wire';

/**
 * A message of a session, written after the DATA tag: commit() hands over the whole frame, tag included, which the
 * session keeps for replay and sends as it is.
 */
export class SessionWriteBuffer extends AbstractWriteBuffer {
  private declare readonly send: (frame: Uint8Array) => void;

  constructor(send: (frame: Uint8Array) => void) {
    const memory = Buffer.allocUnsafe(DEFAULT_BUFFER_SIZE);
    memory[0] = DATA;
    super(memory, 1);
    this.send = send;
  }

  commit(): void {
    if (this.committed) throw new BufferCommittedError();
    this.committed = true;
    this.send(this.memory.subarray(0, this.pos));
  }
}
