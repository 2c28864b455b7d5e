import type { Writable } from 'stream';

/** Frames below this size are copied into one batch per flush; larger ones are written as they are. */
const COPY_BELOW = 16 * 1024;

/**
 * Queues outgoing frames and writes them to the stream once per tick. Small frames sent in the same tick are
 * copied into a single chunk; large ones go by reference; everything of one flush is corked so the stream hands
 * it to the OS in one writev.
 */
export class FrameWriter {
  private queue: Uint8Array[] = [];
  private queuedBytes = 0;
  private smallBytes = 0;
  private scheduled = false;
  private stopped = false;
  private readonly flushBound = () => this.flush();

  constructor(private readonly stream: Writable) {}

  /** Bytes accepted but not yet handed to the stream. */
  get pending(): number {
    return this.queuedBytes;
  }

  /** Queues chunks that together form one or more whole frames, in order. */
  enqueue(chunk: Uint8Array): void {
    this.queue.push(chunk);
    this.queuedBytes += chunk.byteLength;
    if (chunk.byteLength < COPY_BELOW) this.smallBytes += chunk.byteLength;
    if (!this.scheduled) {
      this.scheduled = true;
      process.nextTick(this.flushBound);
    }
  }

  /** Drops whatever is queued; used when the stream is gone. */
  stop(): void {
    this.stopped = true;
    this.queue = [];
    this.queuedBytes = 0;
    this.smallBytes = 0;
  }

  /** Writes everything queued now. */
  flush(): void {
    this.scheduled = false;
    if (this.stopped || this.queue.length === 0) return;
    const queue = this.queue;
    const smallBytes = this.smallBytes;
    this.queue = [];
    this.queuedBytes = 0;
    this.smallBytes = 0;
    const stream = this.stream;
    if (queue.length === 1) {
      stream.write(queue[0]);
      return;
    }

    stream.cork();
    let batch = smallBytes > 0 ? Buffer.allocUnsafe(smallBytes) : undefined;
    let batchStart = 0;
    let batchEnd = 0;
    for (const chunk of queue) {
      if (chunk.byteLength < COPY_BELOW) {
        batch!.set(chunk, batchEnd);
        batchEnd += chunk.byteLength;
        continue;
      }
      if (batchEnd > batchStart) {
        stream.write(batch!.subarray(batchStart, batchEnd));
        batchStart = batchEnd;
      }
      stream.write(chunk);
    }
    if (batchEnd > batchStart) stream.write(batch!.subarray(batchStart, batchEnd));
    batch = undefined;
    stream.uncork();
  }
}
