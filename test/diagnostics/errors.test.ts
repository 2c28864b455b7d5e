import {
  IPCChannel,
  MessageTooLargeError,
  ReplyTooLargeError,
  EncodeError,
  Emitter,
  MethodNotFoundError,
  ServiceNotFoundError,
  type Event,
  HandshakeError,
  InMemoryChannel,
  IPCClient,
  IPCServer,
  NoMatchingClientError,
  RpcPeer,
  StaticRouter,
} from '../../src';
import { outcome } from '../helpers/rpc';
import { createMemoryDuplexPair } from '../helpers/streams';

function connect(server: IPCServer, ctx: string, token?: string): IPCClient {
  const [serverSide, clientSide] = InMemoryChannel.createPair();
  void server.accept(serverSide).catch(() => {});
  return new IPCClient(clientSide, ctx, { token });
}

describe('errors that say what to do', () => {
  test('a missing and a wrong token read differently, and both name FDPIPE_TOKEN', async () => {
    const server = new IPCServer({ token: 'sesame' });
    const refusals: Error[] = [];
    server.onError((error) => refusals.push(error));
    const saved = process.env.FDPIPE_TOKEN;
    delete process.env.FDPIPE_TOKEN;
    try {
      const missing = await outcome(connect(server, 'a').ready);
      const wrong = await outcome(connect(server, 'b', 'open-says-me').ready);
      expect(!missing.ok && missing.error).toBeInstanceOf(HandshakeError);
      expect(!wrong.ok && wrong.error).toBeInstanceOf(HandshakeError);
      const missingMessage = (missing as { error: Error }).error.message;
      const wrongMessage = (wrong as { error: Error }).error.message;
      expect(missingMessage).toContain('presented no token');
      expect(wrongMessage).toContain('presented a wrong token');
      expect(missingMessage).toContain('FDPIPE_TOKEN');
      expect(wrongMessage).toContain('FDPIPE_TOKEN');
      expect(refusals.map((e) => e.message)).toEqual([
        expect.stringContaining('no token'),
        expect.stringContaining('wrong token'),
      ]);
      const good = connect(server, 'c', 'sesame');
      await expect(good.ready).resolves.toBeUndefined();
      good.dispose();
    } finally {
      if (saved !== undefined) process.env.FDPIPE_TOKEN = saved;
      server.dispose();
    }
  });

  test('NoMatchingClientError names the channel, the call and the connected contexts', async () => {
    const server = new IPCServer();
    server.onError(() => {});
    const a = connect(server, 'renderer-1');
    const b = connect(server, 'renderer-2');
    await Promise.all([a.ready, b.ready]);
    await new Promise((resolve) => setImmediate(resolve));
    const channel = server.getChannel('files', new StaticRouter((ctx) => ctx === 'renderer-3', 10));
    const error = await channel.call('read', 'x').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NoMatchingClientError);
    const noMatch = error as NoMatchingClientError;
    expect(noMatch.message).toContain("for 'read' on channel 'files'");
    expect(noMatch.message).toContain("connected: 'renderer-1', 'renderer-2'");
    expect(noMatch.message).toContain("Check the router's filter");
    expect(noMatch).toMatchObject({ channel: 'files', command: 'read', connectedContexts: ['renderer-1', 'renderer-2'] });
    a.dispose();
    b.dispose();
    server.dispose();
  });

  test('an argument that cannot be encoded names the call, the argument and what to do', async () => {
    const [x, y] = InMemoryChannel.createPair();
    const caller = new RpcPeer(x);
    const callee = new RpcPeer(y);
    callee.expose('math', { apply: (_n: number, _f: unknown) => 0 });
    const math = caller.proxy<{ apply(n: number, options: { onProgress: () => void }): number }>('math');
    const error = await math.apply(1, { onProgress: function onProgress() {} }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EncodeError);
    expect((error as EncodeError).message).toBe(
      'cannot encode a function (onProgress) at args[1].onProgress of the call to math.apply: functions do not ' +
        'cross a connection; pass data, or expose the callback as a service on this side for the other to call',
    );
    expect(error).toMatchObject({ path: 'args[1].onProgress', call: 'math.apply' });
    caller.dispose();
    callee.dispose();
  });

  test("an aborted call rejects with the signal's reason itself, before and after it was sent", async () => {
    const [x, y] = InMemoryChannel.createPair();
    const caller = new RpcPeer(x);
    const callee = new RpcPeer(y);
    callee.expose('svc', { wait: (_signal: AbortSignal) => new Promise(() => {}) });
    const svc = caller.proxy<{ wait(signal?: AbortSignal): void }>('svc');
    const reason = new Error('the user closed the dialog');
    const controller = new AbortController();
    const pending = svc.wait(controller.signal).catch((e: unknown) => e);
    controller.abort(reason);
    expect(await pending).toBe(reason);
    const already = AbortSignal.abort(reason);
    expect(await svc.wait(already).catch((e: unknown) => e)).toBe(reason);
    caller.dispose();
    callee.dispose();
  });
});

