import {
  AbortError,
  ChannelInUseError,
  Emitter,
  RpcPeer,
  currentCallSignal,
  ConnectionClosedError,
  InMemoryChannel,
  isRemoteError,
  RpcProtocol,
  RpcProtocolError,
  ServiceNotFoundError,
  TimeoutError,
} from '../src';
import { outcome, protocolPair, tick } from './helpers/rpc';

describe('RpcProtocol requests and replies', () => {
  test('calls the handler on the other side and resolves with its result, both directions at once', async () => {
    const [a, b] = protocolPair();
    a.setRequestHandler((method, args) => `a:${method}:${JSON.stringify(args)}`);
    b.setRequestHandler((method, args) => (args as number[]).reduce((x, y) => x + y, 0));
    const [fromB, fromA] = await Promise.all([a.sendRequest('sum', [1, 2, 3]), b.sendRequest('hello', ['x'])]);
    expect(fromB).toBe(6);
    expect(fromA).toBe('a:hello:["x"]');
    expect(a.pendingCount).toBe(0);
    expect(b.pendingCount).toBe(0);
  });

  test('notifications reach onNotification and the handler, and expect no reply', async () => {
    const [a, b] = protocolPair();
    const seen: unknown[] = [];
    const handled: unknown[] = [];
    b.onNotification((n) => seen.push(n));
    b.setRequestHandler((method, args) => handled.push([method, args]));
    a.sendNotification('progress', [50, 'half']);
    await tick();
    expect(seen).toEqual([{ target: '', method: 'progress', args: [50, 'half'] }]);
    expect(handled).toEqual([['progress', [50, 'half']]]);
    expect(a.pendingCount).toBe(0);
  });

  test('a settled call leaves the pending map at once, so many calls keep it empty', async () => {
    const [a, b] = protocolPair();
    b.setRequestHandler((_m, args) => args[0]);
    for (let round = 0; round < 20; round++) {
      const calls = Array.from({ length: 5000 }, (_, i) => a.sendRequest('id', [i]));
      expect(a.pendingCount).toBe(5000);
      const results = await Promise.all(calls);
      expect(results[4999]).toBe(4999);
      expect(a.pendingCount).toBe(0);
    }
  });

  test('ids wrap and are never reused while a call with that id is pending', async () => {
    const [a, b] = protocolPair({ maxRequestId: 5 });
    const release = new Map<string, (v: unknown) => void>();
    b.setRequestHandler((method, args) => {
      if (method === 'hold') return new Promise((resolve) => release.set(args[0] as string, resolve));
      return args[0];
    });
    // Three calls hold ids 1-3 while many quick calls cycle through the remaining ids.
    const held = ['x', 'y', 'z'].map((tag) => a.sendRequest('hold', [tag]));
    for (let i = 0; i < 50; i++) expect(await a.sendRequest('echo', [i])).toBe(i);
    // Two at once leave no free id for a third besides the held ones: the pair must use 4 and 5.
    expect(await Promise.all([a.sendRequest('echo', ['p']), a.sendRequest('echo', ['q'])])).toEqual(['p', 'q']);
    for (const [tag, resolve] of release) resolve(`released ${tag}`);
    expect(await Promise.all(held)).toEqual(['released x', 'released y', 'released z']);
  });

  test('a handler that never returns blocks nothing; replies leave in completion order', async () => {
    const [a, b] = protocolPair();
    const order: string[] = [];
    b.setRequestHandler(async (method, args) => {
      if (method === 'never') return new Promise(() => {});
      await new Promise((resolve) => setTimeout(resolve, args[0] as number));
      return method;
    });
    const never = outcome(a.sendRequest('never'));
    const slow = a.sendRequest('slow', [60]).then((v) => order.push(v as string));
    const fast = a.sendRequest('fast', [1]).then((v) => order.push(v as string));
    await Promise.all([slow, fast]);
    expect(order).toEqual(['fast', 'slow']);
    expect(a.pendingCount).toBe(1);
    a.channel.close();
    expect((await never).ok).toBe(false);
  });

  test('a reply for an unknown id, or a late one, is ignored quietly', async () => {
    const [a, b] = protocolPair();
    const errors: Error[] = [];
    a.onError((e) => errors.push(e));
    b.setRequestHandler(() => 1);
    // A reply (type 2) for id 999 that nobody asked for.
    b.channel.getWriteBuffer().writeUint8(2).writeLength(999).writeUint8(0).commit();
    await tick();
    expect(errors).toEqual([]);
    expect(await a.sendRequest('one')).toBe(1);
  });
});

