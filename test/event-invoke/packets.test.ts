import { EventEmitter } from 'events';
import {
  BaseCalleeChannel,
  BaseInvokerChannel,
  Callee,
  currentCallSignal,
  Invoker,
  MethodNotFoundError,
  RpcProtocolError,
} from '../../src';
import { BusCalleeChannel, BusInvokerChannel, gate, overJson, settled, turns, wire } from '../helpers/eventInvoke';

// event-invoke's message shape, as its source and README describe it:
//   call:    { _seq, name, args, _from: 'invoker' }
//   outcome: { _seq, _status: 0 | 1 | 2, name, payload, _from: 'callee' }
// The packets below are written from that description, as an event-invoke process would send them.

function foo(a = 'a', b = 'b') {
  return `foo.${a}.${b}`;
}

describe('packets an fdpipe Invoker sends', () => {
  test("a call has event-invoke's fields, a numeric _seq of its own, and fdpipe's extras apart", async () => {
    const { invokerSide, calleeSide } = wire();
    const callee = new Callee(calleeSide).register(foo).listen();
    const invoker = new Invoker(invokerSide);
    await Promise.all([invoker.invoke('foo', [1, 2]), invoker.invoke('foo'), invoker.invoke('foo', 'x')]);
    expect(invokerSide.sent).toHaveLength(3);
    for (const packet of invokerSide.sent) {
      expect(Object.keys(packet).sort()).toEqual(['_fdpipe', '_from', '_seq', 'args', 'name']);
      expect(packet).toMatchObject({ name: 'foo', _from: 'invoker' });
      expect(Number.isInteger(packet._seq)).toBe(true);
      expect(packet._fdpipe).toEqual({ from: expect.any(String), cancellable: true });
    }
    expect(invokerSide.sent.map((packet) => packet.args)).toEqual([[1, 2], [], ['x']]);
    expect(new Set(invokerSide.sent.map((packet) => packet._seq)).size).toBe(3);
    invoker.destroy();
    callee.destroy();
  });

  test('every call, on any channel, gets a _seq no other call of this process has at the time', async () => {
    const first = wire();
    const second = wire();
    const callees = [first, second].map(({ calleeSide }) => new Callee(calleeSide).register(foo).listen());
    const invokers = [first, second].map(({ invokerSide }) => new Invoker(invokerSide));
    await Promise.all(invokers.flatMap((invoker) => [invoker.invoke('foo'), invoker.invoke('foo')]));
    const seqs = [...first.invokerSide.sent, ...second.invokerSide.sent].map((packet) => packet._seq);
    expect(new Set(seqs).size).toBe(4);
    for (const invoker of invokers) invoker.destroy();
    for (const callee of callees) callee.destroy();
  });

  test("an event-invoke callee's outcomes, which carry no extras, settle the calls", async () => {
    const channel = new BaseInvokerChannel();
    channel.connect();
    const sent: Array<Record<string, unknown>> = [];
    channel.send = (packet: unknown) => void sent.push(packet as Record<string, unknown>);
    const invoker = new Invoker(channel);
    const ok = invoker.invoke('foo');
    const failed = settled(invoker.invoke('foo', 'bad'));
    const missing = settled(invoker.invoke('nope'));
    await turns();
    const [okCall, failedCall, missingCall] = sent;
    channel.emit('message', { _seq: failedCall._seq, _status: 1, name: 'foo', payload: 'foo throw', _from: 'callee' });
    channel.emit('message', {
      _seq: missingCall._seq,
      _status: 2,
      name: 'nope',
      payload: 'unregistered function: "nope"',
      _from: 'callee',
    });
    channel.emit('message', { _seq: okCall._seq, _status: 0, name: 'foo', payload: 'foo.a.b', _from: 'callee' });
    expect(await ok).toBe('foo.a.b');
    const failure = (await failed).error;
    expect(failure).toBeInstanceOf(Error);
    expect(failure.message).toBe('foo throw');
    const notFound = (await missing).error;
    expect(notFound).toBeInstanceOf(MethodNotFoundError);
    expect(notFound.message).toBe('unregistered function: "nope"');
    invoker.destroy();
  });

  test("a cancel is a packet event-invoke skips: marked as a callee's, with no name and no _seq", async () => {
    const { invokerSide, calleeSide } = wire();
    const aborted = gate<unknown>();
    const callee = new Callee(calleeSide)
      .register(function watch() {
        currentCallSignal()?.addEventListener('abort', () => aborted.open(currentCallSignal()?.reason));
        return new Promise(() => {});
      })
      .listen();
    const invoker = new Invoker(invokerSide);
    const controller = new AbortController();
    const call = settled(invoker.invoke('watch', undefined, { signal: controller.signal }));
    await turns();
    controller.abort();
    await call;
    const cancel = invokerSide.sent[1];
    const seq = invokerSide.sent[0]._seq;
    expect(cancel).toEqual({ _from: 'callee', _fdpipe: { cancel: seq, from: expect.any(String) } });
    expect(cancel).not.toHaveProperty('name');
    expect(cancel).not.toHaveProperty('_seq');
    await aborted.promise; // the fdpipe callee stopped the work
    invoker.destroy();
    callee.destroy();
  });
});

