import { randomBytes, timingSafeEqual } from 'crypto';
import type { Duplex } from 'stream';
import { Emitter, type Event } from '../../common/event';
import { DisposableStore, supportUsing, toDisposable, type Disposable } from '../../common/lifecycle';
import { reportTo, warnUnhandled } from '../../common/warn';
import { openLink } from './openLink';
import { SessionLostError } from './errors';
import { SessionChannel, type SessionLink, type SessionOptions } from './SessionChannel';
import { ID_SIZE, OPEN_LIMIT, openedFrame, readOpen, REFUSED, SECRET_SIZE, textFrame, type OpenFrame } from './wire';

export interface SessionAcceptorOptions extends SessionOptions {
  /** How long a session whose socket dropped is kept for its client to come back. Default 60000 ms. */
  graceMs?: number;
}

/** The server side of a persistent session: it waits, for graceMs, for its client to come back. */
export class ServerSession extends SessionChannel {
  private readonly graceMs: number;
  private grace: Disposable | undefined;

  /** @internal made by a SessionAcceptor */
  constructor(id: Buffer, secret: Buffer, options: SessionAcceptorOptions, peerKeepAliveMs: number) {
    super(id, secret, options, peerKeepAliveMs);
    this.graceMs = options.graceMs ?? 60000;
    this.register(toDisposable(() => this.grace?.dispose()));
  }

  /** @internal whether `secret` is this session's, compared in constant time */
  holdsSecret(secret: Buffer): boolean {
    return secret.length === this.secret.length && timingSafeEqual(secret, this.secret);
  }

  /** @internal the first socket, or the client back on a new one, after OPENED went out on it */
  resume(link: SessionLink, peerReceived: number, peerKeepAliveMs: number, first: boolean): void {
    this.grace?.dispose();
    this.grace = undefined;
    this.attach(link, peerReceived, peerKeepAliveMs);
    if (!first) this.countResume();
  }

  protected disconnected(reason: string): void {
    if (this.grace) return;
    const timer = setTimeout(() => {
      this.grace = undefined;
      this.fail(
        new SessionLostError(`The client of session ${this.id} did not come back within ${this.graceMs} ms (${reason})`),
        'remote',
      );
    }, this.graceMs);
    this.grace = toDisposable(() => clearTimeout(timer));
  }
}

/**
 * Takes the server ends of sockets and sorts them into sessions: a socket that opens a new session becomes a
 * ServerSession (onDidOpen), one that resumes a session this acceptor holds is put under it. A resume is honoured
 * only with the session's secret, which only its client was told.
 */
export class SessionAcceptor implements Disposable {
  /** dispose(), for `using`. */
  declare readonly [Symbol.dispose]: () => void;
  private readonly sessions = new Map<string, ServerSession>();
  private readonly handshakes = new Set<Disposable>();
  // Declared before the emitters, which register with it as they are made.
  private readonly store = new DisposableStore();
  private readonly openEmitter = this.store.add(new Emitter<ServerSession>({ onListenerError: warnUnhandled }));
  private readonly errorEmitter = this.store.add(new Emitter<Error>({ onListenerError: warnUnhandled }));
  private disposed = false;

  /** A client opened a new session; it is the listener's to keep (and close). */
  readonly onDidOpen: Event<ServerSession> = this.openEmitter.event;
  /** Sockets refused at the session handshake. */
  readonly onError: Event<Error> = this.errorEmitter.event;

  constructor(private readonly options: SessionAcceptorOptions = {}) {}

  /** Sessions open now, connected or waiting for their client. */
  get size(): number {
    return this.sessions.size;
  }

  /** Takes one socket: reads its OPEN, then opens or resumes a session on it. */
  accept(stream: Duplex): void {
    if (this.disposed) {
      stream.destroy();
      return;
    }
    const handshake = openLink(
      stream,
      this.options,
      undefined,
      OPEN_LIMIT,
      this.options.handshakeTimeoutMs ?? 5000,
      (frame, link) => {
        this.handshakes.delete(handshake);
        this.onOpen(readOpen(frame), link);
      },
      (error) => {
        this.handshakes.delete(handshake);
        if (!this.disposed) reportTo(this.errorEmitter, error);
      },
    );
    this.handshakes.add(handshake);
  }

  /** Stops taking sockets. Sessions already open stay open and belong to whoever took them. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const handshake of [...this.handshakes]) handshake.dispose();
    this.handshakes.clear();
    this.store.dispose();
  }

  private onOpen(open: OpenFrame, link: SessionLink): void {
    const resume = open.resume;
    if (!resume) {
      const id = randomBytes(ID_SIZE);
      const secret = randomBytes(SECRET_SIZE);
      const session = new ServerSession(id, secret, this.options, open.keepAliveMs);
      this.sessions.set(session.id, session);
      session.onClose(() => this.sessions.delete(session.id));
      link.pipe.send(openedFrame({ keepAliveMs: this.keepAliveMs, id, secret, received: 0 }));
      session.resume(link, 0, open.keepAliveMs, true);
      this.openEmitter.fire(session);
      return;
    }
    const session = this.sessions.get(resume.id.toString('hex'));
    if (!session || session.isClosed || !session.holdsSecret(resume.secret)) {
      // The same answer for an unknown id and a wrong secret, so a stranger learns nothing from it.
      link.pipe.send(textFrame(REFUSED, 'no such session: it was closed, or its grace period ran out'));
      link.pipe.close();
      return;
    }
    link.pipe.send(
      openedFrame({ keepAliveMs: this.keepAliveMs, id: resume.id, secret: resume.secret, received: session.received }),
    );
    session.resume(link, resume.received, open.keepAliveMs, false);
  }

  private get keepAliveMs(): number {
    return this.options.keepAliveMs ?? 2000;
  }
}


supportUsing(SessionAcceptor.prototype);