describe('RpcProtocol errors', () => {
  test('a sync throw reaches the caller with name, message, code, cause, custom properties and both stacks', async () => {
    const [a, b] = protocolPair({ captureCallerStack: true });
    b.setRequestHandler(() => {
      const error = new RangeError('out of range');
      (error as any).code = 'E_RANGE';
      (error as any).limit = 10;
      error.cause = new Error('deeper');
      throw error;
    });
    const result = await outcome(a.sendRequest('check'));
    expect(result.ok).toBe(false);
    const error = (result as { error: any }).error;
    expect(error).toBeInstanceOf(RangeError);
    expect(error.name).toBe('RangeError');
    expect(error.message).toBe('out of range');
    expect(error.code).toBe('E_RANGE');
    expect(error.limit).toBe(10);
    expect(error.cause).toBeInstanceOf(Error);
    expect(error.cause.message).toBe('deeper');
    expect(isRemoteError(error)).toBe(true);
    expect(error.remoteStack).toContain('out of range');
    expect(error.stack).toContain('the frames above ran in the other process; check was called from');
    // The caller's own frame: this test file.
    expect(error.stack.split('called from')[1]).toContain('rpc-protocol.test.ts');
  });

  test('without caller stacks (the default) the remote stack is still marked as remote', async () => {
    const [a, b] = protocolPair();
    b.setRequestHandler(() => {
      throw new Error('plain');
    });
    const error = ((await outcome(a.sendRequest('check'))) as any).error;
    expect(error.remoteStack).toContain('plain');
    expect(error.stack).toContain('the frames above ran in the other process, serving check');
    expect(error.stack).not.toContain('called from');
  });

  test('an async rejection arrives the same way', async () => {
    const [a, b] = protocolPair();
    b.setRequestHandler(async () => {
      await tick();
      throw Object.assign(new Error('later'), { code: 'E_LATER' });
    });
    const result = await outcome(a.sendRequest('x'));
    expect(result.ok).toBe(false);
    expect((result as any).error.message).toBe('later');
    expect((result as any).error.code).toBe('E_LATER');
  });

  test('a non-Error rejection value arrives as itself', async () => {
    const [a, b] = protocolPair();
    b.setRequestHandler((method) => {
      if (method === 'string') throw 'just a string';
      return Promise.reject({ reason: 'an object', n: 1 });
    });
    expect(await outcome(a.sendRequest('string'))).toEqual({ ok: false, error: 'just a string' });
    expect(await outcome(a.sendRequest('object'))).toEqual({ ok: false, error: { reason: 'an object', n: 1 } });
  });

  test("a thrown error holding something that cannot be encoded arrives with its class, message and what can", async () => {
    const [a, b] = protocolPair();
    b.setRequestHandler(() => {
      // As an HTTP client's error keeps its request, callbacks and all.
      throw Object.assign(new TypeError('Request failed with status code 404'), {
        code: 'ERR_BAD_REQUEST',
        status: 404,
        request: { on() {} },
      });
    });
    const result = await outcome(a.sendRequest('fetch'));
    expect(result.ok).toBe(false);
    const error = (result as { error: Error & Record<string, unknown> }).error;
    expect(error).toBeInstanceOf(TypeError);
    expect(error.message).toBe('Request failed with status code 404');
    expect(error).toMatchObject({ code: 'ERR_BAD_REQUEST', status: 404 });
    expect(error.request).toBeUndefined();
  });

  test('a result that cannot be encoded rejects the call with the reason instead of hanging', async () => {
    const [a, b] = protocolPair();
    b.setRequestHandler(() => ({ callback: () => 1 }));
    const result = await outcome(a.sendRequest('bad'));
    expect(result.ok).toBe(false);
    expect((result as any).error.name).toBe('EncodeError');
    expect(await outcome(a.sendRequest('bad'))).toMatchObject({ ok: false });
  });

  test('arguments that cannot be encoded reject before anything is sent', async () => {
    const [a, b] = protocolPair();
    const calls: string[] = [];
    b.setRequestHandler((method) => calls.push(method));
    const result = await outcome(a.sendRequest('bad', [Symbol('no')]));
    expect(result.ok).toBe(false);
    expect((result as any).error.name).toBe('EncodeError');
    expect(a.pendingCount).toBe(0);
    await a.sendRequest('good');
    expect(calls).toEqual(['good']);
  });

  test('a corrupt message fails alone: garbage is reported, corrupt arguments reject that call, others go on', async () => {
    const [a, b] = protocolPair();
    const errors: Error[] = [];
    b.onError((e) => errors.push(e));
    b.setRequestHandler((_m, args) => args.length);
    // An unknown message type.
    a.channel.getWriteBuffer().writeUint8(200).writeUint32(1).commit();
    // A request (type 1, id 77) that claims 1000 arguments but carries two bytes.
    const reply = new Promise((resolve) => {
      a.channel.onMessage((read) => {
        const r = read();
        if (r.readUint8() === 3 && r.readLength() === 77) resolve(a.codec.decode(r));
      });
    });
    a.channel.getWriteBuffer().writeUint8(1).writeLength(77).writeUint8(0).writeString('').writeString('m')
      .writeLength(1000).writeUint8(0).writeUint8(0).commit();
    const decodeFailure: any = await reply;
    expect(decodeFailure.name).toBe('DecodeError');
    expect(errors.some((e) => e instanceof RpcProtocolError)).toBe(true);
    expect(await a.sendRequest('count', [1, 2, 3])).toBe(3);
  });
});

