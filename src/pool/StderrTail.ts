/** The last `limit` bytes a worker wrote to stderr, for the error that reports its death. */
export class StderrTail {
  private chunks: Buffer[] = [];
  private size = 0;

  constructor(private readonly limit = 4096) {}

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.size += chunk.length;
    while (this.size - this.chunks[0].length >= this.limit) this.size -= this.chunks.shift()!.length;
  }

  toString(): string {
    const all = Buffer.concat(this.chunks);
    const text = all.subarray(Math.max(0, all.length - this.limit)).toString('utf8');
    // A cut at the front may split a line, or a character: start at the next whole line.
    const firstBreak = all.length > this.limit ? text.indexOf('\n') : -1;
    return firstBreak >= 0 ? text.slice(firstBreak + 1) : text;
  }
}
