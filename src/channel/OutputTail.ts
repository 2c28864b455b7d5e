import type { Readable } from 'stream';
import { StringDecoder } from 'string_decoder';
import type { Disposable } from '../common/lifecycle';

/**
 * The last lines a child wrote to a piped stream (its stderr), kept so that an error about the child's death can
 * say why it died. Bounded: at most `maxLines` lines and `maxChars` characters, however much the child writes.
 *
 * Reading the stream puts it in flowing mode: a listener attached later misses what came before (attach yours in
 * the same tick as the fork to see all of it), and a child writing to a pipe nobody reads can no longer block.
 */
export class OutputTail implements Disposable {
  private text = '';
  private readonly decoder = new StringDecoder('utf8');
  private done = false;
  /** Text was dropped from the front: the first kept line may be a part of one. */
  private cut = false;
  private readonly waiters: Array<() => void> = [];

  constructor(
    private readonly stream: Readable,
    private readonly maxLines = 20,
    private readonly maxChars = 8 * 1024,
  ) {
    stream.on('data', this.onData);
    stream.once('end', this.onEnd);
    stream.once('close', this.onEnd);
  }

  /** The stream has ended: everything the child wrote is in. */
  get ended(): boolean {
    return this.done;
  }

  /** The kept lines, without a trailing newline; '' when the child wrote nothing. */
  get lines(): string {
    const lines = this.text.replace(/\s+$/, '').split('\n');
    if (this.cut && lines.length > 1) lines.shift();
    return lines.slice(-this.maxLines).join('\n');
  }

  /** Calls `then` once the stream has ended (at once if it has). */
  whenEnded(then: () => void): void {
    if (this.done) then();
    else this.waiters.push(then);
  }

  dispose(): void {
    this.stream.off('data', this.onData);
    this.stream.off('end', this.onEnd);
    this.stream.off('close', this.onEnd);
    this.waiters.length = 0;
  }

  private readonly onData = (chunk: Buffer | string) => {
    const text = this.text + (typeof chunk === 'string' ? chunk : this.decoder.write(chunk));
    if (text.length > this.maxChars) {
      this.text = text.slice(-this.maxChars);
      this.cut = true;
    } else {
      this.text = text;
    }
  };

  private readonly onEnd = () => {
    if (this.done) return;
    this.done = true;
    for (const waiter of this.waiters.splice(0)) waiter();
  };
}
