// A cancel travels whole and passes the large request it cancels, which travels in fragments. The callee must
// tell such an early cancel from a late one (its request ended already) by what it has served, not by the order
// of ids: a small request sent after the large one arrives before it, and ids wrap.
import { IPCChannel, RpcProtocol, type RpcProtocolOptions } from '../src';
import { fragmentingProtocols } from './helpers/rpc';
import { createUnixSocketPair } from './helpers/streams';
import { until } from './helpers/wait';

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

/** Uses every id once, by small cancellable calls the callee answers: the next request wraps to id 1. */
async function useEveryId(caller: RpcProtocol, maxRequestId: number): Promise<void> {
  const calls: Promise<unknown>[] = [];
  for (let i = 0; i < maxRequestId; i++) calls.push(caller.sendRequest('small', ['warm'], { timeout: 60_000 }));
  await Promise.all(calls);
}

/**
 * With two ids: a request of `size` bytes whose caller gives up while the callee answers it, so that its cancel
 * arrives after the reply left; the third request reuses its id, and must be answered.
 */
async function lateCancelThenIdReused(size: number): Promise<Array<string | number>> {
  const controller = new AbortController();
  const { caller, ran } = await callerAndCallee({ maxRequestId: 2 }, (tag) => {
    if (tag instanceof Uint8Array) controller.abort();
  });
  await expect(caller.sendRequest('take', [new Uint8Array(size)], { signal: controller.signal })).rejects.toMatchObject({
    name: 'AbortError',
  });
  expect(await caller.sendRequest('small', ['second'])).toBe('small');
  await nextTurn();
  expect(await caller.sendRequest('small', ['third'], { timeout: 10_000 })).toBe('small');
  return ran;
}

test('a cancel whose request a later, smaller call overtook still drops the request', async () => {
  const { caller, ran } = await callerAndCallee();
  await cancelPassedByASmallCall(caller, 4 * MiB);
  // Started later and larger, its reply comes after the first request has arrived whole.
  await caller.sendRequest('take', [new Uint8Array(4 * MiB + 1)]);
  expect(ran).toEqual(['after', 4 * MiB + 1]);
});

// Ids past what the callee remembers of ended requests, and a small id space: the small requests that used the ids
// before are not remembered against the large one below, which reuses id 1.
test.each([9000, 100])('a cancel that passes its request after %i ids wrapped still drops it', async (maxRequestId) => {
  const { caller, ran } = await callerAndCallee({ maxRequestId });
  await useEveryId(caller, maxRequestId);
  ran.length = 0;
  await cancelPassedByASmallCall(caller, 4 * MiB);
  await caller.sendRequest('take', [new Uint8Array(4 * MiB + 1)]);
  expect(ran).toEqual(['after', 4 * MiB + 1]);
});

test('a cancel that comes after its large request ended is not held against the next request under that id', async () => {
  // Its cancel says it may have passed its request (over 4 KiB).
  expect(await lateCancelThenIdReused(8 * KiB)).toEqual([8 * KiB, 'second', 'third']);
});

test('a late cancel of a request near 4 KiB, whichever side of it, is not held against the next request under its id', async () => {
  // The caller measures a request with its type byte, the callee without: the callee errs towards large.
  for (let size = 4080; size <= 4100; size++) await lateCancelThenIdReused(size);
});

test('a late cancel of a small request is never held against a later request under that id', async () => {
  const maxRequestId = 9000;
  const { caller } = await callerAndCallee({ maxRequestId });
  // Id 1 is answered, then many cancellable calls end before its cancel arrives: a small request's cancel says it
  // cannot have passed it, so however late it comes it is not kept.
  const controller = new AbortController();
  const first = caller.sendRequest('small', ['first'], { signal: controller.signal }).then(
    () => 'resolved',
    (error: Error) => error.name,
  );
  const others: Promise<unknown>[] = [];
  for (let i = 0; i < 8200; i++) others.push(caller.sendRequest('small', ['other'], { timeout: 60_000 }));
  controller.abort();
  await first;
  await Promise.all(others);
  // Round the ids to 1 again.
  const filler: Promise<unknown>[] = [];
  for (let i = 0; i < maxRequestId - 8201; i++) filler.push(caller.sendRequest('small', ['fill']));
  await Promise.all(filler);
  expect(await caller.sendRequest('small', ['legit'], { timeout: 10_000 })).toBe('small');
});

describe('an early cancel whose request never comes', () => {
  afterEach(() => jest.restoreAllMocks());

  /** A callee, and a channel to it on which a crafted Cancel for id 1 goes first, then a caller's first request. */
  async function cancelThenRequest(minutesLater: number) {
    const pair = await createUnixSocketPair();
    const left = new IPCChannel(pair.a);
    const right = new IPCChannel(pair.b);
    const callee = new RpcProtocol(right);
    disposers.push(async () => {
      left.close();
      right.close();
      await pair.dispose();
    });
    callee.setRequestHandler(() => 'ran');
    // Cancel of id 1, flagged as one that may have passed its request.
    left.getWriteBuffer().writeUint8(5).writeLength(1).writeUint8(1).commit();
    // The callee keeps it now, at this time (its own record, looked at only here).
    const kept = (callee as unknown as { incoming: { earlyCancels: { early: Map<number, number> } } }).incoming
      .earlyCancels.early;
    await until(() => kept.has(1), 'the callee to keep the early cancel');
    const realNow = Date.now.bind(Date);
    jest.spyOn(Date, 'now').mockImplementation(() => realNow() + minutesLater * 60_000);
    const caller = new RpcProtocol(left);
    disposers.push(() => caller.dispose());
    // Unanswered when dropped: its timeout ends it.
    return caller.sendRequest('small', ['first'], { timeout: 300 });
  }

  test('drops the request that comes under its id soon after', async () => {
    await expect(cancelThenRequest(0)).rejects.toMatchObject({ name: 'TimeoutError' });
  });

  test('is forgotten after a minute: a request under that id then is another use of it, and runs', async () => {
    await expect(cancelThenRequest(2)).resolves.toBe('ran');
  });
});
