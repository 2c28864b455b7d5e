/** A call this side made, under the `_seq` it went out with. */
export interface SentCall {
  /** The RPC core's id for it. */
  readonly id: number;
  readonly name: string;
  readonly cancellable: boolean;
}

/** A call this side serves, under the id the RPC core knows it by: what its reply must echo. */
export interface ServedCall {
  readonly seq: unknown;
  readonly name: unknown;
  /** The sender's id, when an fdpipe invoker sent it. */
  readonly from: string | undefined;
  /** Where a cancel finds it, when the sender can cancel. */
  readonly cancelKey: string | undefined;
}

const MAX_ID = 0x7fffffff;

// One counter for the process, not per channel: two Invokers on two custom channels over one bus then never send
// the same _seq, even to an event-invoke callee, which echoes only _seq and name.
let lastSeq = 0;

/** The calls this side made and waits for, by `_seq` and by the core's id, each gone once it settles. */
export class SentCalls {
  private readonly bySeq = new Map<number, SentCall>();
  private readonly seqById = new Map<number, number>();

  /** Keeps `call` under a new `_seq`, which it returns. */
  add(call: SentCall): number {
    if (this.bySeq.size >= MAX_ID) throw new RangeError('Every _seq is in use by a pending call');
    let seq = lastSeq;
    do {
      seq = seq >= MAX_ID ? 1 : seq + 1;
    } while (this.bySeq.has(seq));
    lastSeq = seq;
    this.bySeq.set(seq, call);
    this.seqById.set(call.id, seq);
    return seq;
  }

  get(seq: number): SentCall | undefined {
    return this.bySeq.get(seq);
  }

  seqOf(id: number): number | undefined {
    return this.seqById.get(id);
  }

  delete(seq: number): void {
    const call = this.bySeq.get(seq);
    if (!call) return;
    this.bySeq.delete(seq);
    this.seqById.delete(call.id);
  }

  /** Empties the map, handing each call and its `_seq` to `each` first. */
  drain(each: (seq: number, call: SentCall) => void): void {
    const entries = [...this.bySeq];
    this.clear();
    for (const [seq, call] of entries) each(seq, call);
  }

  clear(): void {
    this.bySeq.clear();
    this.seqById.clear();
  }
}

/** The calls this side serves, by the id they have in the core, and the cancellable ones by sender and `_seq`. */
export class ServedCalls {
  private readonly byId = new Map<number, ServedCall>();
  private readonly idByCancelKey = new Map<string, number>();
  private lastId = 0;

  /** Keeps a call, under a core id unique among those served now, which it returns. */
  add(seq: unknown, name: unknown, from: string | undefined, cancellable: boolean): { id: number; call: ServedCall } {
    if (this.byId.size >= MAX_ID) throw new RangeError('Every id is in use by a call being served');
    let id = this.lastId;
    do {
      id = id >= MAX_ID ? 1 : id + 1;
    } while (this.byId.has(id));
    this.lastId = id;
    const cancelKey = cancellable && from !== undefined ? cancelKeyOf(from, seq) : undefined;
    const call: ServedCall = { seq, name, from, cancelKey };
    this.byId.set(id, call);
    if (cancelKey !== undefined) this.idByCancelKey.set(cancelKey, id);
    return { id, call };
  }

  get(id: number): ServedCall | undefined {
    return this.byId.get(id);
  }

  /** The id of the call `from` sent as `seq`, if it is served here and can be cancelled. */
  idToCancel(from: string, seq: unknown): number | undefined {
    return this.idByCancelKey.get(cancelKeyOf(from, seq));
  }

  delete(id: number): void {
    const call = this.byId.get(id);
    if (!call) return;
    this.byId.delete(id);
    if (call.cancelKey !== undefined && this.idByCancelKey.get(call.cancelKey) === id) {
      this.idByCancelKey.delete(call.cancelKey);
    }
  }

  /** Empties the map, handing each call to `each` first. */
  drain(each: (call: ServedCall) => void): void {
    const calls = [...this.byId.values()];
    this.clear();
    for (const call of calls) each(call);
  }

  clear(): void {
    this.byId.clear();
    this.idByCancelKey.clear();
  }
}

function cancelKeyOf(from: string, seq: unknown): string {
  return `${from}\u0000${String(seq)}`;
}
