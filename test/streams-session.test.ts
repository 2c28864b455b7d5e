import { createHash, randomBytes } from 'crypto';
import { mkdtempSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import type { Duplex } from 'stream';
import type { Socket } from 'net';
import {
  ConnectionClosedError,
  connectSession,
  dialSocket,
  listenPersistent,
  RpcPeer,
  SessionAcceptor,
  SessionLostError,
  type ClientSession,
  type ClientSessionOptions,
  type Remote,
  type RemoteStream,
  type ServerSession,
  type SessionChannel,
  type SessionListener,
} from '../src';
import { FlakyLink, random } from './helpers/flakyLink';
import { outcome } from './helpers/rpc';
import { settle, until } from './helpers/wait';

// Streams over a persistent session, on a real Unix socket (and, to cut at any byte, an in-memory link). A drop is
// invisible to the RPC layer: the session replays what the other side did not get, so a stream's items, credit
// and end must each arrive once. Losing the session for good closes the channel, which must end every stream both
// ways.

interface Svc {
  chunks(count: number): AsyncGenerator<Uint8Array>;
  consume(chunks: AsyncIterable<Uint8Array>): Promise<{ count: number; digest: string; faults: string[] }>;
}

/** The bytes every chunk is cut from: random, and of a prime size so no two chunks line up. */
const POOL = randomBytes(1_000_003);
const COUNT = 320;
// Mostly small chunks, batched several to a message; every seventh one large enough to go by reference and in
// several fragments, which messages sent after it can pass on the wire.
const SIZES = (() => {
  const next = random(31);
  return Array.from({ length: COUNT }, (_, n) => (n % 7 === 3 ? 96 * 1024 : 8 + Math.floor(next() * 12 * 1024)));
})();

/** Chunk `n`: its number, then bytes from the pool, so a chunk lost, repeated, moved or garbled shows. */
function chunk(n: number): Buffer {
  const size = SIZES[n];
  const bytes = Buffer.allocUnsafe(size);
  const at = (n * 7919) % (POOL.length - size);
  POOL.copy(bytes, 0, at, at + size);
  bytes.writeUInt32BE(n, 0);
  return bytes;
}

const EXPECTED_DIGEST = (() => {
  const hash = createHash('sha256');
  for (let n = 0; n < COUNT; n++) hash.update(chunk(n));
  return hash.digest('hex');
})();

/** Checks chunks as they come: each must be the next one, byte for byte. */
class ChunkChecker {
  count = 0;
  readonly faults: string[] = [];
  private readonly hash = createHash('sha256');

  take(item: Uint8Array): void {
    const got = Buffer.from(item.buffer, item.byteOffset, item.byteLength);
    const n = got.byteLength >= 4 ? got.readUInt32BE(0) : -1;
    if (n !== this.count) this.faults.push(`chunk ${this.count}: got chunk ${n}`);
    else if (!got.equals(chunk(n))) this.faults.push(`chunk ${n}: its bytes differ`);
    this.hash.update(got);
    this.count++;
  }

  digest(): string {
    return this.hash.digest('hex');
  }
}

/** A generator of the chunks that records how far it got and whether its finally ran. */
function producer(count: number, afterYield: (n: number) => void = () => {}) {
  const state = { produced: 0, finished: false };
  async function* items(): AsyncGenerator<Uint8Array> {
    try {
      for (let n = 0; n < count; n++) {
        state.produced++;
        yield chunk(n);
        afterYield(n);
      }
    } finally {
      state.finished = true;
    }
  }
  return { state, items: items() };
}

// A window of a few chunks, so the producer needs credit from the consumer all along: nothing gets far without
// the session carrying messages both ways, so a drop finds stream traffic under way in either direction.
const STREAM_WINDOW = { items: 24, bytes: 192 * 1024 };
// Small fragments, so every large chunk is split and a drop can land between the pieces of one message.
const SESSION = { fragmentSize: 16 * 1024, highWaterMark: 64 * 1024 };
const RECONNECT = { initialDelayMs: 1, maxDelayMs: 20, maxAttempts: 50 };

let dir: string;
const cleanups: (() => void)[] = [];
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'fdpipe-streams-session-'));
});
afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup();
  rmSync(dir, { recursive: true, force: true });
});

interface Connected {
  listener: SessionListener;
  /** The server's end of each socket accepted, newest last. */
  sockets: Socket[];
  client: ClientSession;
  server: ServerSession;
  clientRpc: RpcPeer;
  serverRpc: RpcPeer;
  svc: Remote<Svc>;
  /** Each dial waits for this before it connects; a test replaces it to hold the client off the server. */
  gate: { wait: Promise<void> };
}

