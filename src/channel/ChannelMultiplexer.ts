import { Emitter, Event } from '../common/event';
import { DisposableStore, type Disposable, supportUsing } from '../common/lifecycle';
import { reportTo, warnUnhandled } from '../common/warn';
import type { ReadBuffer } from '../buffer/ReadBuffer';
import type { WriteBuffer } from '../buffer/WriteBuffer';
import { AbstractChannel } from './AbstractChannel';
import { IN_ORDER, type Channel, type ChannelCloseEvent, type WriteOptions } from './Channel';
import { ChannelClosedError } from './errors';

// Every message on the base channel starts with a varint. 0 means a control message: a uint8 op, then its fields.
// Any other value v names a sub-channel: ref = v - 1, where ref = id * 2 + (opened by the sender ? 0 : 1), and
// the rest of the message is that sub-channel's message. Each side numbers the channels it opens itself, so the
// two sides never collide without having to agree on anything.
const CONTROL = 0;
const OP_OPEN = 1; // varint id (in the sender's numbering), string name
const OP_OPENED = 2; // varint id (in the receiver's numbering)
const OP_CLOSE = 3; // varint ref

/** The same sub-channel as the other side numbers it: the low bit says who opened it. (Refs exceed 32 bits.) */
function flip(ref: number): number {
  return ref % 2 === 0 ? ref + 1 : ref - 1;
}

/** A malformed multiplexer message: it is dropped and the others go on. */
export class MultiplexerProtocolError extends Error {
  override name = 'MultiplexerProtocolError';
}

export interface DidOpenChannelEvent {
  name: string;
  channel: Channel;
}

/** Named sub-channels over one channel. Both sides must wrap the base channel in a ChannelMultiplexer. */
export class ChannelMultiplexer implements Disposable {
  /** dispose(), for `using`. */
  declare readonly [Symbol.dispose]: () => void;
  private readonly opened = new Map<number, SubChannel>(); // opened here, by id
  private readonly accepted = new Map<number, SubChannel>(); // opened by the peer, by the peer's id
  private readonly pendingOpens = new Map<number, { resolve: (c: Channel) => void; reject: (e: Error) => void }>();
  private nextId = 0;
  // Everything this side holds: its emitters and its listeners on the base channel. Declared before the emitters,
  // which register with it as they are made; once disposed, the multiplexer is closed.
  private readonly store = new DisposableStore();
  private readonly didOpenEmitter = this.store.add(
    new Emitter<DidOpenChannelEvent>({ onListenerError: warnUnhandled }),
  );
  private readonly errorEmitter = this.store.add(new Emitter<Error>({ onListenerError: warnUnhandled }));

  /** Fires for each sub-channel the other side opens. Its messages are held until it has a message listener. */
  readonly onDidOpenChannel: Event<DidOpenChannelEvent> = this.didOpenEmitter.event;
  readonly onError: Event<Error> = this.errorEmitter.event;

  constructor(readonly base: Channel) {
    this.store.add(base.onMessage((provider) => this.receive(provider())));
    this.store.add(base.onClose((event) => this.closeAll(event)));
    this.store.add(base.onDrain(() => this.forEachSub((sub) => sub.drained())));
    if (base.isClosed) this.closeAll({ kind: 'local', reason: 'the base channel was already closed' });
  }

  /** Opens a sub-channel; resolves once the other side has it. What the other side sends first is held for it. */
  open(name: string): Promise<Channel> {
    if (this.base.isClosed) {
      return Promise.reject(new ChannelClosedError(`Cannot open '${name}': the base channel is closed`));
    }
    if (this.store.isDisposed) {
      // Nobody would be left here to hear the other side's answer: the open would never settle.
      return Promise.reject(new ChannelClosedError(`Cannot open '${name}': this multiplexer was disposed`));
    }
    const id = this.nextId++;
    const sub = new SubChannel(this, name, id * 2);
    this.opened.set(id, sub);
    return new Promise<Channel>((resolve, reject) => {
      this.pendingOpens.set(id, { resolve, reject });
      try {
        this.control(OP_OPEN).writeLength(id).writeString(name).commit();
      } catch (error) {
        this.opened.delete(id);
        this.pendingOpens.delete(id);
        reject(error);
      }
    });
  }

  /** Sub-channels open now, both directions. */
  get channelCount(): number {
    return this.opened.size + this.accepted.size;
  }

  /** Closes every sub-channel and stops listening to the base channel, which stays open. */
  dispose(): void {
    this.closeAll({ kind: 'local', reason: 'the multiplexer was disposed' });
  }

  /** @internal */
  writeBufferFor(ref: number, options?: WriteOptions): WriteBuffer {
    return this.base.getWriteBuffer(options).writeLength(ref + 1);
  }

  /** @internal Called by a sub-channel closing on this side. */
  closed(sub: SubChannel): void {
    this.forget(sub.ref);
    if (!this.base.isClosed && !this.store.isDisposed) this.sendClose(sub.ref);
  }

  /** Tells the other side a sub-channel closed; a base channel on its way out has nobody left to tell. */
  private sendClose(ref: number): void {
    try {
      // In order: the close must not pass the sub-channel's last data (a large message still under way).
      this.control(OP_CLOSE, IN_ORDER).writeLength(ref).commit();
    } catch {
      // The base channel is closing: its own close reaches every sub-channel.
    }
  }

