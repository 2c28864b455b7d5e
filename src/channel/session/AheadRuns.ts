/**
 * The numbers of the messages that came out of turn, ahead of the next one expected, kept as runs of consecutive
 * numbers. A well-behaved peer's messages pass only its large messages still on their way, so however many
 * messages are held here they make a few runs: one hole for each large message. A peer that leaves more holes
 * than `maxHoles` is refused (add() says so), so what it can make this side hold stays bounded.
 */
export class AheadRuns {
  /** Run i is starts[i]..ends[i], both included; runs are sorted, and apart by at least one missing number. */
  private readonly starts: number[] = [];
  private readonly ends: number[] = [];

  constructor(readonly maxHoles: number) {}

  get isEmpty(): boolean {
    return this.starts.length === 0;
  }

  /**
   * Notes `n` as come. 'known' if it had come already; 'refused' if holding it would leave more than maxHoles
   * holes (nothing is noted then).
   */
  add(n: number): 'added' | 'known' | 'refused' {
    const { starts, ends } = this;
    // The first run that ends at or after n - 1: the only one n can join or lie in.
    let low = 0;
    let high = ends.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (ends[mid] < n - 1) low = mid + 1;
      else high = mid;
    }
    const i = low;
    if (i < starts.length && starts[i] <= n && n <= ends[i]) return 'known';
    const joinsBefore = i < starts.length && ends[i] === n - 1;
    const next = joinsBefore ? i + 1 : i;
    const joinsAfter = next < starts.length && starts[next] === n + 1;
    if (joinsBefore && joinsAfter) {
      ends[i] = ends[i + 1];
      starts.splice(i + 1, 1);
      ends.splice(i + 1, 1);
    } else if (joinsBefore) {
      ends[i] = n;
    } else if (joinsAfter) {
      starts[i] = n;
    } else {
      // A run of its own: one more hole, before it.
      if (starts.length >= this.maxHoles) return 'refused';
      starts.splice(i, 0, n);
      ends.splice(i, 0, n);
    }
    return 'added';
  }

  /** `n` has just come in turn: a run that starts right after it is taken out, and its end returned. */
  takeRunAfter(n: number): number | undefined {
    if (this.starts.length === 0 || this.starts[0] !== n + 1) return undefined;
    const end = this.ends[0];
    this.starts.shift();
    this.ends.shift();
    return end;
  }
}