/**
 * A persistent session over a Unix socket with an RpcPeer on each end; the server exposes `service`. The client
 * dials through a gate, so a test can keep it from coming back (connectPersistent dials the same way, ungated).
 */
async function connect(
  service: Partial<Svc>,
  serverOptions: { graceMs?: number } = {},
  clientOptions: ClientSessionOptions = {},
): Promise<Connected> {
  const path = join(dir, 's.sock');
  const listener = await listenPersistent(path, { graceMs: 10_000, ...SESSION, ...serverOptions });
  cleanups.push(() => listener.dispose());
  // A socket dropped in its handshake is reported here; the client dials again, and the tests check what follows.
  listener.acceptor.onError(() => {});
  const sockets: Socket[] = [];
  listener.server.on('connection', (socket: Socket) => sockets.push(socket));
  const accepted = new Promise<ServerSession>((resolve) => listener.onDidConnect(resolve));
  const gate = { wait: Promise.resolve() };
  const dial = async (): Promise<Duplex> => {
    await gate.wait;
    return dialSocket(path);
  };
  const client = await connectSession(dial, { reconnect: RECONNECT, ...SESSION, ...clientOptions });
  cleanups.push(() => client.close());
  const server = await accepted;
  cleanups.push(() => server.close());
  const serverRpc = new RpcPeer(server, { streamWindow: STREAM_WINDOW });
  const clientRpc = new RpcPeer(client, { streamWindow: STREAM_WINDOW });
  cleanups.push(() => clientRpc.dispose(), () => serverRpc.dispose());
  serverRpc.expose('svc', service);
  return { listener, sockets, client, server, clientRpc, serverRpc, svc: clientRpc.proxy<Svc>('svc'), gate };
}

/**
 * - `producer`: right after the producer hands over chunk n, for n in DROPS_AT. Those come just after a large
 *   chunk (n % 7 === 3) went out, so its bytes are still on their way: the drop loses them and the session must
 *   send them again.
 * - `consumer`: as the consumer takes chunk n, for n in DROPS_AT.
 * - `turn`: the moment the consumer's session delivers a message out of turn (it passed a large one still under
 *   way), so the session must send the large one again and not the one that passed it.
 */
type Trigger = 'producer' | 'consumer' | 'turn';
const TRIGGERS: [string, Trigger][] = [
  ['made by the producer just after it sent a large chunk', 'producer'],
  ['made by the consumer as it reads', 'consumer'],
  ['made when a message came out of turn, past a large one', 'turn'],
];
const DROPS_AT = [25, 60, 102, 151, 200, 249];

/**
 * Drops the socket as `trigger` says, alternately from the client's end (reconnect()) and the server's (its socket
 * destroyed), one drop at a time: the next waits until the session has resumed from the last.
 */
class Dropper {
  drops = 0;

  constructor(
    private readonly trigger: Trigger,
    private readonly session: () => Connected,
  ) {}

  /** The producer handed over chunk `n`. */
  readonly produced = (n: number): void => {
    if (this.trigger === 'producer' && n + 1 >= (DROPS_AT[this.drops] ?? Infinity)) this.drop();
  };

  /** The consumer took chunk `n`. */
  readonly consumed = (n: number): void => {
    if (this.trigger === 'consumer' && n + 1 >= (DROPS_AT[this.drops] ?? Infinity)) this.drop();
  };

  /**
   * Watches what the consumer's session delivers: a message delivered before every one numbered below it has been
   * received (`received` counts those in order) came out of turn.
   */
  watch(consumer: SessionChannel): void {
    if (this.trigger !== 'turn') return;
    let delivered = consumer.received;
    consumer.onMessage(() => {
      if (++delivered > consumer.received) this.drop();
    });
  }

  private drop(): void {
    const { client, sockets } = this.session();
    if (this.drops >= DROPS_AT.length || client.resumeCount !== this.drops) return;
    this.drops++;
    if (this.drops % 2 === 1) client.reconnect();
    else sockets[sockets.length - 1].destroy();
  }
}

