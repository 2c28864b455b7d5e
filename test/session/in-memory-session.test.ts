import {
  connectSession,
  Emitter,
  IPCClient,
  IPCServer,
  MessageTooLargeError,
  SessionAcceptor,
  SessionLostError,
  type ClientSession,
  type ServerSession,
  type SessionAcceptorOptions,
  type SessionHealthEvent,
} from '../../src';
import { FlakyLink, random } from '../helpers/flakyLink';

// Fake timers and clock; nextTick and setImmediate stay real, so streams and the pipe's flushes run as usual.
// The reconnect backoff's random draw is pinned to its top (the whole backoff), so each schedule in fake time is
// the same on every run; the test of the draw sets its own.
beforeEach(() => {
  jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
  jest.spyOn(Math, 'random').mockReturnValue(1);
});
afterEach(() => {
  jest.useRealTimers();
  jest.restoreAllMocks();
});

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Moves the fake clock on in steps, letting the streams run between them. */
async function run(ms: number, step = 1): Promise<void> {
  for (let t = 0; t < ms; t += step) {
    jest.advanceTimersByTime(step);
    await turn();
  }
}

/** Moves the fake clock on `step` ms at a time until `condition` holds. */
async function until(condition: () => boolean, what: string, step = 1, limitMs = 120_000): Promise<void> {
  for (let t = 0; !condition(); t += step) {
    if (t > limitMs) throw new Error(`Gave up waiting (in fake time) for ${what}`);
    jest.advanceTimersByTime(step);
    await turn();
  }
}

interface Harness {
  acceptor: SessionAcceptor;
  links: FlakyLink[];
  client: ClientSession;
  server: ServerSession;
  /** Whether dialing succeeds; false makes every reconnection attempt fail. */
  reachable: { value: boolean };
}

async function open(latencyMs: number, options: SessionAcceptorOptions = {}, acceptor = new SessionAcceptor(options)): Promise<Harness> {
  const links: FlakyLink[] = [];
  const reachable = { value: true };
  let server: ServerSession | undefined;
  acceptor.onDidOpen((session) => (server = session));
  const dial = () => {
    if (!reachable.value) throw new Error('unreachable');
    const link = new FlakyLink(latencyMs);
    links.push(link);
    acceptor.accept(link.b);
    return link.a;
  };
  const connecting = connectSession(dial, { reconnect: { initialDelayMs: 5, maxDelayMs: 200 }, ...options });
  let client: ClientSession | undefined;
  connecting.then((c) => (client = c));
  await until(() => client !== undefined && server !== undefined, 'the session to open');
  return { acceptor, links, client: client!, server: server!, reachable };
}

const message = (side: string, n: number) => {
  const body = Buffer.alloc(1 + (n % 97) * 13, n % 251);
  return Buffer.concat([Buffer.from(`${side}${n}:`), body]);
};

describe('a session over an in-memory link with latency and cuts', () => {
  test('every message arrives once, in order, both ways, through cuts at random bytes', async () => {
    const seed = 20261201;
    const next = random(seed);
    const { client, server, links, acceptor } = await open(3);
    const total = 1500;
    const received: Record<'client' | 'server', number[]> = { client: [], server: [] };
    const listen = (session: ClientSession | ServerSession, side: 'client' | 'server', from: string) =>
      session.onMessage((read) => {
        const text = Buffer.from(read().sliceAtReadPosition()).toString('latin1');
        const n = Number(text.slice(from.length, text.indexOf(':')));
        expect(Buffer.from(read().sliceAtReadPosition()).equals(message(from, n))).toBe(true);
        received[side].push(n);
      });
    listen(client, 'client', 's');
    listen(server, 'server', 'c');
    let sent = 0;
    while (sent < total) {
      // A burst each way, then a cut somewhere in the next few KB of traffic.
      const burst = 1 + Math.floor(next() * 40);
      for (let i = 0; i < burst && sent < total; i++, sent++) {
        client.getWriteBuffer().writeRaw(message('c', sent)).commit();
        server.getWriteBuffer().writeRaw(message('s', sent)).commit();
      }
      const live = links[links.length - 1];
      if (next() < 0.5 && !live.isCut) live.cutAfter(Math.floor(next() * 6000));
      await run(1 + Math.floor(next() * 10));
    }
    await until(() => received.client.length === total && received.server.length === total, `all ${total} messages`);
    await run(50);
    const expected = Array.from({ length: total }, (_, i) => i);
    expect(received.client).toEqual(expected);
    expect(received.server).toEqual(expected);
    expect(links.filter((link) => link.isCut).length).toBeGreaterThan(20);
    expect(client.resumeCount).toBe(links.length - 1);
    expect(client.isClosed || server.isClosed).toBe(false);
    client.close();
    await run(20);
    expect(server.isClosed).toBe(true);
    expect(acceptor.size).toBe(0);
  });
});

