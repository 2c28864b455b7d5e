import { join } from 'path';
import type { ChildProcess } from 'child_process';
import { forkWithChannel, IPCChannel, InMemoryChannel, RpcProtocol, type RpcProtocolOptions } from '../../src';
import { createUnixSocketPair } from './streams';

/** Two protocols talking over an in-memory channel pair. */
export function protocolPair(options: RpcProtocolOptions = {}): [RpcProtocol, RpcProtocol] {
  const [a, b] = InMemoryChannel.createPair();
  return [new RpcProtocol(a, options), new RpcProtocol(b, options)];
}

/** Settles with what the promise did, so a test can assert on rejections without unhandled ones. */
export function outcome<T>(promise: Promise<T>): Promise<{ ok: true; value: T } | { ok: false; error: any }> {
  return promise.then(
    (value) => ({ ok: true as const, value }),
    (error) => ({ ok: false as const, error }),
  );
}

const children = new Set<ChildProcess>();

export function forkRpcWorker(): { child: ChildProcess; channel: IPCChannel } {
  // A generous exit grace: tests assert the signal that ended the child, so onClose must wait for the exit.
  const worker = forkWithChannel(join(__dirname, '..', 'fixtures', 'rpc-worker.js'), [], {
    channel: { exitGraceMs: 20000 },
  });
  children.add(worker.child);
  worker.child.once('exit', () => children.delete(worker.child));
  return worker;
}

export function killAllChildren(): void {
  for (const child of children) child.kill('SIGKILL');
  children.clear();
}

export const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * A caller and a callee over a connected Unix-socket pair whose large messages go in 64 KiB fragments (in-memory
 * pairs never fragment). `release` is handed what closes them, for the test's afterEach.
 */
export async function fragmentingProtocols(
  release: (dispose: () => Promise<void>) => void,
  callerOptions: RpcProtocolOptions = {},
): Promise<{ caller: RpcProtocol; callee: RpcProtocol }> {
  const pair = await createUnixSocketPair();
  const left = new IPCChannel(pair.a, { fragmentSize: 64 * 1024 });
  const right = new IPCChannel(pair.b, { fragmentSize: 64 * 1024 });
  const caller = new RpcProtocol(left, callerOptions);
  const callee = new RpcProtocol(right);
  release(async () => {
    caller.dispose();
    callee.dispose();
    left.close();
    right.close();
    await pair.dispose();
  });
  return { caller, callee };
}
