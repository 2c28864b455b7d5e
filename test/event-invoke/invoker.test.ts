import {
  AbortError,
  BaseInvokerChannel,
  Callee,
  ChannelNotConnectedError,
  ConnectionClosedError,
  currentCallSignal,
  InMemoryChannel,
  InvalidMethodNameError,
  Invoker,
  InvokerDestroyedError,
  isRemoteError,
  MethodNotFoundError,
  RpcProtocol,
  TimeoutError,
  type EventInvokeTarget,
} from '../../src';
import { gate, settled, turns, wire } from '../helpers/eventInvoke';

interface Pair {
  invokerSide: EventInvokeTarget;
  calleeSide: EventInvokeTarget;
}

// Every behaviour here holds over both of the face's paths: event-invoke's packets (a custom channel pair, as a
// ChildProcess and its `process` would be) and fdpipe's binary protocol (a Channel pair, as fd 4 would be).
const transports: Array<[string, () => Pair]> = [
  ['event-invoke packets', () => wire()],
  [
    'the binary protocol',
    () => {
      const [a, b] = InMemoryChannel.createPair();
      return { invokerSide: a, calleeSide: b };
    },
  ],
];

function foo(a = 'a', b = 'b') {
  return `foo.${a}.${b}`;
}

describe.each(transports)('Invoker over %s', (_name, makePair) => {
  let pair: Pair;
  let callee: Callee;
  let invoker: Invoker;
  const held = new Set<() => void>();

  beforeEach(() => {
    pair = makePair();
    callee = new Callee(pair.calleeSide)
      .register(foo)
      .register(function max(...numbers: number[]) {
        return Math.max(...numbers);
      })
      .register(function count(...args: unknown[]) {
        return args.length;
      })
      .register(function echo(value: unknown) {
        return value;
      })
      .register(function hold(tag: string) {
        const { promise, open } = gate<string>();
        held.add(() => open(tag));
        return promise;
      })
      .register(function stall() {
        return new Promise(() => {});
      })
      .register(function watch() {
        const signal = currentCallSignal();
        return new Promise((resolve) => signal?.addEventListener('abort', () => resolve('aborted')));
      })
      .listen();
    invoker = new Invoker(pair.invokerSide);
  });

  afterEach(() => {
    for (const release of held) release();
    held.clear();
    invoker.destroy();
    callee.destroy();
    jest.useRealTimers();
  });

  test("event-invoke's argument rule: an array is spread, a bare value is one argument, nothing is none", async () => {
    expect(await invoker.invoke('max', [1, 2, 3])).toBe(3);
    expect(await invoker.invoke('foo', [1, 2])).toBe('foo.1.2');
    expect(await invoker.invoke('foo', 'x')).toBe('foo.x.b');
    expect(await invoker.invoke('foo')).toBe('foo.a.b');
    expect(await invoker.invoke('foo', undefined)).toBe('foo.a.b');
    expect(await invoker.invoke('count', null)).toBe(1);
    expect(await invoker.invoke('count', [])).toBe(0);
    // A single argument that is an array itself goes wrapped, or it would be spread.
    expect(await invoker.invoke('echo', [[1, 2]])).toEqual([1, 2]);
    expect(await invoker.invoke('echo', [1, 2])).toBe(1);
  });

  test('calls of one name at once each get their own result', async () => {
    const results = await Promise.all([invoker.invoke('foo', [1, 2]), invoker.invoke('foo')]);
    expect(results).toEqual(['foo.1.2', 'foo.a.b']);
    const many = await Promise.all(Array.from({ length: 2000 }, (_, i) => invoker.invoke('echo', i)));
    expect(many.every((value, i) => value === i)).toBe(true);
  });

  test('a bad name rejects, never throws: "bad method name to invoke"', async () => {
    for (const name of [undefined, '', 42, null]) {
      const call = (invoker.invoke as (name: unknown) => Promise<unknown>)(name);
      expect(call).toBeInstanceOf(Promise);
      const result = await settled(call);
      expect(result.ok).toBe(false);
      expect(result.error).toBeInstanceOf(InvalidMethodNameError);
      expect(result.error).toBeInstanceOf(TypeError);
      expect(result.error.message).toMatch(/^bad method name to invoke/);
    }
  });

  test('an unregistered name rejects with MethodNotFoundError: unregistered function: "NAME"', async () => {
    const result = await settled(invoker.invoke('_unknown'));
    expect(result.error).toBeInstanceOf(MethodNotFoundError);
    expect(result.error.message).toMatch(/^unregistered function: "_unknown"/);
  });

  test('the default timeout is 3000 ms: method "NAME" timeout', async () => {
    jest.useFakeTimers({ doNotFake: ['setImmediate', 'queueMicrotask', 'nextTick'] });
    const call = settled(invoker.invoke('stall'));
    let done = false;
    void call.then(() => (done = true));
    jest.advanceTimersByTime(2999);
    await turns();
    expect(done).toBe(false);
    jest.advanceTimersByTime(1);
    const result = await call;
    expect(result.error).toBeInstanceOf(TimeoutError);
    expect(result.error.message).toMatch(/^method "stall" timeout/);
    expect(isRemoteError(result.error)).toBe(false);
  });

  test('a timeout of 0 or less is none', async () => {
    jest.useFakeTimers({ doNotFake: ['setImmediate', 'queueMicrotask', 'nextTick'] });
    const patient = new Invoker(pair.invokerSide, { timeout: 0 });
    const calls = [patient.invoke('hold', 'zero'), invoker.invoke('hold', 'negative', { timeout: -100 })];
    jest.advanceTimersByTime(60_000);
    await turns();
    for (const release of held) release();
    expect(await Promise.all(calls)).toEqual(['zero', 'negative']);
  });

  test("options given to invoke() replace the Invoker's whole", async () => {
    jest.useFakeTimers({ doNotFake: ['setImmediate', 'queueMicrotask', 'nextTick'] });
    const quick = settled(invoker.invoke('stall', undefined, { timeout: 200 }));
    jest.advanceTimersByTime(200);
    expect((await quick).error.message).toMatch(/^method "stall" timeout/);

    // `{}` has no timeout, so the 3000 ms default no longer applies, as in event-invoke.
    const untimed = invoker.invoke('hold', 'late', {});
    jest.advanceTimersByTime(60_000);
    await turns();
    for (const release of held) release();
    expect(await untimed).toBe('late');

    const slowInvoker = new Invoker(pair.invokerSide, { timeout: 50 });
    const inherited = settled(slowInvoker.invoke('stall'));
    jest.advanceTimersByTime(50);
    expect((await inherited).error.message).toMatch(/^method "stall" timeout/);
    slowInvoker.destroy();
  });

  test('a reply that comes after its call timed out settles nothing else', async () => {
    const first = settled(invoker.invoke('hold', 'first', { timeout: 1 }));
    expect((await first).error).toBeInstanceOf(TimeoutError);
    const second = invoker.invoke('hold', 'second', { timeout: 0 });
    await turns();
    for (const release of held) release(); // both replies go out now, the stale one first
    expect(await second).toBe('second');
  });

  test("an AbortSignal in the options rejects with the signal's reason and the callee sees its signal abort", async () => {
    const controller = new AbortController();
    const watched = settled(invoker.invoke('watch', undefined, { signal: controller.signal }));
    const observer = invoker.invoke('hold', 'observer', { timeout: 0 });
    await turns();
    controller.abort('enough');
    const result = await watched;
    expect(result.error).toBe('enough');
    for (const release of held) release();
    expect(await observer).toBe('observer');

    const abortedSignal = AbortSignal.abort();
    const already = await settled(invoker.invoke('max', [1], { signal: abortedSignal }));
    expect(already.error).toBe(abortedSignal.reason);
  });

  test('a signal passed by the caller takes no argument place on the callee', async () => {
    const signal = new AbortController().signal;
    expect(await invoker.invoke('count', [1, 2], { signal })).toBe(2);
    expect(await invoker.invoke('max', [1, 7], { signal, timeout: 1000 })).toBe(7);
  });

  test('destroy() rejects the calls still waiting: rejected by destroy()', async () => {
    const waiting = settled(invoker.invoke('stall'));
    const other = settled(invoker.invoke('hold', 'x'));
    await turns();
    invoker.destroy();
    for (const result of [await waiting, await other]) {
      expect(result.error).toBeInstanceOf(InvokerDestroyedError);
      expect(result.error).toBeInstanceOf(ConnectionClosedError);
      expect(result.error.message).toMatch(/^rejected by destroy\(\)/);
    }
  });

  test('after destroy(), invoke() rejects: channel is not connected', async () => {
    invoker.destroy();
    const result = await settled(invoker.invoke('max', [1]));
    expect(result.error).toBeInstanceOf(ChannelNotConnectedError);
    expect(result.error).toBeInstanceOf(ConnectionClosedError);
    expect(result.error.message).toMatch(/^channel is not connected/);
    // The Callee on the other side is unharmed; a new Invoker calls it.
    const again = new Invoker(pair.invokerSide);
    if (pair.invokerSide instanceof BaseInvokerChannel) pair.invokerSide.connect();
    expect(await again.invoke('max', [4, 5])).toBe(5);
    again.destroy();
  });

  test("destroy() rejects this Invoker's calls even while a Callee on the same side keeps the connection", async () => {
    // Each side invokes and serves over one endpoint; destroying the invoker must not wait for the callee's end.
    const servingHere = new Callee(pair.invokerSide).register(function ping() {
      return 'pong';
    });
    servingHere.listen();
    const backwards = new Invoker(pair.calleeSide);
    expect(await backwards.invoke('ping')).toBe('pong');

    const waiting = settled(invoker.invoke('stall'));
    await turns();
    invoker.destroy();
    expect((await waiting).error).toBeInstanceOf(InvokerDestroyedError);
    // What stays on that side still serves.
    expect(await backwards.invoke('ping')).toBe('pong');
    backwards.destroy();
    servingHere.destroy();
  });

  test('dispose() destroys', async () => {
    const waiting = settled(invoker.invoke('stall'));
    await turns();
    invoker.dispose();
    expect((await waiting).error).toBeInstanceOf(InvokerDestroyedError);
  });

  test('a remote failure keeps its class, message, code, cause and the remote stack', async () => {
    callee.register(function fail(message: string) {
      const error = new RangeError(message);
      (error as RangeError & { code: string }).code = 'E_RANGE';
      (error as Error).cause = new Error('the root cause');
      throw error;
    });
    const result = await settled(invoker.invoke('fail', 'out of range'));
    expect(result.error).toBeInstanceOf(RangeError);
    expect(result.error.message).toBe('out of range');
    expect(result.error.code).toBe('E_RANGE');
    expect(result.error.cause).toBeInstanceOf(Error);
    expect(result.error.cause.message).toBe('the root cause');
    expect(isRemoteError(result.error)).toBe(true);
    expect(result.error.remoteStack).toMatch(/RangeError: out of range\n\s+at fail/);
  });

  test('a rejection with something other than an Error arrives as that value', async () => {
    callee.register(function rejectsWithValue() {
      return Promise.reject({ reason: 'not an error' });
    });
    const result = await settled(invoker.invoke('rejectsWithValue'));
    expect(result.error).toEqual({ reason: 'not an error' });
  });
});