describe('RpcProtocol cancellation and timeouts', () => {
  test('aborting rejects at once with the reason, as fetch does, and the remote method sees its signal fire', async () => {
    const [a, b] = protocolPair();
    let remoteSignal: AbortSignal | undefined;
    const remoteAborted = new Promise<unknown>((resolve) => {
      b.setRequestHandler((_m, args) => {
        remoteSignal = args[args.length - 1] as AbortSignal;
        remoteSignal.addEventListener('abort', () => resolve(remoteSignal!.reason));
        return new Promise(() => {});
      });
    });
    const controller = new AbortController();
    const call = outcome(a.sendRequest('work', [1], { signal: controller.signal }));
    await tick();
    expect(remoteSignal).toBeInstanceOf(AbortSignal);
    expect(remoteSignal!.aborted).toBe(false);
    controller.abort('user gave up');
    const result = await call;
    expect(result.ok).toBe(false);
    expect((result as any).error).toBe('user gave up');
    expect(a.pendingCount).toBe(0);
    await remoteAborted;
    expect(remoteSignal!.aborted).toBe(true);
  });

  test('an already-aborted signal rejects before anything is sent', async () => {
    const [a, b] = protocolPair();
    const calls: string[] = [];
    b.setRequestHandler((m) => calls.push(m));
    const signal = AbortSignal.abort();
    const result = await outcome(a.sendRequest('work', [], { signal }));
    expect((result as any).error).toBe(signal.reason);
    expect((result as any).error).toMatchObject({ name: 'AbortError' }); // abort() without a reason: a DOMException
    await a.sendRequest('after');
    expect(calls).toEqual(['after']);
  });

  test('a call timeout rejects with TimeoutError naming the method and time, and cancels the remote work', async () => {
    const [a, b] = protocolPair();
    const aborted = new Promise<boolean>((resolve) => {
      b.setRequestHandler((_m, args) => {
        // No signal was passed, so none is appended: the arguments stay as sent.
        expect(args).toEqual([]);
        currentCallSignal()!.addEventListener('abort', () => resolve(true));
        return new Promise(() => {});
      });
    });
    const result = await outcome(a.sendRequest('slowThing', [], { timeout: 30 }));
    expect((result as any).error).toBeInstanceOf(TimeoutError);
    expect((result as any).error.message).toBe('The call to slowThing timed out after 30 ms');
    expect(await aborted).toBe(true);
  });

  test('a connection-wide timeout applies to every call', async () => {
    // Fake clocks: on a loaded machine a real 20 ms can pass before even the quick reply is back.
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
    try {
      const [a, b] = protocolPair({ timeout: 20 });
      b.setRequestHandler((m) => (m === 'quick' ? 'ok' : new Promise(() => {})));
      expect(await a.sendRequest('quick')).toBe('ok');
      const result = outcome(a.sendRequest('stuck'));
      jest.advanceTimersByTime(20);
      expect(((await result) as any).error).toBeInstanceOf(TimeoutError);
    } finally {
      jest.useRealTimers();
    }
  });

  test('without a signal or timeout the callee gets exactly the arguments sent, and no call signal', async () => {
    const [a, b] = protocolPair();
    b.setRequestHandler((_m, args) => [args.length, currentCallSignal() === undefined]);
    expect(await a.sendRequest('n', [1, 2])).toEqual([2, true]);
  });

  test('with only a timeout, rest-parameter handlers see just the arguments sent', async () => {
    const [a, b] = protocolPair({ timeout: 5000 });
    b.setRequestHandler((_m, args) => Math.max(...(args as number[])));
    expect(await a.sendRequest('max', [1, 5, 3])).toBe(5);
  });
});

