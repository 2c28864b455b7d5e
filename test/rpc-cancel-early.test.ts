// A cancel travels whole and passes the large request it cancels, which travels in fragments. The callee must
// tell such an early cancel from a late one (its request ended already) by what it has served, not by the order
// of ids: a small request sent after the large one arrives before it, and ids wrap.
import type { RpcProtocol, RpcProtocolOptions } from '../src';
import { fragmentingProtocols } from './helpers/rpc';

const KiB = 1024;
const MiB = 1024 * KiB;
const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

const disposers: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const dispose of disposers.splice(0)) await dispose();
});

/** A caller and a callee over a real socket pair whose large messages go in 64 KiB fragments. */
async function callerAndCallee(options: RpcProtocolOptions = {}, whileServing: (tag: unknown) => void = () => {}) {
  const { caller, callee } = await fragmentingProtocols((dispose) => disposers.push(dispose), options);
  /** What the callee ran: 'take' with each argument's size, 'small' by its argument. */
  const ran: Array<string | number> = [];
  callee.setRequestHandler((method, args) => {
    if (method === 'take') ran.push((args[0] as Uint8Array).byteLength);
    else ran.push(args[0] as string);
    whileServing(args[0]);
    return method;
  });
  return { caller, callee, ran };
}

/** Sends a large cancellable request, then (next turn, while it is under way) a small one, then cancels the large. */
async function cancelPassedByASmallCall(caller: RpcProtocol, size: number) {
  const controller = new AbortController();
  const dropped = caller.sendRequest('take', [new Uint8Array(size)], { signal: controller.signal });
  const rejected = expect(dropped).rejects.toMatchObject({ name: 'AbortError' });
  await nextTurn();
  const small = caller.sendRequest('small', ['after']);
  controller.abort();
  await rejected;
  expect(await small).toBe('small');
}

test('a cancel whose request a later, smaller call overtook still drops the request', async () => {
  const { caller, ran } = await callerAndCallee();
  await cancelPassedByASmallCall(caller, 4 * MiB);
  // Started later and larger, its reply comes after the first request has arrived whole.
  await caller.sendRequest('take', [new Uint8Array(4 * MiB + 1)]);
  expect(ran).toEqual(['after', 4 * MiB + 1]);
});

test('a cancel that passes its request after the ids wrapped still drops it', async () => {
  const maxRequestId = 9000;
  const { caller, ran } = await callerAndCallee({ maxRequestId });
  // Every id once, by cancellable calls the callee answers: the next request wraps to id 1.
  const warmUp: Promise<unknown>[] = [];
  for (let i = 0; i < maxRequestId; i++) warmUp.push(caller.sendRequest('small', ['warm'], { timeout: 60_000 }));
  await Promise.all(warmUp);
  ran.length = 0;
  await cancelPassedByASmallCall(caller, 4 * MiB);
  await caller.sendRequest('take', [new Uint8Array(4 * MiB + 1)]);
  expect(ran).toEqual(['after', 4 * MiB + 1]);
});

test('a cancel that comes after its request ended is not held against the next request under that id', async () => {
  // Two ids: the third request reuses the first one's.
  const controller = new AbortController();
  const { caller, ran } = await callerAndCallee({ maxRequestId: 2 }, (tag) => {
    // The caller gives up while the callee answers: its cancel arrives after the reply left.
    if (tag === 'first') controller.abort();
  });
  await expect(caller.sendRequest('small', ['first'], { signal: controller.signal })).rejects.toMatchObject({
    name: 'AbortError',
  });
  expect(await caller.sendRequest('small', ['second'])).toBe('small');
  await nextTurn();
  expect(await caller.sendRequest('small', ['third'], { timeout: 10_000 })).toBe('small');
  expect(ran).toEqual(['first', 'second', 'third']);
});
