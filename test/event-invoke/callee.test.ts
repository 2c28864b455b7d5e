import {
  AlreadyListenedError,
  BaseCalleeChannel,
  Callee,
  ChannelNotConnectedError,
  ConnectionClosedError,
  currentCallSignal,
  InMemoryChannel,
  Invoker,
  MethodNotFoundError,
  RegisterError,
  type EventInvokeTarget,
} from '../../src';
import { supportUsing } from '../../src/common/lifecycle';
import { gate, settled, turns, wire } from '../helpers/eventInvoke';

function foo() {
  return 'foo';
}

describe('Callee: construction and registration', () => {
  test('new Callee() serves over process, and listen() and destroy() add and remove its one listener', () => {
    const before = process.listenerCount('message');
    const callee = new Callee();
    expect(process.listenerCount('message')).toBe(before);
    callee.listen();
    expect(process.listenerCount('message')).toBe(before + 1);
    callee.destroy();
    expect(process.listenerCount('message')).toBe(before);
  });

  test('register() refuses what cannot be called by name: cannot register "TYPE"', () => {
    const callee = new Callee(new BaseCalleeChannel());
    const cases: Array<[unknown, string]> = [
      [null, 'object'],
      [function () {}, 'function'],
      [() => {}, 'function'],
      [42, 'number'],
      ['foo', 'string'],
      [undefined, 'undefined'],
      [{ notAFunction: 1 }, 'number'],
      [[foo, 'bar'], 'string'],
    ];
    for (const [value, type] of cases) {
      let thrown: unknown;
      try {
        callee.register(value as never);
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(RegisterError);
      expect(thrown).toBeInstanceOf(TypeError);
      expect((thrown as Error).message).toMatch(new RegExp(`^cannot register "${type}"`));
    }
  });

  test('register() takes a named function, an array of them, an object of them, and empty ones', () => {
    const callee = new Callee(new BaseCalleeChannel());
    expect(() => callee.register({})).not.toThrow();
    expect(() => callee.register({ foo })).not.toThrow();
    expect(() => callee.register([])).not.toThrow();
    expect(() => callee.register([foo, foo])).not.toThrow();
    expect(() => callee.register(function bar() {})).not.toThrow();
    expect(callee.register(foo)).toBe(callee);
  });

  test('listen() twice throws: already listened', () => {
    const callee = new Callee(new BaseCalleeChannel());
    expect(callee.listen()).toBe(callee);
    expect(() => callee.listen()).toThrow(AlreadyListenedError);
    expect(() => callee.listen()).toThrow(/^already listened/);
    callee.destroy();
  });

  test('destroy() before or after listen(), once or many times; after it, listen() throws', () => {
    const unlistened = new Callee(new BaseCalleeChannel());
    expect(() => unlistened.destroy()).not.toThrow();
    expect(() => unlistened.listen()).toThrow(ChannelNotConnectedError);

    const channel = new BaseCalleeChannel();
    const destroyChannel = jest.spyOn(channel, 'destroy');
    const callee = new Callee(channel).listen();
    expect(() => callee.destroy()).not.toThrow();
    expect(() => callee.destroy()).not.toThrow();
    expect(destroyChannel).toHaveBeenCalledTimes(1);
    expect(channel.listenerCount('message')).toBe(0);
    expect(channel.listenerCount('error')).toBe(0);
  });

  test("[Symbol.dispose] is keyed by the runtime's symbol, never by the key 'undefined'", () => {
    class Resource {
      disposed = 0;
      dispose() {
        this.disposed++;
      }
    }
    supportUsing(Resource.prototype);
    // Where the realm has no Symbol.dispose (a vm context on Node 18 to 22), Node's registered one.
    const key = (Symbol as { dispose?: symbol }).dispose ?? Symbol.for('nodejs.dispose');
    const resource = new Resource();
    (resource as unknown as Record<symbol, () => void>)[key]();
    expect(resource.disposed).toBe(1);
    expect(Reflect.ownKeys(Resource.prototype)).toEqual(['constructor', 'dispose', key]);
    expect(Reflect.ownKeys(Callee.prototype)).not.toContain('undefined');
    expect(typeof (Callee.prototype as unknown as Record<symbol, unknown>)[key]).toBe('function');
  });
});

const transports: Array<[string, () => { invokerSide: EventInvokeTarget; calleeSide: EventInvokeTarget }]> = [
  ['event-invoke packets', () => wire()],
  [
    'the binary protocol',
    () => {
      const [a, b] = InMemoryChannel.createPair();
      return { invokerSide: a, calleeSide: b };
    },
  ],
];

describe.each(transports)('Callee serving over %s', (_name, makePair) => {
  test('an object registers each function under its own name, not its key', async () => {
    const { invokerSide, calleeSide } = makePair();
    const callee = new Callee(calleeSide).register({ alias: function real() {
      return 'real';
    } });
    callee.listen();
    const invoker = new Invoker(invokerSide);
    expect(await invoker.invoke('real')).toBe('real');
    expect((await settled(invoker.invoke('alias'))).error).toBeInstanceOf(MethodNotFoundError);
    invoker.destroy();
    callee.destroy();
  });

  test('functions registered after listen() are served; a later one of a name replaces the earlier', async () => {
    const { invokerSide, calleeSide } = makePair();
    const callee = new Callee(calleeSide).listen();
    const invoker = new Invoker(invokerSide);
    expect((await settled(invoker.invoke('late'))).error.message).toMatch(/^unregistered function: "late"/);
    callee.register(function late() {
      return 1;
    });
    expect(await invoker.invoke('late')).toBe(1);
    callee.register(function late() {
      return 2;
    });
    expect(await invoker.invoke('late')).toBe(2);
    invoker.destroy();
    callee.destroy();
  });

  test("names of Object.prototype's members are not functions of the Callee", async () => {
    const { invokerSide, calleeSide } = makePair();
    const callee = new Callee(calleeSide).register(foo).listen();
    const invoker = new Invoker(invokerSide);
    for (const name of ['constructor', 'toString', '__proto__', 'hasOwnProperty']) {
      const result = await settled(invoker.invoke(name));
      expect(result.error).toBeInstanceOf(MethodNotFoundError);
      expect(result.error.message).toMatch(new RegExp(`^unregistered function: "${name}"`));
    }
    invoker.destroy();
    callee.destroy();
  });

  test('a function runs unbound, with the arguments sent, and a signal for when the caller gives up', async () => {
    const { invokerSide, calleeSide } = makePair();
    const seen: unknown[] = [];
    const callee = new Callee(calleeSide)
      .register(function inspect(this: unknown, ...args: unknown[]) {
        seen.push({ self: this, args, hasSignal: currentCallSignal() instanceof AbortSignal });
        return 'ok';
      })
      .listen();
    const invoker = new Invoker(invokerSide);
    await invoker.invoke('inspect', [1, 'two']);
    await invoker.invoke('inspect', undefined, { timeout: 0 });
    expect(seen).toEqual([
      { self: undefined, args: [1, 'two'], hasSignal: true },
      { self: undefined, args: [], hasSignal: true },
    ]);
    invoker.destroy();
    callee.destroy();
  });

  test('a destroyed Callee answers no more; calls it was running fail with ConnectionClosedError', async () => {
    const { invokerSide, calleeSide } = makePair();
    const started = gate();
    const callee = new Callee(calleeSide)
      .register(function stall() {
        started.open();
        return new Promise(() => {});
      })
      .register(foo)
      .listen();
    const invoker = new Invoker(invokerSide);
    expect(await invoker.invoke('foo')).toBe('foo');
    const running = settled(invoker.invoke('stall', undefined, { timeout: 0 }));
    await started.promise;
    callee.destroy();
    const result = await running;
    expect(result.error).toBeInstanceOf(ConnectionClosedError);
    invoker.destroy();
  });

  test('two Callees on one channel: the first that has a function serves it', async () => {
    const { invokerSide, calleeSide } = makePair();
    const first = new Callee(calleeSide)
      .register(function who() {
        return 'first';
      })
      .listen();
    const second = new Callee(calleeSide)
      .register(function who() {
        return 'second';
      })
      .register(function onlySecond() {
        return 'second only';
      })
      .listen();
    const invoker = new Invoker(invokerSide);
    expect(await invoker.invoke('who')).toBe('first');
    expect(await invoker.invoke('onlySecond')).toBe('second only');
    first.destroy();
    expect(await invoker.invoke('who')).toBe('second');
    invoker.destroy();
    second.destroy();
  });
});

describe('Callee: onError', () => {
  let warn: jest.SpyInstance;
  beforeEach(() => {
    warn = jest.spyOn(process, 'emitWarning').mockImplementation(() => {});
  });
  afterEach(() => warn.mockRestore());

  function closedError(code: string): Error {
    return Object.assign(new Error(`the channel failed (${code})`), { code });
  }

  test("by default, the other side's going away is ignored and any other channel error is a warning", () => {
    const channel = new BaseCalleeChannel();
    const callee = new Callee(channel).listen();
    channel.emit('error', closedError('ERR_IPC_CHANNEL_CLOSED'));
    channel.emit('error', closedError('EPIPE'));
    expect(warn).not.toHaveBeenCalled();
    channel.emit('error', closedError('UNKNOWN_ERROR_CODE'));
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0][0])).toMatch(/UNKNOWN_ERROR_CODE/);
    callee.destroy();
  });

  test("onError receives the channel's errors, every code; one that throws becomes a warning", () => {
    const channel = new BaseCalleeChannel();
    const seen: unknown[] = [];
    const callee = new Callee(channel, {
      onError(error) {
        seen.push((error as Error & { code: string }).code);
        if ((error as Error & { code: string }).code === 'THROW') throw new Error('onError itself failed');
      },
    }).listen();
    channel.emit('error', closedError('ERR_IPC_CHANNEL_CLOSED'));
    channel.emit('error', closedError('UNKNOWN_ERROR_CODE'));
    expect(seen).toEqual(['ERR_IPC_CHANNEL_CLOSED', 'UNKNOWN_ERROR_CODE']);
    expect(warn).not.toHaveBeenCalled();
    expect(() => channel.emit('error', closedError('THROW'))).not.toThrow();
    expect(warn).toHaveBeenCalledTimes(1);
    callee.destroy();
  });

  test('a destroyed Callee no longer hears the channel', async () => {
    const channel = new BaseCalleeChannel();
    const seen: unknown[] = [];
    new Callee(channel, { onError: (error) => seen.push(error) }).listen().destroy();
    expect(channel.listenerCount('error')).toBe(0);
    await turns();
    expect(seen).toEqual([]);
  });
});