describe('RpcProtocol and the connection closing', () => {
  test('pending calls reject with ConnectionClosedError carrying the reason, by the time onClose fires', async () => {
    const [a, b] = protocolPair();
    b.setRequestHandler(() => new Promise(() => {}));
    let settled = 0;
    const calls = Array.from({ length: 1000 }, (_, i) => outcome(a.sendRequest('hang', [i])).finally(() => settled++));
    await tick();
    const settledAfterClose = new Promise<number>((resolve) => a.onClose(() => setImmediate(() => resolve(settled))));
    b.channel.close();
    expect(await settledAfterClose).toBe(1000);
    for (const result of await Promise.all(calls)) {
      const error = (result as { error: ConnectionClosedError }).error;
      expect(error).toBeInstanceOf(ConnectionClosedError);
      expect(error.closeEvent?.kind).toBe('remote');
    }
    expect(a.pendingCount).toBe(0);
  });

  test('the callee aborts work for a caller that went away', async () => {
    const [a, b] = protocolPair();
    const aborted = new Promise<unknown>((resolve) => {
      b.setRequestHandler(async () => {
        // Still reachable after an await: the signal follows the call's async context.
        await tick();
        const signal = currentCallSignal()!;
        if (signal.aborted) resolve('aborted');
        else signal.addEventListener('abort', () => resolve('aborted'));
        return new Promise(() => {});
      });
    });
    void outcome(a.sendRequest('work', [], { timeout: 60000 }));
    await tick();
    a.channel.close();
    expect(await aborted).toBe('aborted');
  });

  test('a call after close rejects with ConnectionClosedError', async () => {
    const [a] = protocolPair();
    a.channel.close();
    const result = await outcome(a.sendRequest('x'));
    expect((result as any).error).toBeInstanceOf(ConnectionClosedError);
  });

  test('a request for a handler that never appears fails after the service wait', async () => {
    const [a] = protocolPair({ serviceWaitTimeout: 30 });
    const result = await outcome(a.sendRequest('x'));
    expect((result as any).error).toBeInstanceOf(ServiceNotFoundError);
  });

  test('a channel has one protocol at a time: a second is refused until the first is disposed', () => {
    const [a] = InMemoryChannel.createPair();
    const first = new RpcProtocol(a);
    expect(() => new RpcProtocol(a)).toThrow(ChannelInUseError);
    expect(() => new RpcProtocol(a)).toThrow(/Share that protocol/);
    first.dispose();
    const second = new RpcProtocol(a);
    expect(second.isDisposed).toBe(false);
    second.dispose();
  });

  test('a peer over a shared protocol stops serving what it exposed, and leaves the protocol to its owner', async () => {
    const [a, b] = InMemoryChannel.createPair();
    const owner = new RpcPeer(a);
    const guest = new RpcPeer(owner.protocol);
    owner.expose('one', { get: () => 1 });
    guest.expose('two', { get: () => 2 });
    const caller = new RpcPeer(b, { serviceWaitTimeout: 50 });
    const one = caller.proxy<{ get(): number }>('one');
    const two = caller.proxy<{ get(): number }>('two');
    expect([await one.get(), await two.get()]).toEqual([1, 2]);
    guest.dispose();
    expect(owner.protocol.isDisposed).toBe(false);
    expect(await one.get()).toBe(1);
    expect((await outcome(two.get())).ok).toBe(false);
    owner.dispose();
    expect(owner.protocol.isDisposed).toBe(true);
    caller.dispose();
  });
});

