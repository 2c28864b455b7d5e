import * as path from 'path';
import type { ChildProcess } from 'child_process';
import {
  ChannelClosedError,
  ChannelMultiplexer,
  Emitter,
  forkWithChannel,
  InMemoryChannel,
  IPCChannel,
  MultiplexerProtocolError,
  Uint8ArrayWriteBuffer,
  type Channel,
  type ChannelCloseEvent,
  type DidOpenChannelEvent,
  type ReadBufferProvider,
  type WriteBuffer,
} from '../src';
import { createUnixSocketPair } from './helpers/streams';
import { killAll } from './helpers/processes';
import { next, settle, until } from './helpers/wait';

/** Every string message a channel receives, and how it closed. */
function watch(channel: Channel) {
  const log = { messages: [] as string[], closes: [] as ChannelCloseEvent[] };
  channel.onMessage((read) => log.messages.push(read().readString()));
  channel.onClose((e) => log.closes.push(e));
  return log;
}

function send(channel: Channel, text: string): void {
  channel.getWriteBuffer().writeString(text).commit();
}

interface BasePair {
  left: Channel;
  right: Channel;
  dispose(): Promise<void>;
}

const bases: Array<[string, () => Promise<BasePair>]> = [
  [
    'InMemoryChannel',
    async () => {
      const [left, right] = InMemoryChannel.createPair();
      return { left, right, dispose: async () => left.close() };
    },
  ],
  [
    'IPCChannel over a Unix socket pair',
    async () => {
      const pair = await createUnixSocketPair();
      const left = new IPCChannel(pair.a);
      const right = new IPCChannel(pair.b);
      return {
        left,
        right,
        async dispose() {
          left.close();
          right.close();
          await pair.dispose();
        },
      };
    },
  ],
];

