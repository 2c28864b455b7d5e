import {
  ForwardingChannel,
  Uint8ArrayReadBuffer,
  Uint8ArrayWriteBuffer,
  type Channel,
  type WriteBuffer,
} from '../../src/theia';

export interface LinkedChannels {
  left: ForwardingChannel;
  right: ForwardingChannel;
}

/**
 * Two channels of the face joined in memory, wired the way Theia code wires its own test channels: a commit on one
 * fires the other's onMessageEmitter within the same call (or, `later`, on a later turn, as a transport would), and
 * closing one fires the other's onCloseEmitter.
 */
export function linkedChannels(delivery: 'at once' | 'later' = 'at once'): LinkedChannels {
  const deliverTo = (peer: () => ForwardingChannel) => () => {
    const buffer = new Uint8ArrayWriteBuffer();
    buffer.onCommit((bytes) => {
      const deliver = () => peer().onMessageEmitter.fire(() => new Uint8ArrayReadBuffer(bytes));
      if (delivery === 'at once') deliver();
      else setImmediate(deliver);
    });
    return buffer;
  };
  const end = (name: 'left' | 'right', peer: () => ForwardingChannel) =>
    new ForwardingChannel(name, () => peer().onCloseEmitter.fire({ reason: `${name} closed` }), deliverTo(peer));
  const pair: LinkedChannels = { left: end('left', () => pair.right), right: end('right', () => pair.left) };
  return pair;
}

/** Every string message a Theia channel receives. */
export function strings(channel: Channel): string[] {
  const seen: string[] = [];
  channel.onMessage((read) => seen.push(read().readString()));
  return seen;
}

/** Settles with what the promise did, so a test can look at a rejection without leaving it unhandled. */
export function settled<T>(promise: Promise<T>): Promise<{ ok: true; value: T } | { ok: false; error: unknown }> {
  return promise.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
}

/** The message `write` builds: for building messages by hand. */
export function message(write: (buffer: WriteBuffer) => void): Uint8Array {
  const buffer = new Uint8ArrayWriteBuffer();
  write(buffer);
  return buffer.getCurrentContents();
}

/** The bytes as a plain array, so Buffers and Uint8Arrays of the same bytes compare equal. */
export function bytesOf(bytes: Uint8Array): number[] {
  return Array.from(bytes);
}