describe('Invoker, whatever the transport', () => {
  test('what is no channel at all is refused at once, saying what is wanted', () => {
    for (const target of [undefined, null, 42, 'child', {}, { send() {} }]) {
      expect(() => new Invoker(target as never)).toThrow(TypeError);
      expect(() => new Invoker(target as never)).toThrow(/^An Invoker or Callee runs over a ChildProcess/);
    }
    for (const target of [42, 'child', {}]) expect(() => new Callee(target as never)).toThrow(TypeError);
    expect(() => new Callee(null as never)).not.toThrow(); // event-invoke's rule: no channel means process
  });

  test('a custom channel must be connected before calls go out', async () => {
    const { invokerSide, calleeSide } = wire();
    invokerSide.disconnect();
    const callee = new Callee(calleeSide).register(function max(...n: number[]) {
      return Math.max(...n);
    });
    callee.listen();
    const invoker = new Invoker(invokerSide);
    const result = await settled(invoker.invoke('max', [1, 2, 3]));
    expect(result.error).toBeInstanceOf(ChannelNotConnectedError);
    expect(result.error.message).toMatch(/^channel is not connected/);
    expect(invokerSide.sent).toEqual([]);
    invokerSide.connect();
    expect(await invoker.invoke('max', [1, 2, 3])).toBe(3);
    invoker.destroy();
    callee.destroy();
  });

  test("destroy() calls the channel's disconnect() and destroy(), and copes without them", () => {
    const channel = new BaseInvokerChannel();
    channel.connect();
    const destroyed = jest.spyOn(channel, 'destroy');
    new Invoker(channel).destroy();
    expect(channel.connected).toBe(false);
    expect(destroyed).toHaveBeenCalledTimes(1);

    const bare = new BaseInvokerChannel();
    bare.connect();
    (bare as { disconnect?: unknown }).disconnect = undefined;
    const invoker = new Invoker(bare);
    expect(() => invoker.destroy()).not.toThrow();
    expect(() => invoker.destroy()).not.toThrow();
  });

  test('a shared RpcProtocol is used as it is and left running', async () => {
    const [a, b] = InMemoryChannel.createPair();
    const protocol = new RpcProtocol(a);
    const callee = new Callee(b).register(function twice(n: number) {
      return n * 2;
    });
    callee.listen();
    const invoker = new Invoker(protocol);
    expect(await invoker.invoke('twice', 21)).toBe(42);
    invoker.destroy();
    expect(protocol.isDisposed).toBe(false);
    expect(await protocol.sendRequest('twice', [4])).toBe(8);
    protocol.dispose();
    callee.destroy();
  });

  test('the channel closing rejects the calls waiting with ConnectionClosedError', async () => {
    const [a, b] = InMemoryChannel.createPair();
    const callee = new Callee(b).register(function stall() {
      return new Promise(() => {});
    });
    callee.listen();
    const invoker = new Invoker(a);
    const waiting = settled(invoker.invoke('stall'));
    await turns();
    b.close();
    const result = await waiting;
    expect(result.error).toBeInstanceOf(ConnectionClosedError);
    expect(result.error).not.toBeInstanceOf(InvokerDestroyedError);
    const later = await settled(invoker.invoke('stall'));
    expect(later.error).toBeInstanceOf(ChannelNotConnectedError);
    invoker.destroy();
    callee.destroy();
  });
});
