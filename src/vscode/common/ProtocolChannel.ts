import { AbstractChannel } from '../../channel/AbstractChannel';
import type { WriteBuffer } from '../../buffer/WriteBuffer';
import { VSBuffer } from '../base/buffer';
import type { Event } from '../base/event';
import { isContextMessage, readContext } from './contextMessage';
import { MalformedContextError, NotAClientError } from './errors';
import type { IMessagePassingProtocol } from './types';

/**
 * A protocol over a stream that can tell what it has not sent yet and stop reading (ipc.net's Protocol over a
 * NodeSocket). Not VS Code's: a server uses it to hold back a client that sends and never reads.
 */
export interface MeasuredProtocol {
  /** Bytes sent and not yet handed to the OS; undefined when this protocol's transport cannot tell. */
  readonly unsentBytes: number | undefined;
  pauseReading(paused: boolean): void;
  whenUnsentBelow(bytes: number): Promise<void>;
}

function measured(protocol: IMessagePassingProtocol): MeasuredProtocol | undefined {
  const candidate = protocol as Partial<MeasuredProtocol>;
  const ok =
    typeof candidate.unsentBytes === 'number' &&
    typeof candidate.pauseReading === 'function' &&
    typeof candidate.whenUnsentBelow === 'function';
  return ok ? (candidate as MeasuredProtocol) : undefined;
}

export interface ProtocolChannelOptions {
  /** The protocol's end: the channel closes as `remote` when it fires (VS Code's onDidClientDisconnect). */
  onDidDisconnect?: Event<void>;
  /**
   * Server side: the first message must be a client's context, handed here before any other message is
   * delivered. Without it, a leading context message (a peer IPCClient's) is dropped.
   */
  onContext?: (ctx: unknown) => void;
  /** Subscribed to onError before anything can arrive: errors of replayed messages reach it too. */
  onError?: (error: Error) => void;
}

/**
 * An IMessagePassingProtocol as an fdpipe Channel, so the RPC core runs on it: a committed write buffer becomes
 * one send(), and each message becomes one onMessage. The protocol has no close of its own; the channel closes
 * when this side closes it or when `onDidDisconnect` fires.
 */
export class ProtocolChannel extends AbstractChannel {
  private first = true;
  /** The protocol, when it can tell its unsent bytes (its transport does not change). */
  private readonly measured: MeasuredProtocol | undefined;

  constructor(
    private readonly protocol: IMessagePassingProtocol,
    private readonly options: ProtocolChannelOptions = {},
  ) {
    super();
    this.measured = measured(protocol);
    const { onDidDisconnect, onError } = options;
    if (onError) this.register(this.onError(onError));
    if (onDidDisconnect) {
      this.register(
        onDidDisconnect(() => this.fireClose({ kind: 'remote', reason: 'the other side disconnected' })),
      );
    }
    // Subscribed last: a protocol may deliver what it buffered while we subscribe.
    this.register(protocol.onMessage((message) => this.receive(message)));
  }

  getWriteBuffer(): WriteBuffer {
    return this.messageBuffer(this.send);
  }

  /** The protocol's unsent bytes, when it can tell them (MeasuredProtocol): what lets a server bound a client. */
  get unsentBytes(): number | undefined {
    return this.measured?.unsentBytes;
  }

  pauseReading(paused: boolean): void {
    this.measured?.pauseReading(paused);
  }

  whenUnsentBelow(bytes: number): Promise<void> {
    return this.measured?.whenUnsentBelow(bytes) ?? Promise.resolve();
  }

  private readonly send = (bytes: Uint8Array) => this.protocol.send(VSBuffer.wrap(bytes));

  protected doClose(): void {
    // The protocol belongs to whoever made it; only our listeners go, released by the base class.
  }

  private receive(message: VSBuffer): void {
    if (this.isClosed) return;
    if (this.first) {
      this.first = false;
      const { onContext } = this.options;
      if (onContext) return this.receiveContext(message, onContext);
      if (isContextMessage(message)) return;
    }
    this.fireMessage(message.buffer);
  }

  private receiveContext(message: VSBuffer, onContext: (ctx: unknown) => void): void {
    let ctx: unknown;
    try {
      if (!isContextMessage(message)) throw new NotAClientError();
      ctx = readContext(message);
    } catch (error) {
      const reason = error instanceof NotAClientError ? error : new MalformedContextError(error);
      this.fireError(reason);
      this.fireClose({ kind: 'error', reason: reason.message, error: reason });
      return;
    }
    onContext(ctx);
  }
}