describe('a stream over a persistent session whose socket drops', () => {
  test.each(TRIGGERS)('a result stream keeps going through drops %s: every chunk once, in order, intact', async (_how, trigger) => {
    let session: Connected | undefined;
    const drops = new Dropper(trigger, () => session!);
    const source = producer(COUNT, drops.produced);
    session = await connect({ chunks: () => source.items });
    const { svc, client, clientRpc, serverRpc } = session;
    drops.watch(client);
    const checker = new ChunkChecker();
    for await (const item of svc.chunks(COUNT)) {
      checker.take(item);
      drops.consumed(checker.count - 1);
    }
    expect(checker.faults).toEqual([]);
    expect(checker.count).toBe(COUNT);
    expect(checker.digest()).toBe(EXPECTED_DIGEST);
    expect(drops.drops).toBe(DROPS_AT.length);
    expect(client.resumeCount).toBe(DROPS_AT.length);
    await until(() => source.state.finished, 'the producer to finish');
    expect(source.state.produced).toBe(COUNT);
    expect(serverRpc.protocol.streamCounts).toEqual({ producing: 0, consuming: 0 });
    expect(clientRpc.protocol.streamCounts).toEqual({ producing: 0, consuming: 0 });
    expect(client.isClosed).toBe(false);
  });

  test.each(TRIGGERS)('a stream argument keeps going through drops %s: every chunk once, in order, intact', async (_how, trigger) => {
    let session: Connected | undefined;
    const drops = new Dropper(trigger, () => session!);
    session = await connect({
      async consume(chunks: AsyncIterable<Uint8Array>) {
        const checker = new ChunkChecker();
        for await (const item of chunks) {
          checker.take(item);
          drops.consumed(checker.count - 1);
        }
        return { count: checker.count, digest: checker.digest(), faults: checker.faults };
      },
    });
    const { svc, client, server, clientRpc, serverRpc } = session;
    drops.watch(server);
    const source = producer(COUNT, drops.produced);
    const result = await svc.consume(source.items);
    expect(result.faults).toEqual([]);
    expect(result.count).toBe(COUNT);
    expect(result.digest).toBe(EXPECTED_DIGEST);
    expect(drops.drops).toBe(DROPS_AT.length);
    expect(client.resumeCount).toBe(DROPS_AT.length);
    expect(source.state).toEqual({ produced: COUNT, finished: true });
    expect(serverRpc.protocol.streamCounts).toEqual({ producing: 0, consuming: 0 });
    expect(clientRpc.protocol.streamCounts).toEqual({ producing: 0, consuming: 0 });
  });

  test('both ways at once over a link cut at random bytes, inside frames and handshakes alike', async () => {
    const next = random(47);
    const CUTS = 30;
    const links: FlakyLink[] = [];
    const acceptor = new SessionAcceptor({ graceMs: 10_000, ...SESSION });
    cleanups.push(() => acceptor.dispose());
    // A link cut before the server had all of the OPEN is refused there; the client dials again.
    const refused: Error[] = [];
    acceptor.onError((error) => refused.push(error));
    const accepted = new Promise<ServerSession>((resolve) => acceptor.onDidOpen(resolve));
    const dial = () => {
      const link = new FlakyLink(0);
      // Anywhere in the next 100 KB either way (a fragment's header, a chunk's bytes), and every fourth time
      // within the first 100 bytes: inside the resume handshake (an OPEN and its OPENED are 101).
      if (links.length > 0 && links.length <= CUTS) {
        link.cutAfter(Math.floor(next() * (links.length % 4 === 0 ? 100 : 100_000)));
      }
      links.push(link);
      acceptor.accept(link.b);
      return link.a;
    };
    const client = await connectSession(dial, { reconnect: RECONNECT, ...SESSION });
    cleanups.push(() => client.close());
    const server = await accepted;
    cleanups.push(() => server.close());
    // The first link is cut too, once the session is open on it.
    links[0].cutAfter(Math.floor(next() * 100_000));
    const serverRpc = new RpcPeer(server, { streamWindow: STREAM_WINDOW });
    const clientRpc = new RpcPeer(client, { streamWindow: STREAM_WINDOW });
    cleanups.push(() => clientRpc.dispose(), () => serverRpc.dispose());
    const results = producer(COUNT);
    serverRpc.expose('svc', {
      chunks: () => results.items,
      async consume(chunks: AsyncIterable<Uint8Array>) {
        const checker = new ChunkChecker();
        for await (const item of chunks) checker.take(item);
        return { count: checker.count, digest: checker.digest(), faults: checker.faults };
      },
    });
    const svc = clientRpc.proxy<Svc>('svc');
    const argument = producer(COUNT);
    const consumed = svc.consume(argument.items);
    const checker = new ChunkChecker();
    for await (const item of svc.chunks(COUNT)) checker.take(item);
    const result = await consumed;

    expect(checker.faults).toEqual([]);
    expect(checker.digest()).toBe(EXPECTED_DIGEST);
    expect(result.faults).toEqual([]);
    expect(result.digest).toBe(EXPECTED_DIGEST);
    expect([checker.count, result.count]).toEqual([COUNT, COUNT]);
    expect(links.filter((link) => link.isCut)).toHaveLength(CUTS + 1);
    expect(refused.length).toBeGreaterThan(0);
    expect(refused.every((error) => error instanceof SessionLostError)).toBe(true);
    // The links cut inside their handshake never resumed the session: a resume for each of the others.
    expect(client.resumeCount).toBe(links.length - 1 - Math.floor(CUTS / 4));
    await until(() => results.state.finished, 'the result generator to finish');
    expect(argument.state).toEqual({ produced: COUNT, finished: true });
    expect(serverRpc.protocol.streamCounts).toEqual({ producing: 0, consuming: 0 });
    expect(clientRpc.protocol.streamCounts).toEqual({ producing: 0, consuming: 0 });
    expect(client.isClosed || server.isClosed).toBe(false);
  });
});