describe('messages that pass large ones (the pipe\'s fragments)', () => {
  test('through cuts, each arrives once: small ones in order, passing large ones under way', async () => {
    const next = random(5);
    const { client, server, links } = await open(2);
    const total = 300;
    const isLarge = (n: number) => n % 15 === 7;
    const got: number[] = [];
    server.onMessage((read) => {
      const bytes = read().sliceAtReadPosition();
      const n = Buffer.from(bytes.buffer, bytes.byteOffset, 4).readUInt32BE(0);
      expect(bytes.byteLength).toBe(isLarge(n) ? 600 * 1024 : 64);
      expect(bytes[bytes.byteLength - 1]).toBe(n % 251);
      got.push(n);
    });
    for (let n = 0; n < total; n++) {
      const body = Buffer.alloc(isLarge(n) ? 600 * 1024 : 64, n % 251);
      body.writeUInt32BE(n, 0);
      client.getWriteBuffer().writeRaw(body).commit();
      if (n % 5 === 0) {
        const live = links[links.length - 1];
        if (!live.isCut && next() < 0.5) live.cutAfter(Math.floor(next() * 2_000_000));
        await run(1 + Math.floor(next() * 5));
      }
    }
    await until(() => got.length >= total, 'every message');
    await run(50);
    expect([...got].sort((x, y) => x - y)).toEqual(Array.from({ length: total }, (_, i) => i));
    const small = got.filter((n) => !isLarge(n));
    expect(small).toEqual([...small].sort((x, y) => x - y));
    // Out of turn at least once: a small message delivered before a large one sent earlier.
    expect(got.some((n, i) => isLarge(n) && got.slice(0, i).some((m) => m > n))).toBe(true);
    expect(links.filter((link) => link.isCut).length).toBeGreaterThan(5);
  });
});

describe('RPC over a session', () => {
  test('pipelined calls and a subscription carry on through cuts: each call answered once', async () => {
    const next = random(7);
    const { client, server, links } = await open(2);
    const ipcServer = new IPCServer<string>();
    const ticks = new Emitter<number>();
    const served = new Map<number, number>();
    ipcServer.registerChannel('math', {
      async call(_ctx, command, arg) {
        const n = arg as number;
        served.set(n, (served.get(n) ?? 0) + 1);
        if (command === 'double') return n * 2;
        throw new Error(`no command ${command}`);
      },
      listen: () => ticks.event as never,
    });
    void ipcServer.accept(server);
    const ipcClient = new IPCClient(client, 'c1');
    await until(() => ipcServer.connections.length === 1, 'the hello');
    const heard: number[] = [];
    ipcClient.getChannel('math').listen<number>('onTick')((n) => heard.push(n));
    await run(20);
    const answers = new Map<number, number>();
    const calls: Promise<void>[] = [];
    const total = 3000;
    for (let n = 0; n < total; n++) {
      calls.push(
        ipcClient
          .getChannel('math')
          .call<number>('double', n)
          .then((value) => {
            expect(value).toBe(n * 2);
            answers.set(n, (answers.get(n) ?? 0) + 1);
          }),
      );
      if (n % 50 === 0) {
        ticks.fire(n);
        const live = links[links.length - 1];
        if (!live.isCut) live.cutAfter(Math.floor(next() * 3000));
        await run(1 + Math.floor(next() * 8));
      }
    }
    let settled = false;
    void Promise.all(calls).then(() => (settled = true));
    await until(() => settled, 'every call to settle');
    expect(answers.size).toBe(total);
    expect([...answers.values()].every((count) => count === 1)).toBe(true);
    expect([...served.values()].every((count) => count === 1)).toBe(true);
    await run(20);
    expect(heard).toEqual(Array.from({ length: total / 50 }, (_, i) => i * 50));
    expect(links.filter((link) => link.isCut).length).toBeGreaterThan(20);
    expect(ipcClient.isClosed).toBe(false);
    ipcClient.dispose();
    ipcServer.dispose();
  });
});

