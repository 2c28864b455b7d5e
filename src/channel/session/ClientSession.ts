import type { Duplex } from 'stream';
import { toDisposable, type Disposable } from '../../common/lifecycle';
import { openLink } from './openLink';
import { SessionLostError, SessionProtocolError } from './errors';
import { checkSessionOptions, SessionChannel, type SessionLink, type SessionOptions } from './SessionChannel';
import { openFrame, OPENED, readOpened, readText, REFUSED, ANSWER_LIMIT, type OpenedFrame } from './wire';

/** Makes a new connected stream to the server: called for the first socket and for each reconnection. */
export type Dialer = () => Duplex | Promise<Duplex>;

export interface ReconnectOptions {
  /** Attempts after a drop before the session is given up; each success starts the count over. Default 15. */
  maxAttempts?: number;
  /**
   * Wait before the first attempt, doubled for each next one. Default 50 ms. Each wait is drawn between half of
   * it and all of it, so clients dropped together by a restarting server do not all come back at once.
   */
  initialDelayMs?: number;
  /** The longest wait between attempts (before the draw). Default 5000 ms. */
  maxDelayMs?: number;
}

export interface ClientSessionOptions extends SessionOptions {
  reconnect?: ReconnectOptions;
}

/** The answer to OPEN read off a socket's first frame; a REFUSED becomes a SessionLostError. */
function readAnswer(frame: Uint8Array, what: string): OpenedFrame {
  if (frame[0] === REFUSED) throw new SessionLostError(`The server refused ${what}: ${readText(frame)}`);
  if (frame[0] !== OPENED) throw new SessionProtocolError('The server did not answer OPEN: is it listening with persistent sessions?');
  return readOpened(frame);
}

/**
 * Opens a persistent session over the streams `dial` makes: the first one now (the promise rejects if it fails),
 * and a new one each time the socket drops, with backoff, until the server resumes the session or the attempts
 * run out. Any Duplex will do: a Unix or TCP socket, a TLS socket, a pipe the caller reconnects its own way.
 */
export async function connectSession(dial: Dialer, options: ClientSessionOptions = {}): Promise<ClientSession> {
  // Before dialing: a bad option found later would leave the dialed socket open, or the server a session that no
  // client holds.
  checkSessionOptions(options);
  const keepAliveMs = options.keepAliveMs ?? 2000;
  const open = openFrame({ keepAliveMs });
  const stream = await dial();
  return new Promise<ClientSession>((resolve, reject) => {
    openLink(
      stream,
      options,
      open,
      ANSWER_LIMIT,
      options.handshakeTimeoutMs ?? 5000,
      (frame, link) => resolve(new ClientSession(readAnswer(frame, 'a new session'), link, dial, options)),
      reject,
    );
  });
}

/** The client side of a persistent session: it reconnects by itself. Made by connectSession(). */
export class ClientSession extends SessionChannel {
  private readonly dial: Dialer;
  private readonly maxAttempts: number;
  private readonly initialDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly handshakeTimeoutMs: number;
  private readonly options: ClientSessionOptions;
  private attempts = 0;
  /** The reconnection under way: a timer, a dial, or a handshake. */
  private pending: Disposable | undefined;
  private lastError: Error | undefined;

  /** @internal made by connectSession() */
  constructor(opened: OpenedFrame, link: SessionLink, dial: Dialer, options: ClientSessionOptions) {
    super(opened.id, opened.secret, options, opened.keepAliveMs);
    this.dial = dial;
    this.options = options;
    this.maxAttempts = options.reconnect?.maxAttempts ?? 15;
    this.initialDelayMs = options.reconnect?.initialDelayMs ?? 50;
    this.maxDelayMs = options.reconnect?.maxDelayMs ?? 5000;
    this.handshakeTimeoutMs = options.handshakeTimeoutMs ?? 5000;
    this.register(toDisposable(() => this.cancelPending()));
    this.attach(link, opened.received, opened.keepAliveMs);
  }

  /** Drops the socket now, as a network failure would; the session reconnects. For tests and for a known-bad route. */
  reconnect(): void {
    this.dropSocket('reconnect() was called');
  }

  protected disconnected(): void {
    this.scheduleAttempt();
  }

  private scheduleAttempt(): void {
    if (this.isClosed || this.pending) return;
    const attempt = ++this.attempts;
    if (attempt > this.maxAttempts) {
      const why = this.lastError ? `: ${this.lastError.message}` : '';
      this.fail(
        new SessionLostError(`Could not reach the server again after ${this.maxAttempts} attempts${why}`),
        'remote',
      );
      return;
    }
    const backoff = Math.min(this.maxDelayMs, this.initialDelayMs * 2 ** (attempt - 1));
    const delay = backoff / 2 + Math.random() * (backoff / 2);
    const timer = setTimeout(() => {
      this.pending = undefined;
      this.tryOnce();
    }, delay);
    this.pending = toDisposable(() => clearTimeout(timer));
  }

  private tryOnce(): void {
    let cancelled = false;
    this.pending = toDisposable(() => {
      cancelled = true;
    });
    const retry = (error: Error) => {
      this.pending = undefined;
      this.lastError = error;
      this.scheduleAttempt();
    };
    let dialed: Promise<Duplex>;
    try {
      dialed = Promise.resolve(this.dial());
    } catch (error) {
      dialed = Promise.reject(error);
    }
    dialed.then(
      (stream) => {
        if (cancelled || this.isClosed) {
          stream.destroy();
          return;
        }
        this.handshake(stream, retry);
      },
      (error: unknown) => {
        if (!cancelled) retry(error instanceof Error ? error : new Error(String(error)));
      },
    );
  }

  private handshake(stream: Duplex, retry: (error: Error) => void): void {
    const hello = openFrame({
      keepAliveMs: this.keepAliveMs,
      resume: { id: this.idBytes, secret: this.secret, received: this.received },
    });
    this.pending = openLink(
      stream,
      this.options,
      hello,
      ANSWER_LIMIT,
      this.handshakeTimeoutMs,
      (frame, link) => {
        this.pending = undefined;
        let opened: OpenedFrame;
        try {
          opened = readAnswer(frame, `to resume session ${this.id}`);
        } catch (error) {
          link.stream.destroy();
          // The server no longer has the session: retrying cannot help.
          if (error instanceof SessionLostError) this.fail(error, 'remote');
          else throw error;
          return;
        }
        if (!opened.id.equals(this.idBytes)) {
          throw new SessionProtocolError(`The server resumed session ${opened.id.toString('hex')}, not ${this.id}`);
        }
        this.attempts = 0;
        this.lastError = undefined;
        this.attach(link, opened.received, opened.keepAliveMs);
        this.countResume();
      },
      retry,
    );
  }

  private cancelPending(): void {
    const pending = this.pending;
    this.pending = undefined;
    pending?.dispose();
  }
}