describe.each(bases)('ChannelMultiplexer over %s', (_name, connect) => {
  let base: BasePair;
  let left: ChannelMultiplexer;
  let right: ChannelMultiplexer;
  let openedOnRight: DidOpenChannelEvent[];
  let openedOnLeft: DidOpenChannelEvent[];

  beforeEach(async () => {
    base = await connect();
    left = new ChannelMultiplexer(base.left);
    right = new ChannelMultiplexer(base.right);
    // Fresh arrays captured by these listeners: a late event from the previous test's multiplexers must not land
    // in this test's lists.
    const onRight: DidOpenChannelEvent[] = (openedOnRight = []);
    const onLeft: DidOpenChannelEvent[] = (openedOnLeft = []);
    right.onDidOpenChannel((e) => onRight.push(e));
    left.onDidOpenChannel((e) => onLeft.push(e));
  });
  afterEach(async () => {
    await base.dispose();
  });

  it("fires the other side's onDidOpenChannel with the name before open() resolves", async () => {
    const channel = await left.open('first');
    expect(openedOnRight.map((e) => e.name)).toEqual(['first']);
    expect(channel.isClosed).toBe(false);
    expect(openedOnLeft).toEqual([]);
  });

  it('keeps the messages of each sub-channel apart, whichever side opened it', async () => {
    // Both sides number their own channels from 0; the ids must not collide.
    const [a, b] = await Promise.all([left.open('a'), left.open('b')]);
    const c = await right.open('c');
    const remote = new Map(openedOnRight.map((e) => [e.name, e.channel]));
    const cRemote = openedOnLeft[0].channel;
    const logs = {
      a: watch(a),
      b: watch(b),
      c: watch(c),
      aRemote: watch(remote.get('a')!),
      bRemote: watch(remote.get('b')!),
      cRemote: watch(cRemote),
    };
    for (let i = 0; i < 3; i++) {
      send(a, `a→${i}`);
      send(b, `b→${i}`);
      send(c, `c→${i}`);
      send(remote.get('a')!, `a←${i}`);
      send(remote.get('b')!, `b←${i}`);
      send(cRemote, `c←${i}`);
    }
    await until(() => Object.values(logs).every((log) => log.messages.length === 3), 'every message');
    expect(logs.aRemote.messages).toEqual(['a→0', 'a→1', 'a→2']);
    expect(logs.bRemote.messages).toEqual(['b→0', 'b→1', 'b→2']);
    expect(logs.cRemote.messages).toEqual(['c→0', 'c→1', 'c→2']);
    expect(logs.a.messages).toEqual(['a←0', 'a←1', 'a←2']);
    expect(logs.b.messages).toEqual(['b←0', 'b←1', 'b←2']);
    expect(logs.c.messages).toEqual(['c←0', 'c←1', 'c←2']);
    expect(left.channelCount).toBe(3);
    expect(right.channelCount).toBe(3);
  });

  it('delivers a message the other side sends from inside onDidOpenChannel', async () => {
    // A service that greets each new channel at once is the obvious way to use onDidOpenChannel.
    right.onDidOpenChannel(({ channel }) => send(channel, 'welcome'));
    const channel = await left.open('greeted');
    const log = watch(channel);
    await until(() => log.messages.length > 0, 'the greeting');
    expect(log.messages).toEqual(['welcome']);
  });

  it('delivers what the other side sent before closing a channel it closed right after accepting it', async () => {
    right.onDidOpenChannel(({ channel }) => {
      send(channel, 'one');
      send(channel, 'two');
      channel.close();
    });
    const channel = await left.open('brief');
    const events: string[] = [];
    channel.onMessage((read) => events.push(read().readString()));
    channel.onClose((e) => events.push(`closed:${e.kind}`));
    await until(() => channel.isClosed, 'the close');
    expect(events).toEqual(['one', 'two', 'closed:remote']);
  });

  it('holds messages until a sub-channel has a listener, then gives them to every listener of that tick', async () => {
    const channel = await left.open('late');
    send(openedOnRight[0].channel, 'early');
    await settle();
    const first: string[] = [];
    const second: string[] = [];
    channel.onMessage((read) => first.push(read().readString()));
    channel.onMessage((read) => second.push(read().readString()));
    await until(() => first.length === 1 && second.length === 1, 'the held message');
    expect(first).toEqual(['early']);
    expect(second).toEqual(['early']);
  });

  it('leaves the other sub-channels working when one closes', async () => {
    const a = await left.open('a');
    const b = await left.open('b');
    const aRemote = watch(openedOnRight[0].channel);
    const bRemote = watch(openedOnRight[1].channel);
    const aLocal = watch(a);
    a.close();
    expect(aLocal.closes).toEqual([expect.objectContaining({ kind: 'local' })]);
    expect(() => a.getWriteBuffer()).toThrow(ChannelClosedError);
    await until(() => aRemote.closes.length > 0, 'the remote end of a to close');
    expect(aRemote.closes).toEqual([expect.objectContaining({ kind: 'remote' })]);

    send(b, 'still here');
    send(openedOnRight[1].channel, 'and back');
    const bLocal = watch(b);
    await until(() => bRemote.messages.length === 1 && bLocal.messages.length === 1, 'messages on b');
    expect(bRemote.messages).toEqual(['still here']);
    expect(bLocal.messages).toEqual(['and back']);
    expect(bRemote.closes).toEqual([]);
    expect(left.channelCount).toBe(1);
    expect(right.channelCount).toBe(1);
    expect(base.left.isClosed).toBe(false);
  });

  it('closes every sub-channel on both sides when the base closes, and rejects pending opens', async () => {
    const a = await left.open('a');
    const b = await right.open('b');
    const logs = [watch(a), watch(b), watch(openedOnRight[0].channel), watch(openedOnLeft[0].channel)];
    // Sent but not yet answered when the base goes.
    const pending = left.open('never');
    base.left.close();
    await expect(pending).rejects.toThrow(ChannelClosedError);
    await until(() => logs.every((log) => log.closes.length > 0), 'every sub-channel to close');
    await settle();
    for (const log of logs) expect(log.closes).toHaveLength(1);
    expect(logs[0].closes[0].kind).toBe('local');
    expect(logs[2].closes[0].kind).toBe('remote');
    await expect(left.open('late')).rejects.toThrow(ChannelClosedError);
    await expect(right.open('late')).rejects.toThrow(ChannelClosedError);
  });

  it('rejects an open whose sub-channel is closed before the other side answers', async () => {
    // Disposing the multiplexer closes its sub-channels (including the pending one) but leaves the base open.
    const pending = left.open('x');
    left.dispose();
    await expect(pending).rejects.toThrow(ChannelClosedError);
    expect(base.left.isClosed).toBe(false);
  });

  it('reports a malformed message through onError and keeps working', async () => {
    const errors: Error[] = [];
    right.onError((e) => errors.push(e));
    const a = await left.open('a');
    const aRemote = watch(openedOnRight[0].channel);
    // A control message with an unknown op, then one cut short.
    base.left.getWriteBuffer().writeLength(0).writeUint8(99).commit();
    base.left.getWriteBuffer().writeLength(0).writeUint8(1).commit();
    send(a, 'after');
    await until(() => aRemote.messages.length === 1, 'the message after the bad ones');
    expect(errors).toHaveLength(2);
    for (const error of errors) expect(error).toBeInstanceOf(MultiplexerProtocolError);
    expect(aRemote.messages).toEqual(['after']);
  });
});

