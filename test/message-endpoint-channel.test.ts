import type { ChildProcess } from 'child_process';
import { MessageChannel, parentPort, type MessagePort, type Worker } from 'worker_threads';
import {
  MessageEndpointChannel,
  type ChannelCloseEvent,
  type MessageEndpoint,
  type PostingEndpoint,
  type SendingEndpoint,
} from '../src';
import { until } from './helpers/wait';

// Compile-time checks. ts-jest only transpiles, so these are made by the `tsc --noEmit` step of `npm test`: were
// the endpoint types to reject one of Node's own endpoints under strict, this file would not compile.
export function nodeObjectsAreEndpoints(child: ChildProcess, worker: Worker, port: MessagePort): MessageEndpoint[] {
  const sending: SendingEndpoint[] = [child, process];
  const posting: PostingEndpoint[] = [worker, port];
  if (parentPort) posting.push(parentPort);
  // @ts-expect-error an object that cannot be listened to is no endpoint
  const silent: PostingEndpoint = { postMessage() {} };
  return [...sending, ...posting, silent];
}

describe('MessageEndpointChannel', () => {
  it('carries messages both ways over a MessagePort pair, and a close reaches the other side', async () => {
    const { port1, port2 } = new MessageChannel();
    const a = new MessageEndpointChannel(port1);
    const b = new MessageEndpointChannel(port2);
    const received: string[] = [];
    b.onMessage((read) => received.push(read().readString()));
    a.onMessage((read) => received.push(read().readString()));
    const closes: ChannelCloseEvent[] = [];
    b.onClose((event) => closes.push(event));
    a.getWriteBuffer().writeString('to b').commit();
    b.getWriteBuffer().writeString('to a').commit();
    await until(() => received.length === 2, 'both messages');
    expect(received.sort()).toEqual(['to a', 'to b']);
    a.close();
    await until(() => closes.length > 0, "b's onClose");
    expect(closes).toEqual([expect.objectContaining({ kind: 'remote' })]);
    port1.close();
  });

  it.each(['here', 'by the other side'] as const)('releases its listeners on the port when closed %s', async (side) => {
    const { port1, port2 } = new MessageChannel();
    const events = ['message', 'disconnect', 'exit', 'close'] as const;
    const count = () => events.map((event) => port1.listenerCount(event));
    const without = count();
    const here = new MessageEndpointChannel(port1);
    const there = new MessageEndpointChannel(port2);
    expect(count()).toEqual(without.map((n) => n + 1));
    let closed = false;
    here.onClose(() => (closed = true));
    if (side === 'here') here.close();
    else there.close();
    await until(() => closed, 'onClose');
    expect(count()).toEqual(without);
    port1.close();
  });

  it('refuses an endpoint that can neither send nor post', () => {
    expect(() => new MessageEndpointChannel({ on() {}, off() {} })).toThrow(TypeError);
  });
});