describe('packets an fdpipe Callee answers', () => {
  let channel: BaseCalleeChannel;
  let sent: Array<Record<string, unknown>>;
  let callee: Callee;

  beforeEach(() => {
    channel = new BaseCalleeChannel();
    sent = [];
    channel.send = (packet: unknown) => void sent.push(packet as Record<string, unknown>);
    callee = new Callee(channel)
      .register({ foo })
      .register(function fooThrow() {
        throw new Error('foo throw');
      })
      .register(function count(...args: unknown[]) {
        return args.length;
      })
      .listen();
  });
  afterEach(() => callee.destroy());

  async function answer(request: Record<string, unknown>): Promise<Record<string, unknown>> {
    const before = sent.length;
    channel.emit('message', request);
    for (let i = 0; i < 20 && sent.length === before; i++) await turns(1);
    expect(sent).toHaveLength(before + 1);
    return sent[before];
  }

  test("a call from an event-invoke invoker is answered in event-invoke's shape exactly", async () => {
    expect(await answer({ _seq: 0, name: 'foo', args: null, _from: 'invoker' })).toEqual({
      _seq: 0,
      _status: 0,
      name: 'foo',
      payload: 'foo.null.b',
      _from: 'callee',
    });
    expect(await answer({ _seq: 1, name: 'foo', args: [1, 2], _from: 'invoker' })).toEqual({
      _seq: 1,
      _status: 0,
      name: 'foo',
      payload: 'foo.1.2',
      _from: 'callee',
    });
  });

  test('args: an array is spread, anything else is one argument, none is none', async () => {
    const counts = [];
    for (const args of [[1, 2, 3], [], 'x', 0, null, { a: 1 }]) {
      counts.push((await answer({ _seq: 5, name: 'count', args, _from: 'invoker' })).payload);
    }
    counts.push((await answer({ _seq: 6, name: 'count', _from: 'invoker' })).payload);
    expect(counts).toEqual([3, 0, 1, 1, 1, 1, 0]);
  });

  test("a function that throws: _status 1, its message as payload, the whole error in fdpipe's extras", async () => {
    const reply = await answer({ _seq: 3, name: 'fooThrow', _from: 'invoker' });
    expect(reply).toMatchObject({ _seq: 3, _status: 1, name: 'fooThrow', payload: 'foo throw', _from: 'callee' });
    expect(Object.keys(reply._fdpipe as object)).toEqual(['error']);
    expect(typeof (reply._fdpipe as { error: unknown }).error).toBe('string');
  });

  test('a name with no function, or no name at all: _status 2, unregistered function: "NAME"', async () => {
    expect(await answer({ _seq: 4, name: '_unknown', _from: 'invoker' })).toMatchObject({
      _seq: 4,
      _status: 2,
      name: '_unknown',
      payload: 'unregistered function: "_unknown"',
      _from: 'callee',
    });
    const nameless = await answer({ _from: 'invoker' });
    expect(nameless).toMatchObject({ _status: 2, payload: 'unregistered function: "undefined"', _from: 'callee' });
    expect(nameless._seq).toBeUndefined();
    expect(nameless.name).toBeUndefined();
  });

  test('a call that arrives just before destroy() is answered as failed, not dropped', async () => {
    callee.register(function stall() {
      return new Promise(() => {});
    });
    channel.emit('message', { _seq: 9, name: 'stall', _from: 'invoker' });
    callee.destroy();
    await turns();
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ _seq: 9, _status: 1, name: 'stall', _from: 'callee' });
    expect(sent[0].payload).toMatch(/the connection closed: the Callee stopped serving/);
  });

  test("a call from an fdpipe invoker is answered to it, in fdpipe's extras", async () => {
    expect(await answer({ _seq: 8, name: 'foo', _from: 'invoker', _fdpipe: { from: 'me' } })).toEqual({
      _seq: 8,
      _status: 0,
      name: 'foo',
      payload: 'foo.a.b',
      _from: 'callee',
      _fdpipe: { to: 'me' },
    });
  });
});

