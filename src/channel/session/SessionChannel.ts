import type { Duplex } from 'stream';
import { Emitter, type Event } from '../../common/event';
import { MessageTooLargeError } from '../../common/errors';
import { DisposableStore, toDisposable } from '../../common/lifecycle';
import { warnUnhandled } from '../../common/warn';
import type { WriteBuffer } from '../../buffer/WriteBuffer';
import { BinaryMessagePipe, type BinaryMessagePipeOptions, type PipeCloseEvent } from '../../pipe/BinaryMessagePipe';
import { DEFAULT_MAX_MESSAGE_SIZE, MAX_FRAME_PAYLOAD, MAX_PASSED_MESSAGES } from '../../pipe/frame';
import { AbstractChannel } from '../AbstractChannel';
import { IN_ORDER, type ChannelCloseEvent, type WriteOptions } from '../Channel';
import { ChannelClosedError } from '../errors';
import { SessionOverflowError, SessionProtocolError } from './errors';
import { ReplayQueue } from './ReplayQueue';
import { SessionWriteBuffer } from './SessionWriteBuffer';
import { SilenceClock } from './SilenceClock';
import { ACK, ackFrame, BYE, DATA, DATA_HEADER_SIZE, readAck, readText, textFrame } from './wire';
import { AheadRuns } from './AheadRuns';

/**
 * - `healthy`: a socket is attached and the peer has been heard from lately.
 * - `unresponsive`: a socket is attached, but the peer has said nothing for unresponsiveMs of the time this side
 *   was free to listen (so a busy loop here never makes the peer unresponsive).
 * - `disconnected`: no socket; the client is reconnecting, the server is waiting for it to come back. Messages
 *   sent meanwhile are kept and go out when it does. A closed session is `disconnected` for good.
 */
export type SessionHealth = 'healthy' | 'unresponsive' | 'disconnected';

export interface SessionHealthEvent {
  readonly health: SessionHealth;
  readonly previous: SessionHealth;
  /** Why, in words: what dropped the socket, or how long the peer has been silent. */
  readonly reason: string;
}

export interface SessionOptions extends BinaryMessagePipeOptions {
  /** How often each side tells the other what it has received (an ACK frame), which is also the keep-alive. Default 2000 ms. */
  keepAliveMs?: number;
  /** Silence after which the peer is reported unresponsive (onDidChangeHealth). Default 6000 ms. */
  unresponsiveMs?: number;
  /** Silence after which the socket is taken for dead and dropped; the client then reconnects. Default 20000 ms. */
  socketTimeoutMs?: number;
  /** Bytes sent but not acknowledged that the session may hold for replay; past it, it fails. Default 256 MiB. */
  maxReplayBytes?: number;
  /** How long a new socket may take to open or resume the session. Default 5000 ms. */
  handshakeTimeoutMs?: number;
}

/** A socket attached to a session, with the pipe that frames it. */
export interface SessionLink {
  readonly pipe: BinaryMessagePipe;
  readonly stream: Duplex;
}

// A receiver acknowledges after this many messages or bytes, whichever comes first, and at least once a tick: that
// keeps what the sender holds for replay to about one round trip's worth, and lets a sender whose replay window
// (4 × highWaterMark) is small go on without waiting for a tick.
const ACK_EVERY_MESSAGES = 256;
const ACK_EVERY_BYTES = 16 * 1024;

/** A pipe for a session's frames: its largest message has room for the session's largest and a DATA header. */
export function sessionPipe(stream: Duplex, options: BinaryMessagePipeOptions): BinaryMessagePipe {
  const maxMessageSize = Math.min(
    (options.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE) + DATA_HEADER_SIZE,
    MAX_FRAME_PAYLOAD,
  );
  return new BinaryMessagePipe(stream, { ...options, maxMessageSize });
}

const TWO_32 = 0x1_0000_0000;

/**
 * A channel that outlives its sockets: one side of a persistent session. Every message is kept until the peer
 * acknowledges it; when the socket drops, the session waits for a new one (the client dials it, the server is
 * handed it) and then each side sends again exactly what the other has not received, so the channel above sees
 * every message once, in order, and stays open through any number of drops. It closes when either side closes
 * it, or when the session is given up (reconnection attempts spent, the server's grace over, a protocol error).
 */