describe('message size limits', () => {
  test("a call over the peer's maxMessageSize fails, and the session goes on", async () => {
    // Each side says what it takes, as over a plain socket: a sender that had no idea would send the message, and
    // the receiver, refusing the frame, would give the whole session up.
    const { client, server } = await open(1, {}, new SessionAcceptor({ maxMessageSize: 10_000 }));
    const ipcServer = new IPCServer<string>();
    ipcServer.registerChannel('echo', {
      call: async (_ctx, _command, arg) => arg,
      listen: () => new Emitter<never>().event as never,
    });
    void ipcServer.accept(server);
    const ipcClient = new IPCClient(client, 'c1');
    await until(() => ipcServer.connections.length === 1, 'the hello');
    await run(20);
    const settle = (call: Promise<unknown>) => {
      const outcome: { value?: unknown; error?: unknown } = {};
      call.then(
        (value) => (outcome.value = value),
        (error: unknown) => (outcome.error = error),
      );
      return outcome;
    };
    const big = settle(ipcClient.getChannel('echo').call('echo', new Uint8Array(20_000)));
    await until(() => 'value' in big || 'error' in big, 'the large call to settle');
    expect(big.error).toBeInstanceOf(MessageTooLargeError);
    expect(big.error).toMatchObject({ direction: 'outgoing', peerLimit: true });
    const small = settle(ipcClient.getChannel('echo').call('echo', 'small'));
    await until(() => 'value' in small || 'error' in small, 'the small call to settle');
    expect(small.value).toBe('small');
    expect(client.isClosed || server.isClosed).toBe(false);
    ipcClient.dispose();
    ipcServer.dispose();
  });
});

describe('giving up, refusing and closing', () => {
  test('each wait before dialing again is drawn between half the backoff and all of it', async () => {
    // initialDelayMs is 5: the waits are 5, 10, 20, 40 ms before the draw.
    const spacing = async (draw: number): Promise<number[]> => {
      const random = jest.spyOn(Math, 'random').mockReturnValue(draw);
      try {
        const { client, links, reachable } = await open(0);
        const dials: number[] = [];
        const dial = (client as unknown as { dial: () => unknown }).dial;
        (client as unknown as { dial: () => unknown }).dial = () => {
          dials.push(Date.now());
          return dial();
        };
        reachable.value = false;
        const cutAt = Date.now();
        links[0].cut();
        await until(() => dials.length === 4, 'four attempts');
        client.close();
        return dials.map((at, i) => at - (i === 0 ? cutAt : dials[i - 1]));
      } finally {
        random.mockRestore();
      }
    };
    const early = await spacing(0);
    const late = await spacing(0.999);
    // Half the backoff against nearly all of it, each seen to within the 1 ms steps of the fake clock.
    const backoff = [5, 10, 20, 40];
    early.forEach((wait, i) => expect(Math.abs(wait - backoff[i] / 2)).toBeLessThanOrEqual(1));
    late.forEach((wait, i) => expect(Math.abs(wait - backoff[i])).toBeLessThanOrEqual(1));
  });

  test('a client that cannot reach the server gives up after its attempts; the server after its grace', async () => {
    const { client, server, links, reachable } = await open(1, { graceMs: 30_000 });
    const clientClose = new Promise((resolve) => client.onClose(resolve));
    const serverClose = new Promise((resolve) => server.onClose(resolve));
    const health: SessionHealthEvent[] = [];
    client.onDidChangeHealth((event) => health.push(event));
    reachable.value = false;
    links[0].cut();
    await until(() => client.isClosed, 'the client to give up', 5);
    const closed = (await clientClose) as { kind: string; error: Error };
    expect(closed.kind).toBe('remote');
    expect(closed.error).toBeInstanceOf(SessionLostError);
    expect(closed.error.message).toMatch(/after 15 attempts: unreachable/);
    expect(health.map((e) => e.health)).toEqual(['disconnected']);
    expect(server.isClosed).toBe(false);
    await until(() => server.isClosed, 'the grace to run out', 250);
    expect(((await serverClose) as { error: Error }).error.message).toMatch(/did not come back within 30000 ms/);
  });

  test('a closed session is disconnected, on both sides, whatever its link was last', async () => {
    const { client, server } = await open(1);
    expect([client.health, server.health]).toEqual(['healthy', 'healthy']);
    client.close();
    await until(() => server.isClosed, 'the server to hear of the close');
    expect([client.health, server.health]).toEqual(['disconnected', 'disconnected']);
  });

  test('a server that no longer holds the session refuses it, and the client gives up at once', async () => {
    const { client, acceptor } = await open(1);
    // A restarted server: a new acceptor that never heard of the session.
    acceptor.dispose();
    const links: FlakyLink[] = [];
    const fresh = new SessionAcceptor();
    (client as unknown as { dial: () => unknown }).dial = () => {
      const link = new FlakyLink(1);
      links.push(link);
      fresh.accept(link.b);
      return link.a;
    };
    const closed = new Promise<{ kind: string; error?: Error }>((resolve) => client.onClose(resolve));
    client.reconnect();
    await until(() => client.isClosed, 'the refusal');
    const event = await closed;
    expect(event.error).toBeInstanceOf(SessionLostError);
    expect(event.error?.message).toMatch(/refused to resume session [0-9a-f]{32}: no such session/);
    expect(links).toHaveLength(1);
  });

  test('a resume with the right id and a wrong secret is refused', async () => {
    const { client, server } = await open(1);
    const secret = (client as unknown as { secret: Buffer }).secret;
    secret[0] ^= 0xff;
    const closed = new Promise<{ error?: Error }>((resolve) => client.onClose(resolve));
    client.reconnect();
    await until(() => client.isClosed, 'the refusal');
    expect((await closed).error?.message).toMatch(/no such session/);
    expect(server.isClosed).toBe(false);
  });

  test('a session a health listener closes as its socket drops leaves no timer behind', async () => {
    const { client, server, links } = await open(1);
    // Closing on the first sign of trouble: the server must not then wait out its grace for a client it gave up on.
    server.onDidChangeHealth((event) => event.health === 'disconnected' && server.close());
    client.onDidChangeHealth((event) => event.health === 'disconnected' && client.close());
    links[0].cut();
    await until(() => server.isClosed && client.isClosed, 'both sides to close');
    await run(10);
    expect(jest.getTimerCount()).toBe(0);
  });

  test('an option a session would refuse fails connectSession before anything is dialed', async () => {
    const dial = jest.fn((): FlakyLink['a'] => {
      throw new Error('dialed');
    });
    for (const options of [{ keepAliveMs: -1 }, { keepAliveMs: 2 ** 32 }, { unresponsiveMs: 0 }, { maxReplayBytes: NaN }]) {
      await expect(connectSession(dial, options)).rejects.toMatchObject({ name: 'RangeError' });
    }
    expect(dial).not.toHaveBeenCalled();
  });

  test('close() on one side closes the other as remote, after the messages sent before it', async () => {
    const { client, server } = await open(2);
    const got: number[] = [];
    server.onMessage((read) => got.push(read().readUint8()));
    const closed = new Promise<{ kind: string; reason: string }>((resolve) => server.onClose(resolve));
    for (let i = 0; i < 5; i++) client.getWriteBuffer().writeUint8(i).commit();
    client.close();
    await until(() => server.isClosed, 'the BYE');
    expect(got).toEqual([0, 1, 2, 3, 4]);
    expect(await closed).toMatchObject({ kind: 'remote', reason: expect.stringMatching(/other side closed the session/) });
    expect(() => client.getWriteBuffer()).toThrow(/closed/);
  });
});