describe('a stream over a session lost for good ends on both sides, its error delivered once', () => {
  /**
   * Two streams under way, one each way, when the socket drops and the session cannot be resumed: `lose` keeps
   * the client from resuming. Every stream must end on both sides with the connection's error, delivered once,
   * and both generators must be returned.
   */
  async function loseWith(lose: (session: Connected) => Promise<void>, clientOptions: ClientSessionOptions = {}) {
    // Neither stream can finish before the loss: the window holds each producer to a few chunks past its reader.
    const results = producer(COUNT);
    const serverRead = { count: 0, errors: [] as unknown[], after: undefined as unknown };
    const session = await connect(
      {
        chunks: () => results.items,
        async consume(chunks: AsyncIterable<Uint8Array>) {
          try {
            for await (const _ of chunks) serverRead.count++;
          } catch (error) {
            serverRead.errors.push(error);
            // Read on after the error: the stream has ended, and says so without the error a second time.
            serverRead.after = await outcome((chunks as RemoteStream<Uint8Array>).next());
            throw error;
          }
          return { count: serverRead.count, digest: '', faults: [] };
        },
      },
      { graceMs: 100 },
      clientOptions,
    );
    const { svc, client, server, clientRpc, serverRpc, sockets } = session;
    const argument = producer(COUNT);
    const call = outcome(svc.consume(argument.items));
    const stream = await svc.chunks(COUNT);
    let clientCount = 0;
    const clientErrors: unknown[] = [];
    try {
      for await (const _ of stream) {
        // Both streams well under way, with items in flight both ways, when the socket goes.
        if (++clientCount === 50) {
          await until(() => serverRead.count >= 50, 'the argument stream to flow');
          const losing = lose(session);
          sockets[sockets.length - 1].destroy();
          await losing;
        }
      }
    } catch (error) {
      clientErrors.push(error);
    }

    // The client: the result stream failed once, with the session's loss; a read after that finds it ended.
    expect(clientCount).toBeGreaterThanOrEqual(50);
    expect(clientErrors).toHaveLength(1);
    const clientError = clientErrors[0] as ConnectionClosedError;
    expect(clientError).toBeInstanceOf(ConnectionClosedError);
    expect(clientError.closeEvent?.error).toBeInstanceOf(SessionLostError);
    expect(await stream.next()).toEqual({ done: true, value: undefined });
    const called = await call;
    expect((called as { error?: unknown }).error).toBeInstanceOf(ConnectionClosedError);
    // The server: the argument stream failed once the same way.
    await until(() => serverRead.after !== undefined, 'the server to see its stream end');
    expect(serverRead.errors).toHaveLength(1);
    const serverError = serverRead.errors[0] as ConnectionClosedError;
    expect(serverError).toBeInstanceOf(ConnectionClosedError);
    expect(serverError.closeEvent?.error).toBeInstanceOf(SessionLostError);
    expect(serverRead.after).toEqual({ ok: true, value: { done: true, value: undefined } });
    // Nothing left running: both generators returned, no stream open on either side, neither pulled again.
    await until(() => results.state.finished && argument.state.finished, 'both generators to be returned');
    expect(client.isClosed && server.isClosed).toBe(true);
    expect(clientRpc.protocol.streamCounts).toEqual({ producing: 0, consuming: 0 });
    expect(serverRpc.protocol.streamCounts).toEqual({ producing: 0, consuming: 0 });
    const produced = [results.state.produced, argument.state.produced];
    expect(Math.max(...produced)).toBeLessThan(COUNT);
    await settle();
    expect([results.state.produced, argument.state.produced]).toEqual(produced);
    return { clientError, serverError };
  }

  test('the server forgot the session (its grace ran out): the resume is refused', async () => {
    const { clientError, serverError } = await loseWith(async ({ server, gate }) => {
      // The client dials again only once the server has given the session up.
      let open!: () => void;
      gate.wait = new Promise((resolve) => (open = resolve));
      await until(() => server.isClosed, 'the server to give the session up');
      open();
    });
    expect(serverError.closeEvent?.error?.message).toMatch(/did not come back within 100 ms/);
    expect(clientError.closeEvent?.error?.message).toMatch(/refused to resume session/);
  });

  test('the client cannot reach the server again: it gives up after its attempts', async () => {
    const { clientError, serverError } = await loseWith(async ({ listener }) => {
      // Nobody listens on the path any more: each attempt fails at once.
      listener.dispose();
    }, { reconnect: { ...RECONNECT, maxAttempts: 5 } });
    expect(clientError.closeEvent?.error?.message).toMatch(/Could not reach the server again after 5 attempts/);
    expect(serverError.closeEvent?.error?.message).toMatch(/did not come back within 100 ms/);
  });
});