export abstract class SessionChannel extends AbstractChannel {
  /** The session's id (hex), the same on both sides. */
  readonly id: string;
  readonly maxMessageSize: number;
  protected readonly keepAliveMs: number;
  private readonly unresponsiveMs: number;
  private readonly socketTimeoutMs: number;
  private readonly maxReplayBytes: number;
  private readonly replayHighWaterMark: number;
  private readonly tickMs: number;

  private link: SessionLink | undefined;
  private linkStore: DisposableStore | undefined;
  private readonly replay = new ReplayQueue();
  /** Every message up to this number has been received. */
  private receivedCount = 0;
  /**
   * Messages numbered above receivedCount + 1 that came out of turn (passing a large one), delivered already. A
   * peer's pipe lets a message pass at most MAX_PASSED_MESSAGES large ones, whatever its options: more holes below
   * them is a peer breaking the protocol.
   */
  private readonly ahead = new AheadRuns(MAX_PASSED_MESSAGES);
  private ackedReceived = 0;
  private bytesSinceAck = 0;
  private lastAckAt = 0;
  private incomingLimit: number | undefined;
  /** What the peer said it takes at most (limitOutgoing); until it says, this side's own maxMessageSize. */
  private outgoingLimit: number;
  private peerKeepAliveMs: number;
  private healthState: SessionHealth = 'disconnected';
  private readonly clock: SilenceClock;
  private drainWanted = false;
  private resumes = 0;

  private readonly healthEmitter = this.register(new Emitter<SessionHealthEvent>({ onListenerError: warnUnhandled }));
  /** The link's health as it changes: a socket lost or back, the peer silent or heard again. */
  readonly onDidChangeHealth: Event<SessionHealthEvent> = this.healthEmitter.event;

  protected constructor(
    protected readonly idBytes: Buffer,
    protected readonly secret: Buffer,
    options: SessionOptions,
    peerKeepAliveMs: number,
  ) {
    super();
    this.id = idBytes.toString('hex');
    this.maxMessageSize = options.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE;
    this.outgoingLimit = this.maxMessageSize;
    const checked = checkSessionOptions(options);
    this.keepAliveMs = checked.keepAliveMs;
    this.unresponsiveMs = checked.unresponsiveMs;
    this.socketTimeoutMs = checked.socketTimeoutMs;
    this.maxReplayBytes = checked.maxReplayBytes;
    this.replayHighWaterMark = 4 * (options.highWaterMark ?? 1024 * 1024);
    this.peerKeepAliveMs = peerKeepAliveMs;
    this.tickMs = Math.max(5, Math.min(1000, this.keepAliveMs / 2, this.unresponsiveMs / 4));
    this.clock = new SilenceClock(this.tickMs);
    const timer = setInterval(() => this.tick(), this.tickMs);
    // The sockets keep the process alive while there is a session to serve; the ticking alone does not.
    timer.unref?.();
    this.register(toDisposable(() => clearInterval(timer)));
  }

  get health(): SessionHealth {
    // Closed, it has no socket and never will: whatever the link's last state was.
    return this.isClosed ? 'disconnected' : this.healthState;
  }

  /** Whether a socket is attached right now. */
  get isConnected(): boolean {
    return this.link !== undefined;
  }

  /** How many times the session was resumed on a new socket. */
  get resumeCount(): number {
    return this.resumes;
  }

  /** Messages sent and not yet acknowledged by the peer: what a resume would send again. */
  get unacknowledged(): number {
    return this.replay.sent - this.replay.acked;
  }

  /** The number of the message up to which every one from the peer has been received. */
  get received(): number {
    return this.receivedCount;
  }

  override get needsDrain(): boolean {
    return this.replay.bytes >= this.replayHighWaterMark || (this.link?.pipe.needsDrain ?? false);
  }

