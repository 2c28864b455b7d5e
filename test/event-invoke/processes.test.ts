import { fork, type ChildProcess } from 'child_process';
import { join } from 'path';
import { MessageChannel, Worker } from 'worker_threads';
import {
  AbortError,
  BaseInvokerChannel,
  Callee,
  ChannelNotConnectedError,
  ConnectionClosedError,
  forkWithChannel,
  InvokerDestroyedError,
  Invoker,
  isRemoteError,
  MethodNotFoundError,
  TimeoutError,
} from '../../src';
import { killAll } from '../helpers/processes';
import { settled } from '../helpers/eventInvoke';

const calleeScript = join(__dirname, '..', 'fixtures', 'callee.js');
const fooScript = join(__dirname, '..', 'fixtures', 'event-invoke', 'foo-callee.js');
const invokerChildScript = join(__dirname, '..', 'fixtures', 'event-invoke', 'invoker-child.js');

const children = new Set<ChildProcess>();
function track(child: ChildProcess): ChildProcess {
  children.add(child);
  return child;
}
afterEach(() => killAll(children));

function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

describe("over a forked child's Node IPC, as event-invoke's own suite runs it", () => {
  test('new Invoker(fork(...)) and destroy() at once: nothing throws, and the child exits', async () => {
    const child = track(fork(fooScript));
    expect(() => new Invoker(child).destroy()).not.toThrow();
    expect(await exited(child)).toBe(0);
  });

  test('invoke(foo) resolves with foo.a.b; destroy() after it disconnects the child, which exits', async () => {
    const child = track(fork(fooScript));
    const invoker = new Invoker(child);
    expect(await invoker.invoke('foo')).toBe('foo.a.b');
    expect(() => invoker.destroy()).not.toThrow();
    expect(child.connected).toBe(false);
    expect(await exited(child)).toBe(0);
  });

  test('the same function called twice at once, without a timeout', async () => {
    const invoker = new Invoker(track(fork(fooScript)), { timeout: -100 });
    expect(await Promise.all([invoker.invoke('foo', [1, 2]), invoker.invoke('foo')])).toEqual(['foo.1.2', 'foo.a.b']);
    invoker.destroy();
  });

  test('destroy() rejects a call not yet answered; invoke() after it: channel is not connected', async () => {
    const invoker = new Invoker(track(fork(fooScript)));
    const pending = settled(invoker.invoke('foo'));
    invoker.destroy();
    const result = await pending;
    expect(result.error).toBeInstanceOf(InvokerDestroyedError);
    expect(result.error.message).toMatch(/^rejected by destroy\(\)/);
    const later = await settled(invoker.invoke('foo'));
    expect(later.error).toBeInstanceOf(ChannelNotConnectedError);
    expect(later.error.message).toMatch(/^channel is not connected/);
  });

  test('a bad name, an unregistered function, a timeout', async () => {
    const invoker = new Invoker(track(fork(fooScript)));
    const nameless = await settled((invoker.invoke as () => Promise<unknown>)());
    expect(nameless.error.message).toMatch(/^bad method name to invoke/);
    const unknown = await settled(invoker.invoke('_unknown'));
    expect(unknown.error).toBeInstanceOf(MethodNotFoundError);
    expect(unknown.error.message).toMatch(/^unregistered function: "_unknown"/);
    const slow = await settled(invoker.invoke('never', null, { timeout: 200 }));
    expect(slow.error).toBeInstanceOf(TimeoutError);
    expect(slow.error.message).toMatch(/^method "never" timeout/);
    // The child stopped the timed-out work, and answers the next call.
    expect(await invoker.invoke('foo', ['x'])).toBe('foo.x.b');
    invoker.destroy();
  });

  test.each(['json', 'advanced'] as const)('serialization %s: values as Node carries them', async (serialization) => {
    const child = track(fork(calleeScript, [], { serialization }));
    const invoker = new Invoker(child);
    expect(await invoker.invoke('max', [4, 9, 2])).toBe(9);
    expect(await invoker.invoke('where')).toBe(`process ${child.pid}`);
    const bytes = await invoker.invoke('bytes', 3);
    // As with event-invoke: 'json' turns bytes into an object of indices, 'advanced' keeps them.
    expect(bytes).toEqual(serialization === 'json' ? { 0: 9, 1: 9, 2: 9 } : new Uint8Array([9, 9, 9]));
    const failed = await settled(invoker.invoke('fail', ['too far', 'E_FAR']));
    expect(failed.error).toBeInstanceOf(RangeError);
    expect(failed.error.code).toBe('E_FAR');
    expect(failed.error.cause.message).toBe('the root cause');
    expect(isRemoteError(failed.error)).toBe(true);
    const controller = new AbortController();
    const waiting = settled(invoker.invoke('wait', 60000, { signal: controller.signal }));
    controller.abort();
    expect((await waiting).error).toBe(controller.signal.reason);
    expect((await waiting).error.name).toBe('AbortError');
    invoker.destroy();
  });

  test('calls in flight reject with ConnectionClosedError when the child dies', async () => {
    const child = track(fork(calleeScript));
    const invoker = new Invoker(child);
    expect(await invoker.invoke('max', 1)).toBe(1);
    const pending = settled(invoker.invoke('wait', 60000, { timeout: 0 }));
    child.kill('SIGKILL');
    const result = await pending;
    expect(result.error).toBeInstanceOf(ConnectionClosedError);
    expect(result.error).not.toBeInstanceOf(InvokerDestroyedError);
    invoker.destroy();
  });

  test('the child calls the parent: Invoker over process, Callee over the ChildProcess', async () => {
    const child = track(fork(invokerChildScript));
    const reports: unknown[] = [];
    const callee = new Callee(child)
      .register(function add(a: number, b: number) {
        return a + b;
      })
      .register(function report(what: unknown) {
        reports.push(what);
      })
      .listen();
    expect(await exited(child)).toBe(0);
    // Under real Node (not Jest's sandbox) the Invoker has [Symbol.dispose], and the child used it to destroy.
    expect(reports).toEqual([{ sum: 5, disposable: true }]);
    callee.destroy();
  });

  test('one listener on the endpoint however many calls, and none once destroyed', async () => {
    const child = track(fork(fooScript));
    const before = child.listenerCount('message');
    const invoker = new Invoker(child);
    await Promise.all(Array.from({ length: 50 }, () => invoker.invoke('foo')));
    expect(child.listenerCount('message')).toBe(before + 1);
    invoker.destroy();
    expect(child.listenerCount('message')).toBe(before);
  });
});

