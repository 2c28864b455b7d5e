import type { ChannelCloseEvent } from '../../../channel/Channel';
import type { ReadBuffer } from '../../../buffer/ReadBuffer';
import type { WriteBuffer } from '../../../buffer/WriteBuffer';
import { DecodeError, isStreamSource, type StreamScope } from '../../codec';
import { ConnectionClosedError, RpcProtocolError, StreamError } from '../../errors';
import { toCallerRejection } from '../../remoteError';
import type { ProtocolLink } from '../ProtocolLink';
import { IN_ORDER, MessageType } from '../wire';
import { RemoteStream } from './RemoteStream';
import { StreamInlet, type InletHost } from './StreamInlet';
import { StreamOutlet, type OutletHost } from './StreamOutlet';
import type { StreamWatcher } from './StreamWatcher';

/**
 * The streams of one connection, both ways: the scope its messages are encoded and decoded in (a stream value
 * becomes an id here), and the stream messages. Ids are the producer's; each side numbers the streams it sends.
 *
 * A message that carries streams tells this registry what became of it: the streams it took on are marked from
 * `outletMark`/`inletMark`, and `settleOutlets`/`settleInlets` either let them live (bound to the call's signal,
 * if any) or undo them (the message failed to encode or decode), so a stream nobody will hear of does not wait
 * forever.
 */
export class Streams implements StreamScope, InletHost, OutletHost {
  private readonly outlets = new Map<number, StreamOutlet>();
  private readonly inlets = new Map<number, StreamInlet>();
  private readonly newOutlets: StreamOutlet[] = [];
  private readonly newInlets: StreamInlet[] = [];
  /** A RemoteStream dropped unread (or half read) is collected: its producer is told to stop. */
  private readonly unreferenced = new FinalizationRegistry<StreamInlet>((inlet) => inlet.cancel());

  constructor(
    private readonly link: ProtocolLink,
    private readonly window: Readonly<Required<{ items: number; bytes: number }>>,
    /** The last id a previous protocol on this channel gave a stream: late messages for those must miss. */
    private lastId: number,
  ) {}

  get lastUsedId(): number {
    return this.lastId;
  }

  /** Streams this side produces and consumes now. */
  get counts(): { producing: number; consuming: number } {
    return { producing: this.outlets.size, consuming: this.inlets.size };
  }

  // ---- the codec's scope -------------------------------------------------------------------------------------

  sendStream(source: AsyncIterable<unknown>): number {
    const id = ++this.lastId;
    const outlet = new StreamOutlet(id, source, this);
    this.outlets.set(id, outlet);
    this.newOutlets.push(outlet);
    return id;
  }

  receiveStream(id: number): RemoteStream<unknown> {
    if (this.inlets.has(id)) throw new DecodeError(`stream id ${id} is already open on this connection`);
    const inlet = new StreamInlet(id, this, this.window);
    this.inlets.set(id, inlet);
    this.newInlets.push(inlet);
    const stream = new RemoteStream<unknown>(inlet);
    this.unreferenced.register(stream, inlet);
    return stream;
  }

  /** A stream source that will never be sent (its call was cancelled, the connection closed) is let go. */
  dropUnsent(value: unknown): void {
    if (isStreamSource(value)) new StreamOutlet(0, value, this).cancel();
  }

  /**
   * A message nobody waits for any more (a reply to a call that timed out or was aborted) may still carry streams:
   * their producers are told to stop. Reading it is how to find them; a message that fails to decode has none.
   */
  discardMessage(reader: ReadBuffer): void {
    if (this.link.closed) return;
    const mark = this.newInlets.length;
    try {
      this.link.codec.decode(reader, this);
    } catch {
      // Nobody to tell: the message was unwanted anyway.
    }
    this.settleInlets(mark, false);
  }

  get outletMark(): number {
    return this.newOutlets.length;
  }

  get inletMark(): number {
    return this.newInlets.length;
  }

  /**
   * The message that took on the outgoing streams from `mark` was sent (they go once asked for, and abort with
   * `signal`), or was not (they are forgotten, their sources untouched: the caller still has them). `watcher`
   * hears of those sent.
   */
  settleOutlets(mark: number, sent: boolean, signal?: AbortSignal, label?: string, watcher?: StreamWatcher): void {
    if (this.newOutlets.length === mark) return;
    const outlets = this.newOutlets.splice(mark);
    for (const outlet of outlets) {
      if (!sent) {
        this.outlets.delete(outlet.id);
        continue;
      }
      if (watcher) outlet.watch(watcher);
      if (signal) outlet.bindSignal(signal, label ?? 'the call');
    }
  }

  /**
   * The message that brought the incoming streams from `mark` was delivered (they end with `signal`), or could
   * not be (they are cancelled, so their producers stop). `watcher` hears of those delivered.
   */
  settleInlets(mark: number, delivered: boolean, signal?: AbortSignal, label?: string, watcher?: StreamWatcher): void {
    if (this.newInlets.length === mark) return;
    const inlets = this.newInlets.splice(mark);
    for (const inlet of inlets) {
      if (!delivered) {
        inlet.cancel();
        continue;
      }
      if (watcher) inlet.watch(watcher);
      if (signal) inlet.bindSignal(signal, label ?? 'the call');
    }
  }

  // ---- stream messages ---------------------------------------------------------------------------------------

  onCredit(reader: ReadBuffer): void {
    const outlet = this.outlets.get(reader.readLength());
    const items = reader.readLength();
    const bytes = reader.readLength();
    outlet?.grant(items, bytes);
  }