describe('one id space, one path to end work', () => {
  /** A protocol on one end, and the raw other end, to see and forge what travels. */
  function rawPair() {
    const [a, b] = InMemoryChannel.createPair();
    const protocol = new RpcProtocol(a);
    const seen: Array<{ type: number; id: number }> = [];
    b.onMessage((read) => {
      const reader = read();
      const type = reader.readUint8();
      seen.push({ type, id: type === 10 || type === 4 ? 0 : reader.readLength() });
    });
    return { protocol, raw: b, seen };
  }

  test('calls and subscriptions of one side never share an id', async () => {
    const { protocol, seen } = rawPair();
    const subscription = protocol.listen('svc', 'onTick')(() => {});
    void outcome(protocol.request('svc', 'run', []));
    const other = protocol.listen('svc', 'onTock')(() => {});
    void outcome(protocol.request('svc', 'run', []));
    await tick();
    const ids = seen.filter((m) => m.type === 1 || m.type === 6).map((m) => m.id);
    expect(ids).toHaveLength(4);
    expect(new Set(ids).size).toBe(4);
    subscription.dispose();
    other.dispose();
    protocol.dispose();
  });

  test('a subscription id used again ends the first subscription instead of leaking its listener', async () => {
    const { protocol, raw } = rawPair();
    const reported: Error[] = [];
    protocol.onError((error) => reported.push(error));
    const ticks = new Emitter<number>();
    protocol.registerTarget('svc', { call: () => undefined, listen: () => ticks.event });
    const subscribe = () =>
      raw.getWriteBuffer().writeUint8(6).writeLength(7).writeString('svc').writeString('onTick').writeLength(0).commit();
    subscribe();
    subscribe();
    await tick();
    expect(ticks.listenerCount).toBe(1);
    expect(reported.map((error) => error.message)).toEqual([expect.stringMatching(/reused id 7/)]);
    raw.getWriteBuffer().writeUint8(7).writeLength(7).commit();
    await tick();
    expect(ticks.listenerCount).toBe(0);
    protocol.dispose();
  });

  test('a cancel ends the work under its id and sends no reply', async () => {
    const { protocol, raw, seen } = rawPair();
    let signal: AbortSignal | undefined;
    protocol.setRequestHandler(() => {
      signal = currentCallSignal();
      return new Promise((resolve) => signal!.addEventListener('abort', () => resolve('late')));
    });
    const flagsCancellable = 1;
    raw.getWriteBuffer().writeUint8(1).writeLength(3).writeUint8(flagsCancellable).writeString('').writeString('m')
      .writeLength(0).commit();
    await tick();
    expect(signal?.aborted).toBe(false);
    raw.getWriteBuffer().writeUint8(5).writeLength(3).commit();
    await tick();
    await tick();
    expect(signal?.aborted).toBe(true);
    expect(seen.filter((m) => m.type === 2 || m.type === 3)).toEqual([]);
    protocol.dispose();
  });
});

describe('call signals stay with their call', () => {
  test('a call that cannot be cancelled sees no signal, even when sent from inside a cancellable one', async () => {
    const [front, frontServer] = protocolPair();
    const [back, backServer] = protocolPair();
    const seenByBack: Array<AbortSignal | undefined> = [];
    backServer.setRequestHandler(() => {
      seenByBack.push(currentCallSignal());
      return 'ok';
    });
    frontServer.setRequestHandler(async () => {
      // Served with a timeout, so this runs with a call signal; the backend call it makes has none.
      expect(currentCallSignal()).toBeInstanceOf(AbortSignal);
      return back.sendRequest('plain');
    });
    expect(await front.sendRequest('outer', [], { timeout: 60000 })).toBe('ok');
    expect(seenByBack).toEqual([undefined]);
  });
});