describe('a stream that ends while the socket is down ends for the other side once the session resumes', () => {
  /** Drops the socket with the client held off, so the session stays down until `resume` is called. */
  async function goDown({ client, server, gate }: Connected): Promise<() => void> {
    let open!: () => void;
    gate.wait = new Promise((resolve) => (open = resolve));
    client.reconnect();
    await until(() => !server.isConnected, 'the server to see the drop');
    return open;
  }

  test('a consumer that stops reading: its producer is returned after the resume, not before', async () => {
    const source = producer(COUNT);
    const session = await connect({ chunks: () => source.items });
    const { svc, client, serverRpc, clientRpc } = session;
    const checker = new ChunkChecker();
    let resume: (() => void) | undefined;
    for await (const item of svc.chunks(COUNT)) {
      checker.take(item);
      if (checker.count === 30) {
        resume = await goDown(session);
        break;
      }
    }
    expect(checker.faults).toEqual([]);
    expect(clientRpc.protocol.streamCounts).toEqual({ producing: 0, consuming: 0 });
    // The cancel waits in the session for a socket: the producer has not heard of it.
    await settle();
    expect(source.state.finished).toBe(false);
    expect(serverRpc.protocol.streamCounts.producing).toBe(1);
    resume!();
    await until(() => source.state.finished, 'the producer to be returned');
    expect(source.state.produced).toBeLessThan(COUNT);
    expect(serverRpc.protocol.streamCounts).toEqual({ producing: 0, consuming: 0 });
    expect(client.resumeCount).toBe(1);
  });

  test.each([
    ['finishes', undefined],
    ['fails', Object.assign(new RangeError('the source broke'), { code: 'E_SOURCE' })],
  ])('a producer that %s: the consumer reads every chunk, then the ending (an error only once), after the resume', async (_how, failure) => {
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const state = { finished: false };
    const session = await connect({
      async *chunks() {
        try {
          for (let n = 0; n < 40; n++) yield chunk(n);
          // The last chunks are sent; the ending waits for the socket to be down.
          await released;
          if (failure) throw failure;
        } finally {
          state.finished = true;
        }
      },
    });
    const { svc, client, serverRpc, clientRpc } = session;
    const stream = await svc.chunks(40);
    const checker = new ChunkChecker();
    const reading = outcome(
      (async () => {
        for await (const item of stream) checker.take(item);
      })(),
    );
    await until(() => checker.count === 40, 'the chunks before the ending');
    const resume = await goDown(session);
    release();
    await until(() => state.finished, 'the producer to end');
    expect(serverRpc.protocol.streamCounts).toEqual({ producing: 0, consuming: 0 });
    // The ending waits in the session for a socket: the consumer's loop is still waiting.
    await settle();
    expect(clientRpc.protocol.streamCounts.consuming).toBe(1);
    resume();
    const read = await reading;
    expect(checker.faults).toEqual([]);
    expect(checker.count).toBe(40);
    if (failure) {
      const error = (read as { error: RangeError & { code: string } }).error;
      expect(error).toBeInstanceOf(RangeError);
      expect(error.message).toBe('the source broke');
      expect(error.code).toBe('E_SOURCE');
    } else {
      expect(read).toEqual({ ok: true, value: undefined });
    }
    expect(await stream.next()).toEqual({ done: true, value: undefined });
    expect(clientRpc.protocol.streamCounts).toEqual({ producing: 0, consuming: 0 });
    expect(client.resumeCount).toBe(1);
  });
});