  onData(reader: ReadBuffer): void {
    const id = reader.readLength();
    const seq = reader.readLength();
    const count = reader.readLength();
    const bytes = reader.readLength();
    const inlet = this.inlets.get(id);
    // Cancelled here while the items were on their way: expected, and dropped.
    if (!inlet || !inlet.isOpen) return;
    if (count > reader.remaining) {
      this.breakStream(inlet, new DecodeError(`stream ${id} claims ${count} items in ${reader.remaining} bytes`));
      return;
    }
    const start = reader.position;
    const mark = this.newInlets.length;
    const items = new Array<unknown>(count);
    try {
      for (let i = 0; i < count; i++) items[i] = this.link.codec.decode(reader, this);
    } catch (error) {
      this.settleInlets(mark, false);
      this.breakStream(inlet, error);
      return;
    }
    this.settleInlets(mark, true);
    // The producer's count bounds this side's memory: it must cover what actually came.
    const actual = reader.position - start;
    const violation =
      actual > bytes + 8 * count
        ? new StreamError(`stream ${id} counted ${bytes} bytes for items of ${actual}: the stream was ended`)
        : inlet.receive(seq, items, bytes);
    if (violation) this.breakStream(inlet, violation);
  }

  onEnd(reader: ReadBuffer): void {
    const inlet = this.inlets.get(reader.readLength());
    const violation = inlet?.receive(reader.readLength(), undefined, 0);
    if (violation) this.breakStream(inlet!, violation);
  }

  onError(reader: ReadBuffer): void {
    const id = reader.readLength();
    const seq = reader.readLength();
    const inlet = this.inlets.get(id);
    if (!inlet) return;
    let reason: unknown;
    try {
      reason = this.link.codec.decode(reader);
    } catch (error) {
      reason = error;
    }
    try {
      reason = toCallerRejection(reason, 'a stream', undefined);
    } catch {
      // A hostile error object: delivered as it came.
    }
    const violation = inlet.receive(seq, undefined, 0, { error: reason });
    if (violation) this.breakStream(inlet, violation);
  }

  onCancel(reader: ReadBuffer): void {
    this.outlets.get(reader.readLength())?.cancel();
  }

  /** The connection, or the other side's protocol, is gone: every stream ends, both ways. */
  abandonAll(event: ChannelCloseEvent): void {
    const outlets = [...this.outlets.values()];
    const inlets = [...this.inlets.values()];
    this.outlets.clear();
    this.inlets.clear();
    const failure = { error: new ConnectionClosedError(event, 'The stream') };
    for (const outlet of outlets) outlet.cancel(failure);
    for (const inlet of inlets) inlet.stop(failure);
  }

  /** The consumer's side of a stream the producer broke: it ends here with `error`, and the producer is stopped. */
  private breakStream(inlet: StreamInlet, error: unknown): void {
    inlet.cancel(error);
    this.link.reportError(error);
  }

  // ---- the hosts' sends --------------------------------------------------------------------------------------

  sendCredit(id: number, items: number, bytes: number): void {
    const link = this.link;
    if (link.closed) return;
    link.trySend(() =>
      link.channel.getWriteBuffer().writeUint8(MessageType.StreamCredit).writeLength(id).writeLength(items)
        .writeLength(bytes).commit(),
    );
  }

  sendCancel(id: number): void {
    const link = this.link;
    if (link.closed) return;
    link.trySend(() => link.channel.getWriteBuffer().writeUint8(MessageType.StreamCancel).writeLength(id).commit());
  }

  sendData(
    id: number,
    seq: number,
    count: number,
    bytes: number,
    writeItems: (buffer: WriteBuffer) => void,
  ): unknown {
    const link = this.link;
    if (link.closed) return undefined;
    try {
      const buffer = link.channel.getWriteBuffer();
      buffer.writeUint8(MessageType.StreamData).writeLength(id).writeLength(seq).writeLength(count).writeLength(bytes);
      writeItems(buffer);
      buffer.commit();
      return undefined;
    } catch (error) {
      return link.isGoingAway(error) ? undefined : error;
    }
  }

  sendEnd(id: number, seq: number): void {
    const link = this.link;
    if (link.closed) return;
    link.trySend(() =>
      link.channel.getWriteBuffer().writeUint8(MessageType.StreamEnd).writeLength(id).writeLength(seq).commit(),
    );
  }

  sendError(id: number, seq: number, error: unknown, inOrder = false): void {
    const link = this.link;
    if (link.closed) return;
    const send = (reason: unknown) => {
      const buffer = link.channel.getWriteBuffer(inOrder ? IN_ORDER : undefined);
      buffer.writeUint8(MessageType.StreamError).writeLength(id).writeLength(seq);
      link.codec.encode(buffer, reason);
      buffer.commit();
    };
    try {
      send(error);
    } catch (failure) {
      if (link.isGoingAway(failure)) return;
      // The error itself could not be encoded: the consumer still learns that, and why.
      link.trySend(() => send(failure instanceof Error ? failure : new RpcProtocolError(String(failure))));
    }
  }

  encodeItem(buffer: WriteBuffer, value: unknown): void {
    const mark = this.newOutlets.length;
    try {
      this.link.codec.encode(buffer, value, 'item', this);
    } catch (error) {
      this.settleOutlets(mark, false);
      throw error;
    }
    this.settleOutlets(mark, true);
  }

  forgetInlet(id: number): void {
    this.inlets.delete(id);
  }

  forgetOutlet(id: number): void {
    this.outlets.delete(id);
  }

  reportError(error: unknown): void {
    this.link.reportError(error);
  }
}
