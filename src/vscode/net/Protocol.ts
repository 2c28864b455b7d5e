import { MessageTooLargeError } from '../../common/errors';
import { FrameDecoder } from '../../pipe/FrameDecoder';
import { DEFAULT_MAX_MESSAGE_SIZE, FRAME_HEADER_SIZE } from '../../pipe/frame';
import { VSBuffer } from '../base/buffer';
import { reportError } from '../base/errors';
import { Emitter, type Event } from '../base/event';
import { Disposable } from '../base/lifecycle';
import type { IMessagePassingProtocol } from '../common/types';
import { NodeSocket } from './NodeSocket';
import type { ISocket } from './socket';

/** Above this, a message's header and body go to the socket as two writes rather than one copied buffer. */
const COPY_LIMIT = 64 * 1024;

/**
 * Messages over a socket, framed as fdpipe's pipe frames them (a 4-byte big-endian length, then the bytes;
 * not VS Code's 13-byte header, see PROTOCOL.md). It never ends or destroys the socket: that stays its owner's.
 *
 * It reads fdpipe's fragment frames (PROTOCOL.md) as a pipe does, so a pipe peer's large messages arrive whole, and
 * a broken fragment sequence is reported on onError and stops reading; it sends every message whole.
 */
export class Protocol extends Disposable implements IMessagePassingProtocol {
  private readonly decoder: FrameDecoder;
  private readonly messageEmitter = this._register(new Emitter<VSBuffer>());
  private readonly disposeEmitter = this._register(new Emitter<void>());
  private readonly errorEmitter = this._register(new Emitter<Error>());
  /** The socket, when it is a NodeSocket: then the protocol can tell its unsent bytes and stop reading. */
  private readonly nodeSocket: NodeSocket | undefined;

  readonly onMessage: Event<VSBuffer> = this.messageEmitter.event;
  /** Fires when the socket closes. */
  readonly onDidDispose: Event<void> = this.disposeEmitter.event;
  /**
   * An incoming message over `maxMessageSize`, or a broken fragment sequence: reading stops. Unheard, it becomes a
   * process warning.
   */
  readonly onError: Event<Error> = this.errorEmitter.event;

  constructor(
    private readonly socket: ISocket,
    maxMessageSize = DEFAULT_MAX_MESSAGE_SIZE,
  ) {
    super();
    this.nodeSocket = socket instanceof NodeSocket ? socket : undefined;
    this.decoder = new FrameDecoder(
      maxMessageSize,
      (frame) => this.messageEmitter.fire(VSBuffer.wrap(frame)),
      (size) => {
        reading.dispose();
        reportError(this.errorEmitter, new MessageTooLargeError('incoming', size, maxMessageSize));
      },
      (error) => {
        reading.dispose();
        reportError(this.errorEmitter, error);
      },
    );
    const reading = this._register(socket.onData((data) => this.decoder.push(data.buffer)));
    this._register(
      socket.onClose(() => {
        // A frame cut off by the close is of no use: let go of what was held of it.
        this.decoder.stop();
        this.disposeEmitter.fire();
      }),
    );
  }

  drain(): Promise<void> {
    return this.socket.drain();
  }

  /**
   * Bytes sent and not yet handed to the OS, over a NodeSocket (undefined over other sockets). With pauseReading()
   * and whenUnsentBelow() it lets a server hold back a client that sends and never reads (fdpipe's, not VS Code's).
   */
  get unsentBytes(): number | undefined {
    return this.nodeSocket?.socket.writableLength;
  }

  /** Stops (true) or resumes (false) reading a NodeSocket: the client's bytes wait in the OS, then on its side. */
  pauseReading(paused: boolean): void {
    const socket = this.nodeSocket?.socket;
    if (!socket || socket.destroyed) return;
    if (paused) socket.pause();
    else socket.resume();
  }

  /** Resolves once unsentBytes is at most `bytes`, or the socket has closed. */
  whenUnsentBelow(bytes: number): Promise<void> {
    const owner = this.nodeSocket;
    return new Promise((resolve) => {
      if (!owner) return resolve();
      const socket = owner.socket;
      const check = () => {
        if (!socket.destroyed && socket.writableLength > bytes) return;
        written.dispose();
        socket.off('close', check);
        resolve();
      };
      const written = owner.onDidWrite(check);
      socket.on('close', check);
      check();
    });
  }

  getSocket(): ISocket {
    return this.socket;
  }

  sendDisconnect(): void {
    // Nothing to say: the other side learns from the socket's end, as with VS Code's Protocol.
  }

  send(buffer: VSBuffer): void {
    if (this._store.isDisposed) return;
    const header = VSBuffer.alloc(FRAME_HEADER_SIZE);
    header.writeUInt32BE(buffer.byteLength, 0);
    if (buffer.byteLength > COPY_LIMIT) {
      this.socket.write(header);
      this.socket.write(buffer);
    } else {
      this.socket.write(VSBuffer.concat([header, buffer]));
    }
  }
}