describe('what is not a packet for us', () => {
  let warn: jest.SpyInstance;
  beforeEach(() => {
    warn = jest.spyOn(process, 'emitWarning').mockImplementation(() => {});
  });
  afterEach(() => warn.mockRestore());

  test("other traffic on the endpoint is ignored, silently; an unmarked outcome of a pending call is taken", async () => {
    const { invokerSide, calleeSide } = wire();
    const release = gate<string>();
    const callee = new Callee(calleeSide)
      .register(function hold() {
        return release.promise;
      })
      .listen();
    const invoker = new Invoker(invokerSide);
    const call = invoker.invoke('hold');
    await turns();
    const seq = invokerSide.sent[0]._seq;
    const unmarked = [undefined, null, 'foo', 42, [], [1, 2], {}, { name: 'hold' }, { fdpipe: 1, data: 'AA==' }];
    for (const message of unmarked) {
      calleeSide.emit('message', message);
      invokerSide.emit('message', message);
    }
    // Marked as someone else's: not ours.
    invokerSide.emit('message', { _seq: seq, _status: 0, name: 'hold', payload: 'hijacked', _from: 'someone' });
    await turns();
    expect(calleeSide.sent).toEqual([]);
    // Unmarked but shaped like an outcome of the pending call: event-invoke's Invoker takes it, and so do we.
    invokerSide.emit('message', { _seq: seq, _status: 0, name: 'hold', payload: 'from a hand-written callee' });
    expect(await call).toBe('from a hand-written callee');
    release.open('the real result');
    await turns();
    expect(warn).not.toHaveBeenCalled();
    invoker.destroy();
    callee.destroy();
  });

  test('a reply for no call of ours — unknown _seq, another name, another invoker — is ignored', async () => {
    const channel = new BaseInvokerChannel();
    channel.connect();
    const sent: Array<Record<string, unknown>> = [];
    channel.send = (packet: unknown) => void sent.push(packet as Record<string, unknown>);
    const invoker = new Invoker(channel);
    const call = invoker.invoke('foo');
    await turns();
    const seq = sent[0]._seq as number;
    const from = (sent[0]._fdpipe as { from: string }).from;
    const reply = { _status: 0, _from: 'callee' };
    channel.emit('message', { ...reply, _seq: seq + 1000, name: 'foo', payload: 'unknown seq' });
    channel.emit('message', { ...reply, _seq: String(seq), name: 'foo', payload: 'a string seq' });
    channel.emit('message', { ...reply, name: 'xxx', payload: 'no seq' });
    channel.emit('message', { ...reply, _seq: seq, name: 'bar', payload: 'another name' });
    channel.emit('message', { ...reply, _seq: seq, name: 'foo', payload: 'another invoker', _fdpipe: { to: 'other' } });
    channel.emit('message', { ...reply, _seq: seq, name: 'foo', payload: 'ours', _fdpipe: { to: from } });
    channel.emit('message', { ...reply, _seq: seq, name: 'foo', payload: 'a second reply' });
    expect(await call).toBe('ours');
    await turns();
    expect(warn).not.toHaveBeenCalled();
    invoker.destroy();
  });

  test('a malformed packet is dropped and reported to onError, never thrown from the listener', async () => {
    const { invokerSide, calleeSide } = wire();
    const errors: Error[] = [];
    const release = gate<string>();
    const callee = new Callee(calleeSide, { onError: (error) => errors.push(error) })
      .register(function hold() {
        return release.promise;
      })
      .listen();
    const shared = new Callee(invokerSide, { onError: (error) => errors.push(error) }).listen();
    const invoker = new Invoker(invokerSide);
    const bad = [
      { _seq: 1, name: 'foo', _from: 'invoker', _fdpipe: 5 },
      { _seq: 1, name: 'foo', _from: 'invoker', _fdpipe: { from: 7 } },
      { _seq: 1, name: 'foo', _from: 'invoker', _fdpipe: { cancellable: 'yes' } },
      { _from: 'callee', _fdpipe: { cancel: 'x', from: 'me' } },
      { _from: 'callee', _fdpipe: { cancel: 1 } },
    ];
    for (const packet of bad) expect(() => calleeSide.emit('message', packet)).not.toThrow();
    await turns();
    expect(calleeSide.sent).toEqual([]);

    // A reply to a real call whose _status is not a number is reported, and settles the call (event-invoke's
    // Invoker rejects it too): a callee answers once, so waiting on would wait forever without a timeout.
    const call = invoker.invoke('hold');
    await turns();
    const request = invokerSide.sent[0];
    invokerSide.emit('message', { _seq: request._seq, name: 'hold', _status: 'ok', payload: 'x', _from: 'callee' });
    await expect(call).rejects.toThrow(/^Dropped a malformed event-invoke packet: the reply to "hold"/);
    release.open('the true reply');

    expect(errors).toHaveLength(bad.length + 1);
    for (const error of errors) {
      expect(error).toBeInstanceOf(RpcProtocolError);
      expect(error.message).toMatch(/^Dropped a malformed event-invoke packet/);
    }
    expect(warn).not.toHaveBeenCalled();
    invoker.destroy();
    shared.destroy();
    callee.destroy();
  });

  test('without onError, a malformed packet becomes a process warning', async () => {
    const channel = new BaseCalleeChannel();
    const callee = new Callee(channel).listen();
    channel.emit('message', { _seq: 1, name: 'foo', _from: 'invoker', _fdpipe: 'not extras' });
    await turns();
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0][0])).toMatch(/malformed event-invoke packet/);
    callee.destroy();

    const invokerChannel = new BaseInvokerChannel();
    const invoker = new Invoker(invokerChannel);
    invokerChannel.emit('message', { _from: 'callee', _fdpipe: [] });
    await turns();
    expect(warn).toHaveBeenCalledTimes(2);
    invoker.destroy();
  });
});