describe('a name that is not there', () => {
  function pair(options?: { serviceWaitTimeout?: number }): [RpcPeer, RpcPeer] {
    const [x, y] = InMemoryChannel.createPair();
    return [new RpcPeer(x), new RpcPeer(y, options)];
  }

  test('a misspelled service fails naming the services the other side exposes', async () => {
    jest.useFakeTimers({ doNotFake: ['setImmediate', 'queueMicrotask', 'nextTick'] });
    try {
      const [caller, callee] = pair();
      callee.expose('math', { add: (a: number, b: number) => a + b });
      callee.expose('files', {});
      const call = caller.proxy<{ add(a: number, b: number): number }>('maths').add(1, 2).catch((e: unknown) => e);
      await new Promise((resolve) => setImmediate(resolve));
      jest.advanceTimersByTime(1000);
      const error = (await call) as ServiceNotFoundError;
      expect(error).toBeInstanceOf(ServiceNotFoundError);
      expect(error.message).toBe(
        "No service named 'maths' is exposed on the other side (waited 1000 ms): it exposes 'math', 'files'. Check " +
          'the name; a service exposed there later than this needs a longer serviceWaitTimeout on that side',
      );
      expect(error.exposed).toEqual(['math', 'files']);
      caller.dispose();
      callee.dispose();
    } finally {
      jest.useRealTimers();
    }
  });

  test('with serviceWaitTimeout 0 it fails at once; a service exposed late is still waited for by default', async () => {
    const [caller, callee] = pair({ serviceWaitTimeout: 0 });
    callee.expose('math', {});
    const error = (await caller.proxy<{ add(): number }>('maths').add().catch((e: unknown) => e)) as Error;
    expect(error).toBeInstanceOf(ServiceNotFoundError);
    expect(error.message).toContain("No service named 'maths' is exposed on the other side: it exposes 'math'");

    const [late, host] = pair();
    const answer = late.proxy<{ ping(): string }>('later').ping();
    await new Promise((resolve) => setImmediate(resolve));
    host.expose('later', { ping: () => 'pong' });
    await expect(answer).resolves.toBe('pong');
    for (const peer of [caller, callee, late, host]) peer.dispose();
  });

  test("listening to an event that does not exist: the event's onError hears why, and nothing is printed", async () => {
    const [caller, callee] = pair();
    const callerErrors: Error[] = [];
    const calleeErrors: Error[] = [];
    caller.protocol.onError((e) => callerErrors.push(e));
    callee.protocol.onError((e) => calleeErrors.push(e));
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(warning.message);
    process.on('warning', onWarning);
    try {
      callee.expose('clock', { onTick: new Emitter<number>().event });
      const clock = caller.proxy<{ onTick: Event<number>; onTock: Event<number> }>('clock');
      const failed = new Promise<Error>((resolve) => clock.onTock.onError(resolve));
      const values: number[] = [];
      clock.onTock((v) => values.push(v));
      const error = await failed;
      expect(error).toBeInstanceOf(MethodNotFoundError);
      expect(error.message).toBe("The service 'clock' has no event 'onTock' (its events: 'onTick')");
      await new Promise((resolve) => setImmediate(resolve));
      expect(callerErrors).toEqual([]);
      expect(calleeErrors).toEqual([]);
      expect(warnings).toEqual([]);
      expect(values).toEqual([]);
    } finally {
      process.off('warning', onWarning);
      caller.dispose();
      callee.dispose();
    }
  });
});

describe('a message over the receiver’s limit', () => {
  function pipePair(callerMax: number, calleeMax: number) {
    const [left, right] = createMemoryDuplexPair();
    const callerChannel = new IPCChannel(left, { maxMessageSize: callerMax });
    const calleeChannel = new IPCChannel(right, { maxMessageSize: calleeMax });
    const caller = new RpcPeer(callerChannel);
    const callee = new RpcPeer(calleeChannel);
    const errors = { caller: [] as Error[], callee: [] as Error[] };
    caller.protocol.onError((e) => errors.caller.push(e));
    callee.protocol.onError((e) => errors.callee.push(e));
    callee.expose('data', { get: (n: number) => 'x'.repeat(n), echo: (s: string) => s.length });
    const close = () => {
      caller.dispose();
      callee.dispose();
      callerChannel.close();
      calleeChannel.close();
    };
    return { caller, callerChannel, errors, close, data: caller.proxy<{ get(n: number): string; echo(s: string): number }>('data') };
  }

  test('a reply over the caller’s limit fails that call on both sides; the connection goes on', async () => {
    const { data, errors, callerChannel, close } = pipePair(1024, 1024 * 1024);
    await expect(data.get(10)).resolves.toBe('x'.repeat(10));
    const error = await data.get(5000).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ReplyTooLargeError);
    expect((error as Error).message).toMatch(/^The reply is 50\d\d bytes, over the caller's maxMessageSize of 1024 bytes/);
    expect((error as Error).message).toContain('Return less');
    expect(errors.callee).toEqual([expect.any(ReplyTooLargeError)]);
    expect(callerChannel.isClosed).toBe(false);
    await expect(data.get(20)).resolves.toBe('x'.repeat(20));
    expect(errors.caller).toEqual([]);
    close();
  });

  test('a request over the callee’s limit is refused before it is sent; the connection goes on', async () => {
    const { data, callerChannel, close } = pipePair(1024 * 1024, 1024);
    await expect(data.echo('short')).resolves.toBe(5);
    const error = await data.echo('y'.repeat(5000)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MessageTooLargeError);
    expect((error as Error).message).toContain('the other side accepts at most 1024 bytes');
    expect(callerChannel.isClosed).toBe(false);
    await expect(data.echo('again')).resolves.toBe(5);
    close();
  });
});