/** event-invoke's example of a custom channel: it forks the child itself and relays the child's packets. */
class ForkingChannel extends BaseInvokerChannel {
  readonly child: ChildProcess;
  private readonly relay = (packet: unknown) => {
    if ((packet as { _from?: unknown })._from === 'callee') this.emit('message', packet);
  };

  constructor(script: string) {
    super();
    this.child = track(fork(script));
    this.child.on('message', this.relay);
    this.connected = true;
    this.child.once('disconnect', () => (this.connected = false));
  }

  override send(packet: unknown): void {
    this.child.send(packet as object);
  }

  override disconnect(): void {
    this.child.disconnect();
  }

  override destroy(): void {
    this.child.off('message', this.relay);
  }
}

describe('over a custom channel that forks its child', () => {
  test('new Invoker(channel), a call, destroy()', async () => {
    const channel = new ForkingChannel(fooScript);
    const invoker = new Invoker(channel);
    expect(await invoker.invoke('foo', ['p', 'q'])).toBe('foo.p.q');
    expect(() => invoker.destroy()).not.toThrow();
    expect(await exited(channel.child)).toBe(0);
    expect(channel.child.listenerCount('message')).toBe(0);
  });

  test('destroy() rejects what is unanswered, also when the channel has no disconnect()', async () => {
    const channel = new ForkingChannel(fooScript);
    (channel as { disconnect?: unknown }).disconnect = undefined;
    const invoker = new Invoker(channel);
    expect(await invoker.invoke('foo')).toBe('foo.a.b');
    const pending = settled(invoker.invoke('never'));
    expect(() => invoker.destroy()).not.toThrow();
    expect((await pending).error.message).toMatch(/^rejected by destroy\(\)/);
  });
});

describe('over fd 4: the binary protocol, nothing on Node IPC', () => {
  test('new Invoker(channel) of forkWithChannel, with a Callee on new IPCChannel() in the child', async () => {
    const { child, channel } = forkWithChannel(calleeScript, [], {
      env: { ...process.env, FDPIPE_CALLEE_FD4: '1' },
    });
    track(child);
    const overNodeIpc: unknown[] = [];
    child.on('message', (message) => overNodeIpc.push(message));
    const invoker = new Invoker(channel);
    expect(await invoker.invoke('where')).toBe(`fd 4 ${child.pid}`);
    expect(await invoker.invoke('max', [3, 8])).toBe(8);
    // The codec carries bytes as bytes, whatever Node's IPC would do with them.
    expect(await invoker.invoke('bytes', 2)).toEqual(new Uint8Array([9, 9]));
    const slow = await settled(invoker.invoke('wait', 60000, { timeout: 50 }));
    expect(slow.error.message).toMatch(/^method "wait" timeout/);
    const failed = await settled(invoker.invoke('fail', ['bad', 'E_BAD']));
    expect(failed.error).toBeInstanceOf(RangeError);
    expect(failed.error.code).toBe('E_BAD');
    invoker.destroy();
    expect(overNodeIpc).toEqual([]);
    // An fdpipe Channel is its owner's to close; closing it lets the child end.
    expect(channel.isClosed).toBe(false);
    channel.close();
    expect(await exited(child)).toBe(0);
  });
});

describe('over worker_threads', () => {
  test('a Worker and its parentPort', async () => {
    const worker = new Worker(calleeScript);
    try {
      const invoker = new Invoker(worker);
      expect(await invoker.invoke('where')).toBe('thread');
      expect(await invoker.invoke('max', [5, 6])).toBe(6);
      expect(await invoker.invoke('bytes', 2)).toEqual(new Uint8Array([9, 9]));
      invoker.destroy();
    } finally {
      await worker.terminate();
    }
  });

  test('a MessagePort pair', async () => {
    const { port1, port2 } = new MessageChannel();
    const callee = new Callee(port2)
      .register(function double(n: number) {
        return n * 2;
      })
      .listen();
    const invoker = new Invoker(port1);
    expect(await invoker.invoke('double', 21)).toBe(42);
    invoker.destroy();
    callee.destroy();
    port1.close();
  });
});