describe('keep-alive, health and the socket timeout', () => {
  test('a silent peer turns unresponsive, its socket times out, and the session comes back healthy', async () => {
    const { client, links } = await open(1, { keepAliveMs: 1000, unresponsiveMs: 4000, socketTimeoutMs: 10_000 });
    const health: string[] = [];
    client.onDidChangeHealth((event) => health.push(event.health));
    await run(8000, 10);
    expect(health).toEqual([]); // keep-alives flow both ways: an idle session stays healthy
    links[0].stall();
    await until(() => health.includes('unresponsive'), 'unresponsive', 10);
    expect(client.isConnected).toBe(true);
    await until(() => health.includes('healthy'), 'a new socket', 5);
    expect(health).toEqual(['unresponsive', 'disconnected', 'healthy']);
    expect(client.resumeCount).toBe(1);
  });

  test('a loop that was busy here does not make the peer unresponsive or time its socket out', async () => {
    const { client, server } = await open(1, { keepAliveMs: 1000, unresponsiveMs: 4000, socketTimeoutMs: 10_000 });
    const health: string[] = [];
    client.onDidChangeHealth((event) => health.push(event.health));
    server.onDidChangeHealth((event) => health.push(`server ${event.health}`));
    await run(3000, 10);
    // The whole process blocked for a minute: the clock jumps, and no timer ran meanwhile.
    jest.setSystemTime(Date.now() + 60_000);
    await run(3000, 10);
    expect(health).toEqual([]);
    expect(client.resumeCount).toBe(0);
    expect(client.isConnected && server.isConnected).toBe(true);
  });
});