  getWriteBuffer(options?: WriteOptions): WriteBuffer {
    if (this.isClosed) throw new ChannelClosedError('The session is closed: no more messages can be sent on it');
    return new SessionWriteBuffer(options?.inOrder === true ? this.commitFrameInOrder : this.commitFrame);
  }

  /** The limit applies to every socket the session is resumed on, not only the one attached now. */
  limitIncoming(maxBytes: number | undefined): void {
    this.incomingLimit = maxBytes;
    this.link?.pipe.limitIncoming(maxBytes === undefined ? undefined : maxBytes + DATA_HEADER_SIZE);
  }

  /**
   * What this side takes, for the RPC core to tell the peer (which then refuses to send more, where the pipe here
   * would refuse the frame and give the whole session up). It holds on every socket: the limit is the session's.
   */
  get maxIncomingSize(): number {
    return Math.min(this.incomingLimit ?? Infinity, this.maxMessageSize);
  }

  /** The peer takes no message over `maxBytes`: a larger one throws at commit, before it is numbered or kept. */
  limitOutgoing(maxBytes: number): void {
    this.outgoingLimit = Math.min(maxBytes, this.maxMessageSize);
  }

  private readonly commitFrame = (frame: Buffer): void => this.sendFrame(frame, false);
  /** The socket's pipe holds it behind the large frames before it, now and when a resume sends it again. */
  private readonly commitFrameInOrder = (frame: Buffer): void => this.sendFrame(frame, true);

  private sendFrame(frame: Buffer, inOrder: boolean): void {
    if (this.isClosed) throw new ChannelClosedError('The session closed before this message was committed');
    const size = frame.byteLength - DATA_HEADER_SIZE;
    if (size > this.maxMessageSize) throw new MessageTooLargeError('outgoing', size, this.maxMessageSize);
    if (size > this.outgoingLimit) throw new MessageTooLargeError('outgoing', size, this.outgoingLimit, true);
    frame.writeUInt32BE((this.replay.sent + 1) % TWO_32, 1);
    this.replay.push(frame, inOrder);
    const link = this.link;
    if (link && !link.pipe.send(frame, inOrder ? IN_ORDER : undefined)) this.drainWanted = true;
    if (this.replay.bytes > this.maxReplayBytes) {
      this.fail(
        new SessionOverflowError(
          `${this.replay.bytes} bytes were sent on session ${this.id} and not acknowledged, over maxReplayBytes ` +
            `(${this.maxReplayBytes}): the peer is not reading. Raise maxReplayBytes, or wait for onDrain.`,
        ),
      );
      return;
    }
    if (!this.drainWanted && this.replay.bytes >= this.replayHighWaterMark) this.drainWanted = true;
  }

  /**
   * Puts a socket under the session, the handshake done: drops whatever the peer says it has, then sends again
   * everything else, in order. A socket attached before (a half-open one the peer has given up on) is dropped.
   */
  protected attach(link: SessionLink, peerReceived: number, peerKeepAliveMs: number): void {
    if (this.isClosed) {
      link.stream.destroy();
      return;
    }
    this.releaseLink('destroy');
    if (!this.replay.acknowledge(peerReceived)) {
      link.stream.destroy();
      this.fail(
        new SessionProtocolError(
          `The peer says it received ${peerReceived} messages of session ${this.id}; ${this.replay.acked} to ` +
            `${this.replay.sent} were possible`,
        ),
      );
      return;
    }
    this.peerKeepAliveMs = peerKeepAliveMs;
    const store = new DisposableStore();
    this.link = link;
    this.linkStore = store;
    const { pipe } = link;
    pipe.limitIncoming(this.incomingLimit === undefined ? undefined : this.incomingLimit + DATA_HEADER_SIZE);
    store.add(pipe.onMessage((frame) => this.onFrame(frame)));
    store.add(pipe.onClose((event) => this.onLinkClose(link, event)));
    store.add(pipe.onDrain(() => this.maybeDrain()));
    store.add(
      pipe.onError((error) => {
        // Transport errors end in onClose and a reconnection; a frame over the limit is the peer breaking the rules.
        if (error instanceof MessageTooLargeError) this.fail(error);
      }),
    );
    this.clock.reset();
    for (const [frame, inOrder] of this.replay.unacknowledged()) pipe.send(frame, inOrder ? IN_ORDER : undefined);
    this.sendAck();
    this.setHealth('healthy', 'connected');
    this.maybeDrain();
  }

