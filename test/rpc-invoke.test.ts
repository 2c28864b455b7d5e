import { fork, type ChildProcess } from 'child_process';
import { join } from 'path';
import { MessageChannel, Worker } from 'worker_threads';
import { AbortError, Callee, InMemoryChannel, Invoker, MethodNotFoundError, TimeoutError } from '../src';
import { outcome } from './helpers/rpc';

const calleeScript = join(__dirname, 'fixtures', 'callee.js');

describe('Invoker and Callee', () => {
  test('over a Channel: invoke by registered name, by function name, and unknown names', async () => {
    const [a, b] = InMemoryChannel.createPair();
    const callee = new Callee(b)
      .register(function max(...n: number[]) {
        return Math.max(...n);
      })
      .register('greet', (name: string) => `hello ${name}`)
      .listen();
    const invoker = new Invoker(a);
    expect(await invoker.invoke('max', 1, 2, 3)).toBe(3);
    expect(await invoker.invoke('greet', 'you')).toBe('hello you');
    const missing = await outcome(invoker.invoke('nope'));
    expect((missing as any).error).toBeInstanceOf(MethodNotFoundError);
    invoker.destroy();
    callee.destroy();
  });

  test('timeout option and an AbortSignal as the last argument', async () => {
    const [a, b] = InMemoryChannel.createPair();
    new Callee(b).register('stall', () => new Promise(() => {})).listen();
    const timed = await outcome(new Invoker(a, { timeout: 20 }).invoke('stall'));
    expect((timed as any).error).toBeInstanceOf(TimeoutError);
    const controller = new AbortController();
    const call = outcome(new Invoker(a).invoke('stall', controller.signal));
    controller.abort();
    expect(((await call) as any).error).toBeInstanceOf(AbortError);
  });

  test('a destroyed Invoker refuses new calls', async () => {
    const [a] = InMemoryChannel.createPair();
    const invoker = new Invoker(a);
    invoker.destroy();
    expect((await outcome(invoker.invoke('x'))).ok).toBe(false);
  });

  describe('over a ChildProcess and process (Node IPC)', () => {
    let child: ChildProcess;
    afterEach(() => child?.kill('SIGKILL'));

    test.each(['json', 'advanced'] as const)('serialization %s', async (serialization) => {
      child = fork(calleeScript, [], { serialization });
      const invoker = new Invoker(child);
      expect(await invoker.invoke('max', 4, 9, 2)).toBe(9);
      expect(await invoker.invoke('where')).toBe(`process ${child.pid}`);
      const bytes = (await invoker.invoke('bytes', 1000)) as Uint8Array;
      expect(bytes).toBeInstanceOf(Uint8Array);
      expect(bytes.length).toBe(1000);
      expect(bytes.every((b) => b === 9)).toBe(true);
      const controller = new AbortController();
      const waiting = outcome(invoker.invoke('wait', 60000, controller.signal));
      controller.abort();
      expect(((await waiting) as any).error).toBeInstanceOf(AbortError);
      invoker.destroy();
    });

    test('calls in flight reject when the child dies', async () => {
      child = fork(calleeScript);
      const invoker = new Invoker(child);
      expect(await invoker.invoke('max', 1)).toBe(1);
      const pending = outcome(invoker.invoke('wait', 60000));
      child.kill('SIGKILL');
      expect(((await pending) as any).error.name).toBe('ConnectionClosedError');
    });
  });

  test('over a worker_threads Worker and its parentPort', async () => {
    const worker = new Worker(calleeScript);
    try {
      const invoker = new Invoker(worker);
      expect(await invoker.invoke('where')).toBe('thread');
      expect(await invoker.invoke('max', 5, 6)).toBe(6);
      invoker.destroy();
    } finally {
      await worker.terminate();
    }
  });

  test('over a MessagePort pair', async () => {
    const { port1, port2 } = new MessageChannel();
    const callee = new Callee(port2).register('double', (n: number) => n * 2).listen();
    const invoker = new Invoker(port1);
    expect(await invoker.invoke('double', 21)).toBe(42);
    invoker.destroy();
    callee.destroy();
    port1.close();
  });
});