  /** A control message of `op`, its fields still to write. */
  private control(op: number, options?: WriteOptions): WriteBuffer {
    return this.base.getWriteBuffer(options).writeLength(CONTROL).writeUint8(op);
  }

  /** @internal */
  get baseNeedsDrain(): boolean {
    return this.base.needsDrain;
  }

  private receive(reader: ReadBuffer): void {
    try {
      const head = reader.readLength();
      if (head !== CONTROL) {
        // ref as the sender numbers it: flip the low bit to find it in ours.
        const sub = this.lookup(flip(head - 1));
        // A message for a sub-channel closed here a moment ago is expected; drop it quietly.
        // readRaw, not sliceAtReadPosition(): the ReadBuffer contract's plain read, whatever reader a base gives.
        sub?.deliver(reader.readRaw(reader.remaining));
        return;
      }
      const op = reader.readUint8();
      switch (op) {
        case OP_OPEN: {
          const id = reader.readLength();
          const name = reader.readString();
          if (this.accepted.has(id)) throw new MultiplexerProtocolError(`The peer opened sub-channel ${id} twice`);
          const sub = new SubChannel(this, name, id * 2 + 1);
          try {
            this.control(OP_OPENED).writeLength(id).commit();
          } catch {
            return; // the base channel is closing: the opener's open() is rejected by its own close
          }
          this.accepted.set(id, sub);
          this.didOpenEmitter.fire({ name, channel: sub });
          break;
        }
        case OP_OPENED: {
          const id = reader.readLength();
          const pending = this.pendingOpens.get(id);
          const sub = this.opened.get(id);
          this.pendingOpens.delete(id);
          if (pending && sub) pending.resolve(sub);
          break;
        }
        case OP_CLOSE: {
          const ref = flip(reader.readLength());
          const sub = this.lookup(ref);
          if (sub) {
            this.forget(ref);
            sub.closedByPeer();
          }
          break;
        }
        default:
          throw new MultiplexerProtocolError(`Unknown multiplexer control op ${op}`);
      }
    } catch (error) {
      const reported =
        error instanceof MultiplexerProtocolError
          ? error
          : new MultiplexerProtocolError(`Dropped a malformed multiplexer message: ${(error as Error).message}`);
      reportTo(this.errorEmitter, reported);
    }
  }

  private lookup(ref: number): SubChannel | undefined {
    const id = Math.floor(ref / 2);
    return ref % 2 === 0 ? this.opened.get(id) : this.accepted.get(id);
  }

  private forget(ref: number): void {
    const id = Math.floor(ref / 2);
    if (ref % 2 === 0) {
      this.opened.delete(id);
      const pending = this.pendingOpens.get(id);
      this.pendingOpens.delete(id);
      pending?.reject(new ChannelClosedError('The sub-channel was closed before the other side opened it'));
    } else {
      this.accepted.delete(id);
    }
  }

  private forEachSub(action: (sub: SubChannel) => void): void {
    for (const sub of [...this.opened.values(), ...this.accepted.values()]) action(sub);
  }

  private closeAll(event: ChannelCloseEvent): void {
    if (this.store.isDisposed) return;
    // First, so nothing more is heard from the base channel and a sub-channel's close listener that disposes the
    // multiplexer again finds it closed.
    this.store.dispose();
    const pending = [...this.pendingOpens.values()];
    this.pendingOpens.clear();
    for (const { reject } of pending) {
      reject(new ChannelClosedError(`The base channel closed before the sub-channel opened: ${event.reason}`));
    }
    const subs = [...this.opened.values(), ...this.accepted.values()];
    if (!this.base.isClosed) for (const sub of subs) this.sendClose(sub.ref);
    this.opened.clear();
    this.accepted.clear();
    for (const sub of subs) sub.baseClosed(event);
  }
}

class SubChannel extends AbstractChannel {
  // Messages that arrive before anyone listens are held by AbstractChannel: the opener cannot listen before
  // open() resolves, and by then the other side may already have sent on the channel.
  constructor(
    private readonly mux: ChannelMultiplexer,
    readonly name: string,
    readonly ref: number,
  ) {
    super();
  }

  override get needsDrain(): boolean {
    return this.mux.baseNeedsDrain;
  }

  getWriteBuffer(options?: WriteOptions): WriteBuffer {
    if (this.isClosed) throw new ChannelClosedError(`Sub-channel '${this.name}' is closed`);
    return this.mux.writeBufferFor(this.ref, options);
  }

  protected doClose(): void {
    this.mux.closed(this);
  }

  deliver(bytes: Uint8Array): void {
    this.fireMessage(bytes);
  }

  drained(): void {
    this.fireDrain();
  }

  closedByPeer(): void {
    this.fireClose({ kind: 'remote', reason: `the other side closed sub-channel '${this.name}'` });
  }

  baseClosed(event: ChannelCloseEvent): void {
    this.fireClose({ ...event, reason: `the base channel closed: ${event.reason}` });
  }
}

supportUsing(ChannelMultiplexer.prototype);