describe('ChannelMultiplexer over a forked child', () => {
  const children = new Set<ChildProcess>();
  afterEach(async () => {
    await killAll(children);
  });

  function start() {
    const worker = forkWithChannel(path.join(__dirname, 'fixtures', 'mux-worker.js'), [], {
      stdin: 'ignore',
      stdout: 'ignore',
    });
    children.add(worker.child);
    const mux = new ChannelMultiplexer(worker.channel);
    return { ...worker, mux };
  }

  it('opens named sub-channels both ways with isolated traffic, closing one leaves the others', async () => {
    const { mux, channel } = start();
    // The worker opens one towards us as soon as it starts, and greets on it.
    const fromChild = await next(mux.onDidOpenChannel);
    expect(fromChild.name).toBe('from-child');
    const fromChildLog = watch(fromChild.channel);

    const a = await mux.open('a');
    const b = await mux.open('b');
    const aLog = watch(a);
    const bLog = watch(b);
    for (let i = 0; i < 100; i++) {
      send(a, `x${i}`);
      send(b, `y${i}`);
    }
    await until(() => aLog.messages.length === 100 && bLog.messages.length === 100, 'the echoes');
    expect(aLog.messages).toEqual(Array.from({ length: 100 }, (_, i) => `a:x${i}`));
    expect(bLog.messages).toEqual(Array.from({ length: 100 }, (_, i) => `b:y${i}`));
    await until(() => fromChildLog.messages.length > 0, 'the greeting');
    expect(fromChildLog.messages).toEqual(['hello from the child']);

    // The worker closes 'a' when asked on it; 'b' and the base must carry on.
    send(a, 'close');
    await until(() => aLog.closes.length > 0, "'a' to close");
    expect(aLog.closes[0].kind).toBe('remote');
    send(b, 'after');
    await until(() => bLog.messages.length === 101, 'the echo on b');
    expect(bLog.messages[100]).toBe('b:after');
    expect(channel.isClosed).toBe(false);
  });

  it('closes all sub-channels and rejects pending opens when the base channel closes', async () => {
    const { mux, channel, child } = start();
    await next(mux.onDidOpenChannel);
    const a = await mux.open('a');
    const aLog = watch(a);
    const pending = mux.open('pending');
    const exited = new Promise((resolve) => child.once('exit', resolve));
    channel.close();
    await expect(pending).rejects.toThrow(ChannelClosedError);
    expect(aLog.closes).toHaveLength(1);
    expect(aLog.closes[0].kind).toBe('local');
    // The worker leaves when its base channel closes: it saw the close too.
    await exited;
  });
});

describe('ChannelMultiplexer and the listeners it holds', () => {
  /** A base channel whose events are plain emitters, so the test can count who listens. */
  class CountingBase implements Channel {
    readonly messages = new Emitter<ReadBufferProvider>();
    readonly closes = new Emitter<ChannelCloseEvent>();
    readonly errors = new Emitter<Error>();
    readonly drains = new Emitter<void>();
    readonly onMessage = this.messages.event;
    readonly onClose = this.closes.event;
    readonly onError = this.errors.event;
    readonly onDrain = this.drains.event;
    readonly needsDrain = false;
    isClosed = false;

    getWriteBuffer(): WriteBuffer {
      return new Uint8ArrayWriteBuffer();
    }

    close(): void {
      if (this.isClosed) return;
      this.isClosed = true;
      this.closes.fire({ kind: 'local', reason: 'closed by the test' });
    }

    dispose(): void {
      this.close();
    }

    get listeners(): number[] {
      return [this.messages, this.closes, this.errors, this.drains].map((emitter) => emitter.listenerCount);
    }
  }

  it.each(['the multiplexer is disposed', 'the base channel closes'] as const)(
    'lets go of every listener on the base channel when %s',
    async (how) => {
      const base = new CountingBase();
      const mux = new ChannelMultiplexer(base);
      const sub = mux.open('sub');
      expect(base.listeners).toEqual([1, 1, 0, 1]);
      if (how === 'the multiplexer is disposed') mux.dispose();
      else base.close();
      await expect(sub).rejects.toThrow(ChannelClosedError);
      expect(base.listeners).toEqual([0, 0, 0, 0]);
      expect(mux.channelCount).toBe(0);
    },
  );
});

describe('ChannelMultiplexer after dispose()', () => {
  test('open() rejects at once and the other side opens nothing', async () => {
    const [a, b] = InMemoryChannel.createPair();
    const mine = new ChannelMultiplexer(a);
    const theirs = new ChannelMultiplexer(b);
    const opened: DidOpenChannelEvent[] = [];
    theirs.onDidOpenChannel((event) => opened.push(event));
    mine.dispose();
    await expect(mine.open('late')).rejects.toBeInstanceOf(ChannelClosedError);
    await settle();
    expect(opened).toEqual([]);
    theirs.dispose();
  });
});