describe('custom channels on a shared bus', () => {
  test("an Invoker and a Callee on one bus each skip their own messages (event-invoke's bus example)", async () => {
    const bus = new EventEmitter();
    const calleeChannel = new BusCalleeChannel(bus);
    const invokerChannel = new BusInvokerChannel(bus);
    const heard: unknown[] = [];
    bus.on('message', (packet) => heard.push(packet));
    const callee = new Callee(calleeChannel).register(function max(...args: number[]) {
      return Math.max(...args);
    });
    callee.listen();
    const invoker = new Invoker(invokerChannel);
    invokerChannel.connect(); // before invoking, as event-invoke says
    expect(await invoker.invoke('max', [1, 2, 3])).toBe(3);
    await turns();
    // One call and one reply: neither side answered what it sent itself.
    expect(heard.map((packet) => (packet as { _from: string })._from)).toEqual(['invoker', 'callee']);
    invoker.destroy();
    callee.destroy();
    expect(bus.listenerCount('message')).toBe(1);
  });

  test('alone on a bus, an Invoker hears its own call and leaves it: nobody answers it', async () => {
    jest.useFakeTimers({ doNotFake: ['setImmediate', 'queueMicrotask', 'nextTick'] });
    try {
      const bus = new EventEmitter();
      const heard: unknown[] = [];
      bus.on('message', (packet) => heard.push(packet));
      const channel = new BusInvokerChannel(bus);
      channel.connect();
      const invoker = new Invoker(channel);
      const call = settled(invoker.invoke('max', [1, 2], { timeout: 0 }));
      await turns();
      jest.advanceTimersByTime(60_000);
      await turns();
      expect(heard).toHaveLength(1);
      invoker.destroy();
      expect((await call).error.message).toMatch(/^rejected by destroy\(\)/);
    } finally {
      jest.useRealTimers();
    }
  });

  test('an Invoker and a Callee sharing one base channel talk to each other through it', async () => {
    jest.useFakeTimers({ doNotFake: ['setImmediate', 'queueMicrotask', 'nextTick'] });
    try {
      // The base channel's send emits at once, from inside the call being sent; a call still settles only once it is
      // fully set up, so its timeout timer goes with it.
      const channel = new BaseInvokerChannel();
      const callee = new Callee(channel).register(foo).listen();
      const invoker = new Invoker(channel);
      channel.connect();
      expect(await invoker.invoke('foo', ['x', 'y'])).toBe('foo.x.y');
      expect(jest.getTimerCount()).toBe(0);
      invoker.destroy();
      callee.destroy();
    } finally {
      jest.useRealTimers();
    }
  });

  test("event-invoke's base channels: connect(), a stray send, and destroy() disconnecting", () => {
    const calleeChannel = new BaseCalleeChannel();
    const callee = new Callee(calleeChannel).register(function max(...args: number[]) {
      return Math.max(...args);
    });
    callee.listen();
    const invokerChannel = new BaseInvokerChannel();
    const invoker = new Invoker(invokerChannel);
    expect(invokerChannel.connected).toBe(false);
    invokerChannel.connect();
    expect(() => calleeChannel.send({ test: 1 })).not.toThrow();
    expect(() => invokerChannel.send({ test: 1 })).not.toThrow();
    expect(invokerChannel.connected).toBe(true);
    invoker.destroy();
    callee.destroy();
    expect(invokerChannel.connected).toBe(false);
  });

  test('values cross as the transport carries them: over JSON, what JSON keeps', async () => {
    const { invokerSide, calleeSide } = wire();
    const callee = new Callee(calleeSide)
      .register(function echo(value: unknown) {
        return value;
      })
      .listen();
    const invoker = new Invoker(invokerSide);
    const value = { date: new Date(0), bytes: new Uint8Array([1, 2]), missing: undefined, list: [1, 'two'] };
    expect(await invoker.invoke('echo', [value])).toEqual(overJson(value));
    invoker.destroy();
    callee.destroy();
  });
});
