import { RpcPeer, InMemoryChannel, TimeoutError, type RpcCallInfo, type RpcCallOutcome } from '../../src';
import { outcome } from '../helpers/rpc';

interface Seen {
  call: RpcCallInfo;
  outcome: RpcCallOutcome;
  context: unknown;
}

function watch(peer: RpcPeer, name: string): { started: RpcCallInfo[]; ended: Seen[] } {
  const started: RpcCallInfo[] = [];
  const ended: Seen[] = [];
  peer.protocol.addObserver({
    callStarted: (call) => {
      started.push(call);
      return `${name}:${call.id}`; // what a tracer would return: its span
    },
    callEnded: (call, result, context) => ended.push({ call, outcome: result, context }),
  });
  return { started, ended };
}

function pair(): [RpcPeer, RpcPeer] {
  const [a, b] = InMemoryChannel.createPair();
  return [new RpcPeer(a), new RpcPeer(b)];
}

describe('the RPC observer hook', () => {
  test('sees a call start and end on both sides, with matching ids, sizes and the context it returned', async () => {
    const [caller, callee] = pair();
    callee.expose('math', { add: (a: number, b: number) => a + b });
    const made = watch(caller, 'caller');
    const served = watch(callee, 'callee');

    await expect(caller.proxy<{ add(a: number, b: number): number }>('math').add(2, 3)).resolves.toBe(5);

    expect(made.started).toEqual([{ direction: 'outgoing', id: 1, target: 'math', method: 'add', args: [2, 3], requestBytes: expect.any(Number) }]);
    expect(served.started).toEqual([{ direction: 'incoming', id: 1, target: 'math', method: 'add', args: [2, 3], requestBytes: made.started[0].requestBytes }]);
    const out = made.ended[0];
    const inn = served.ended[0];
    expect(out.context).toBe('caller:1');
    expect(inn.context).toBe('callee:1');
    expect(out.outcome).toMatchObject({ failed: false, result: 5 });
    expect(inn.outcome).toMatchObject({ failed: false, result: 5 });
    // What one side sent is what the other received, both ways.
    expect(out.outcome.bytesOut).toBe(inn.outcome.bytesIn);
    expect(out.outcome.bytesIn).toBe(inn.outcome.bytesOut);
    expect(out.outcome.bytesOut).toBeGreaterThan(8); // type, id, flags, 'math', 'add', two numbers
    expect(out.outcome.bytesIn).toBeGreaterThan(2);
    expect(out.outcome.durationMs).toBeGreaterThanOrEqual(0);
    caller.dispose();
    callee.dispose();
  });

  test('the request size is the size of the channel message', async () => {
    const [a, b] = InMemoryChannel.createPair();
    const sizes: number[] = [];
    b.onMessage((read) => {
      const reader = read();
      sizes.push(reader.remaining);
    });
    const caller = new RpcPeer(a);
    const callee = new RpcPeer(b);
    callee.expose('echo', { echo: (s: string) => s });
    const made = watch(caller, 'c');
    await caller.proxy<{ echo(s: string): string }>('echo').echo('héllo wörld 😀');
    expect(sizes[0]).toBe(made.started[0].requestBytes);
    caller.dispose();
    callee.dispose();
  });

  test('a failed call ends with its error on both sides; a timed-out one with no reply bytes', async () => {
    jest.useFakeTimers({ doNotFake: ['setImmediate', 'nextTick', 'queueMicrotask'] });
    try {
      const [caller, callee] = pair();
      callee.expose('svc', {
        boom() {
          throw new Error('kaput');
        },
        never: () => new Promise(() => {}),
      });
      const made = watch(caller, 'caller');
      const served = watch(callee, 'callee');
      const svc = caller.proxy<{ boom(): void; never(): void }>('svc', { timeout: 50 });
      const boom = await outcome(svc.boom());
      expect(boom.ok).toBe(false);
      expect(made.ended[0].outcome).toMatchObject({ failed: true, error: expect.objectContaining({ message: 'kaput' }) });
      expect(served.ended[0].outcome).toMatchObject({ failed: true, error: expect.objectContaining({ message: 'kaput' }) });

      const never = outcome(svc.never());
      await new Promise((resolve) => setImmediate(resolve));
      jest.advanceTimersByTime(50);
      expect((await never).ok).toBe(false);
      expect(made.ended[1].outcome).toMatchObject({ failed: true, bytesIn: 0, error: expect.any(TimeoutError) });
      // The callee was told to stop: its side ends without a reply sent.
      await new Promise((resolve) => setImmediate(resolve));
      expect(served.ended[1].outcome).toMatchObject({ failed: true, bytesOut: 0 });
      caller.dispose();
      callee.dispose();
    } finally {
      jest.useRealTimers();
    }
  });

  test('an observer that throws is reported on onError and the call goes on; dispose stops watching', async () => {
    const [caller, callee] = pair();
    callee.expose('svc', { ping: () => 'pong' });
    const errors: Error[] = [];
    caller.protocol.onError((error) => errors.push(error));
    const seen: string[] = [];
    const watching = caller.protocol.addObserver({
      callStarted(call) {
        seen.push(call.method);
        throw new Error('observer bug');
      },
    });
    const svc = caller.proxy<{ ping(): string }>('svc');
    await expect(svc.ping()).resolves.toBe('pong');
    expect(errors.map((e) => e.message)).toEqual(['observer bug']);
    watching.dispose();
    await expect(svc.ping()).resolves.toBe('pong');
    expect(seen).toEqual(['ping']);
    caller.dispose();
    callee.dispose();
  });

  test('an observer given in the options sees the calls from the first one', async () => {
    const [a, b] = InMemoryChannel.createPair();
    const ended: RpcCallOutcome[] = [];
    const caller = new RpcPeer(a, { observer: { callEnded: (_call, result) => ended.push(result) } });
    const callee = new RpcPeer(b);
    callee.expose('svc', { ping: () => 'pong' });
    await caller.proxy<{ ping(): string }>('svc').ping();
    expect(ended).toMatchObject([{ failed: false, result: 'pong' }]);
    caller.dispose();
    callee.dispose();
  });
});