  /** Called after attach() on a resumed session, so resumeCount counts resumes and not the first socket. */
  protected countResume(): void {
    this.resumes++;
  }

  /** The socket is gone and the session is not: the client reconnects, the server waits. */
  protected abstract disconnected(reason: string): void;

  /** Gives the session up with an error: it closes, its socket is destroyed, nothing more is replayed. */
  protected fail(error: Error, kind: ChannelCloseEvent['kind'] = 'error'): void {
    if (this.isClosed) return;
    this.releaseLink('destroy');
    this.replay.clear();
    this.fireClose({ kind, reason: error.message, error });
  }

  /** Drops the attached socket (as on a timeout) and carries on as when it drops by itself. */
  protected dropSocket(reason: string): void {
    if (!this.link) return;
    this.releaseLink('destroy');
    this.lost(reason);
  }

  protected doClose(): void {
    this.releaseLink('bye');
    this.replay.clear();
  }

  private onFrame(frame: Uint8Array): void {
    this.clock.heard();
    if (this.healthState === 'unresponsive') this.setHealth('healthy', 'the peer was heard again');
    const type = frame[0];
    if (type === DATA) {
      if (frame.byteLength < DATA_HEADER_SIZE) {
        this.fail(new SessionProtocolError('A DATA frame too short for its header: the peer is not an fdpipe session'));
        return;
      }
      this.onData(frame);
      return;
    }
    try {
      if (type === ACK) {
        const count = readAck(frame);
        if (!this.replay.acknowledge(count)) {
          throw new SessionProtocolError(
            `The peer acknowledged ${count} messages; ${this.replay.acked} to ${this.replay.sent} were possible`,
          );
        }
        this.maybeDrain();
      } else if (type === BYE) {
        const why = readText(frame);
        this.releaseLink('end');
        this.replay.clear();
        this.fireClose({ kind: 'remote', reason: `the other side closed the session${why ? `: ${why}` : ''}` });
      } else {
        throw new SessionProtocolError(`A session frame of unknown type ${type}: the peer is not an fdpipe session`);
      }
    } catch (error) {
      this.fail(error instanceof Error ? error : new Error(String(error)));
    }
  }

  /** Delivers a message the first time it comes; the copy a replay brings of one already here is dropped. */
  private onData(frame: Uint8Array): void {
    const seq = ((frame[1] << 24) | (frame[2] << 16) | (frame[3] << 8) | frame[4]) >>> 0;
    const expected = this.receivedCount + 1;
    // The full number from its low 32 bits: messages are never further out of turn than 2^31.
    const distance = (seq - (expected % TWO_32) + TWO_32) % TWO_32;
    if (distance >= TWO_32 / 2) return; // below what is held: a replayed copy
    const number = expected + distance;
    if (distance === 0) {
      this.receivedCount = number;
      if (!this.ahead.isEmpty) this.receivedCount = this.ahead.takeRunAfter(number) ?? number;
    } else {
      const noted = this.ahead.add(number);
      if (noted === 'known') return;
      if (noted === 'refused') {
        this.fail(
          new SessionProtocolError(
            `The peer's messages left more than ${this.ahead.maxHoles} earlier ones missing, where a session ` +
              "peer's messages pass only its large ones still on their way: closing the session",
          ),
        );
        return;
      }
    }
    this.bytesSinceAck += frame.byteLength;
    this.fireMessage(frame.subarray(DATA_HEADER_SIZE));
    if (this.receivedCount - this.ackedReceived >= ACK_EVERY_MESSAGES || this.bytesSinceAck >= ACK_EVERY_BYTES) {
      this.sendAck();
    }
  }

  private onLinkClose(link: SessionLink, event: PipeCloseEvent): void {
    if (link !== this.link) return;
    this.releaseLink('destroy');
    const why = event.error ? `${event.reason}: ${event.error.message}` : event.reason;
    this.lost(`the socket closed (${why})`);
  }

