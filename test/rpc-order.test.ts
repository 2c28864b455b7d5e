// Which RPC messages keep their order behind a large one travelling in fragments, and which may pass it
// (PROTOCOL.md, "Fragments"). In-memory pairs never fragment: these run over a connected Unix-socket pair.
import { mkdtempSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { connectPersistent, Emitter, listenPersistent, RpcPeer, RpcProtocol, type ServerSession } from '../src';
import { fragmentingProtocols } from './helpers/rpc';
import { until } from './helpers/wait';

const KiB = 1024;
const MiB = 1024 * KiB;
/** Several fragments of the pipes below. */
const BIG = MiB;

const disposers: Array<() => unknown> = [];
afterEach(async () => {
  for (const dispose of disposers.splice(0).reverse()) await dispose();
});

/** Two protocols over the two ends of a socket pair; small fragments keep the large messages quick. */
const protocols = () => fragmentingProtocols((dispose) => disposers.push(dispose));

const label = (value: unknown) => (value instanceof Uint8Array ? `big ${value.byteLength}` : value);

/**
 * Resolves once everything the caller sent before has arrived: a larger request sent now completes after every
 * large message before it (they take turns, a fragment each), and small ones came before its reply.
 */
async function drained(caller: RpcProtocol, callee: RpcProtocol): Promise<void> {
  const name = `drain-${Math.random()}`;
  callee.registerTarget(name, { call: () => 'drained' });
  await caller.request(name, 'now', [new Uint8Array(BIG + 1)]);
}

describe('events and notifications keep their order behind a large one', () => {
  it("a subscription's small event does not pass the large one fired before it", async () => {
    const { caller, callee } = await protocols();
    const emitter = new Emitter<unknown>();
    callee.registerTarget('svc', { call: () => undefined, listen: () => emitter.event });
    const seen: unknown[] = [];
    const subscription = caller.listen('svc', 'onData')((value) => seen.push(label(value)));
    await until(() => emitter.hasListeners, 'the subscription');
    emitter.fire(new Uint8Array(BIG));
    emitter.fire('small');
    await until(() => seen.length === 2, 'both events');
    expect(seen).toEqual([`big ${BIG}`, 'small']);
    subscription.dispose();
  });

  it('a small notification does not pass the large one sent before it', async () => {
    const { caller, callee } = await protocols();
    const seen: unknown[] = [];
    callee.registerTarget('svc', { call: (_method, args) => seen.push(label(args[0])) });
    caller.notify('svc', 'take', [new Uint8Array(BIG)]);
    caller.notify('svc', 'take', ['small']);
    await until(() => seen.length === 2, 'both notifications');
    expect(seen).toEqual([`big ${BIG}`, 'small']);
  });

  it('a small reply still passes a large one: calls are independent', async () => {
    const { caller, callee } = await protocols();
    const order: string[] = [];
    callee.registerTarget('svc', { call: (method) => (method === 'big' ? new Uint8Array(4 * BIG) : 'small') });
    const big = caller.request('svc', 'big', []).then(() => order.push('big'));
    const small = caller.request('svc', 'small', []).then(() => order.push('small'));
    await Promise.all([big, small]);
    expect(order).toEqual(['small', 'big']);
  });
});

describe('an ending that would pass what it ends', () => {
  it('an Unsubscribe sent right after its large Subscribe ends the subscription on the other side', async () => {
    const { caller, callee } = await protocols();
    const emitter = new Emitter<unknown>();
    let subscribed = 0;
    callee.registerTarget('svc', {
      call: () => undefined,
      listen: (_event, args) => {
        subscribed = (args[0] as Uint8Array).byteLength;
        return emitter.event;
      },
    });
    caller.listen('svc', 'onData', [new Uint8Array(BIG)])(() => undefined).dispose();
    await drained(caller, callee);
    expect(subscribed).toBe(BIG);
    expect(emitter.hasListeners).toBe(false);
  });

  it('a large request with a stream, aborted after a smaller call passed it, never runs and its stream stops', async () => {
    const { caller, callee } = await protocols();
    const served: string[] = [];
    callee.registerTarget('svc', {
      call: async (method, args) => {
        if (method !== 'consume') return 'other';
        served.push('consume');
        for await (const _item of args[1] as AsyncIterable<unknown>);
        return 'consumed';
      },
    });
    async function* numbers() {
      yield 1;
      yield 2;
    }
    const source = numbers();
    const controller = new AbortController();
    const call = caller.request('svc', 'consume', [new Uint8Array(BIG), source], { signal: controller.signal });
    // A small call after it arrives first, and so does the cancel below: the callee must still know it for early.
    const other = caller.request('svc', 'other', []);
    await new Promise((resolve) => setImmediate(resolve));
    expect(await other).toBe('other');
    controller.abort();
    await expect(call).rejects.toMatchObject({ name: 'AbortError' });
    await drained(caller, callee);
    expect(served).toEqual([]);
    // Returned before it started: a generator closed so yields nothing more.
    expect(await source.next()).toEqual({ value: undefined, done: true });
  });
});

describe('a streaming call read twice at once', () => {
  it('two next() calls before the result has come both read the one stream, in turn', async () => {
    const { caller, callee } = await protocols();
    const server = new RpcPeer(callee);
    server.expose('gen', {
      async *numbers() {
        yield 1;
        yield 2;
      },
    });
    const client = new RpcPeer(caller);
    const remote = client.proxy<{ numbers(): AsyncIterable<number> }>('gen');
    const iterator = remote.numbers()[Symbol.asyncIterator]();
    const [first, second] = await Promise.all([iterator.next(), iterator.next()]);
    expect([first, second]).toEqual([
      { value: 1, done: false },
      { value: 2, done: false },
    ]);
    expect(await iterator.next()).toMatchObject({ done: true });
  });
});

describe('over a persistent session', () => {
  it('an event keeps its order behind a large one, as over a plain socket', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fdpipe-order-'));
    const listener = await listenPersistent(join(dir, 's.sock'));
    const accepted = new Promise<ServerSession>((resolve) => listener.onDidConnect(resolve));
    const session = await connectPersistent(join(dir, 's.sock'));
    const caller = new RpcProtocol(session);
    const callee = new RpcProtocol(await accepted);
    disposers.push(async () => {
      caller.dispose();
      callee.dispose();
      session.close();
      await listener[Symbol.asyncDispose]();
      rmSync(dir, { recursive: true, force: true });
    });
    const emitter = new Emitter<unknown>();
    callee.registerTarget('svc', { call: () => undefined, listen: () => emitter.event });
    const seen: unknown[] = [];
    caller.listen('svc', 'onData')((value) => seen.push(label(value)));
    await until(() => emitter.hasListeners, 'the subscription');
    emitter.fire(new Uint8Array(2 * MiB));
    emitter.fire('small');
    await until(() => seen.length === 2, 'both events');
    expect(seen).toEqual([`big ${2 * MiB}`, 'small']);
  });
});