  private lost(reason: string): void {
    if (this.isClosed) return;
    this.setHealth('disconnected', reason);
    // A health listener may have closed the session: then nothing waits for the peer (a grace timer set now would
    // outlive the close and hold the process for graceMs).
    if (this.isClosed) return;
    this.disconnected(reason);
  }

  private tick(): void {
    const silent = this.clock.tick();
    const link = this.link;
    if (!link || this.isClosed) return;
    if (this.receivedCount > this.ackedReceived || Date.now() - this.lastAckAt >= this.keepAliveMs) this.sendAck();
    // The peer cannot be heard more often than it sends keep-alives, whatever this side was configured with.
    const unresponsiveAfter = Math.max(this.unresponsiveMs, 2 * this.peerKeepAliveMs + 2 * this.tickMs);
    const timeoutAfter = Math.max(this.socketTimeoutMs, unresponsiveAfter + this.tickMs);
    if (silent >= timeoutAfter) {
      this.dropSocket(`the peer sent nothing for ${silent} ms (socketTimeoutMs ${this.socketTimeoutMs})`);
    } else if (silent >= unresponsiveAfter && this.healthState === 'healthy') {
      this.setHealth('unresponsive', `the peer has sent nothing for ${silent} ms`);
    }
  }

  private sendAck(): void {
    const link = this.link;
    if (!link) return;
    this.ackedReceived = this.receivedCount;
    this.bytesSinceAck = 0;
    this.lastAckAt = Date.now();
    link.pipe.send(ackFrame(this.receivedCount));
  }

  private maybeDrain(): void {
    if (!this.drainWanted || this.isClosed || this.needsDrain) return;
    this.drainWanted = false;
    this.fireDrain();
  }

  private setHealth(health: SessionHealth, reason: string): void {
    const previous = this.healthState;
    if (previous === health) return;
    this.healthState = health;
    this.healthEmitter.fire({ health, previous, reason });
  }

  /**
   * Lets go of the attached socket: `bye` tells the peer the session is over and ends the socket once what was
   * sent is written; `end` only ends it; `destroy` drops it at once.
   */
  private releaseLink(how: 'bye' | 'end' | 'destroy'): void {
    const link = this.link;
    if (!link) return;
    this.link = undefined;
    this.linkStore?.dispose();
    this.linkStore = undefined;
    if (how === 'destroy') {
      link.stream.destroy();
      return;
    }
    if (how === 'bye') {
      try {
        link.pipe.send(textFrame(BYE, 'closed on that side'));
      } catch {
        // The pipe is closing already; the peer learns of the end from the socket.
      }
    }
    link.pipe.close();
  }
}

/**
 * A session's timings and replay bound, defaults filled in; a RangeError for one a session would refuse. A client
 * checks them before it dials, so that a bad option leaves no socket open and no session on the other side.
 */
export function checkSessionOptions(
  options: SessionOptions,
): { keepAliveMs: number; unresponsiveMs: number; socketTimeoutMs: number; maxReplayBytes: number } {
  const keepAliveMs = positive(options.keepAliveMs ?? 2000, 'keepAliveMs');
  // It travels in OPEN and OPENED as a uint32.
  if (keepAliveMs > 0xffff_ffff) throw new RangeError(`keepAliveMs must be at most ${0xffff_ffff} ms, got ${keepAliveMs}`);
  return {
    keepAliveMs,
    unresponsiveMs: positive(options.unresponsiveMs ?? 6000, 'unresponsiveMs'),
    socketTimeoutMs: positive(options.socketTimeoutMs ?? 20000, 'socketTimeoutMs'),
    maxReplayBytes: positive(options.maxReplayBytes ?? 256 * 1024 * 1024, 'maxReplayBytes'),
  };
}

function positive(value: number, name: string): number {
  if (!(value > 0) || !Number.isFinite(value)) throw new RangeError(`${name} must be a positive number of ms or bytes, got ${value}`);
  return value;
}

