import { ChannelClosedError } from '../../src';
import {
  ChannelMultiplexer,
  DuplicateChannelError,
  Emitter,
  Uint8ArrayReadBuffer,
  Uint8ArrayWriteBuffer,
  type Channel,
  type ChannelCloseEvent,
  type DidOpenChannelEvent,
  type MessageProvider,
} from '../../src/theia';
import { next, settle, until } from '../helpers/wait';
import { linkedChannels, settled, strings } from './helpers';

function multiplexers() {
  const { left, right } = linkedChannels();
  return { left, right, leftMux: new ChannelMultiplexer(left), rightMux: new ChannelMultiplexer(right) };
}

function closes(channel: Channel): ChannelCloseEvent[] {
  const seen: ChannelCloseEvent[] = [];
  channel.onClose((event) => seen.push(event));
  return seen;
}

describe('Theia face: ChannelMultiplexer', () => {
  it('routes each sub-channel\'s messages to its namesake on the other side, both ways, at once', async () => {
    const { leftMux, rightMux } = multiplexers();
    const first = await leftMux.open('first');
    const second = await leftMux.open('second');
    const firstThere = rightMux.getOpenChannel('first');
    const secondThere = rightMux.getOpenChannel('second');
    expect(firstThere).toBeDefined();
    expect(secondThere).toBeDefined();
    const atFirst = strings(firstThere!);
    const atSecond = strings(second);
    first.getWriteBuffer().writeString('to first').commit();
    secondThere!.getWriteBuffer().writeString('to second').commit();
    expect(atFirst).toEqual(['to first']);
    expect(atSecond).toEqual(['to second']);
  });

  it('tells both sides of every sub-channel on onDidOpenChannel, the opener too', async () => {
    const { leftMux, rightMux } = multiplexers();
    const opened: string[] = [];
    leftMux.onDidOpenChannel(({ id }) => opened.push(`left:${id}`));
    rightMux.onDidOpenChannel(({ id }) => opened.push(`right:${id}`));
    const channel = await leftMux.open('a');
    await rightMux.open('b');
    expect(opened.sort()).toEqual(['left:a', 'left:b', 'right:a', 'right:b']);
    expect(leftMux.getOpenChannel('a')).toBe(channel);
  });

  it('refuses, at once, to open an id that is open or being opened', async () => {
    const { leftMux } = multiplexers();
    const opening = leftMux.open('x');
    expect(() => leftMux.open('x')).toThrow(DuplicateChannelError);
    await opening;
    expect(() => leftMux.open('x')).toThrow("Another channel with the id 'x' is already open.");
  });

  it('rejects a pending open with the reason the base channel closed for', async () => {
    const { left } = linkedChannels();
    const mux = new ChannelMultiplexer(left); // nobody on the other side answers
    const opening = settled(mux.open('never'));
    left.onCloseEmitter.fire({ reason: 'base went away' });
    const result = await opening;
    expect(result.ok).toBe(false);
    expect(!result.ok && result.error).toBeInstanceOf(ChannelClosedError);
    expect(!result.ok && (result.error as Error).message).toContain('base went away');
  });

  it('closes the open sub-channels, with the base channel\'s own event, when the base closes', async () => {
    const { left, leftMux } = multiplexers();
    const sub = await leftMux.open('sub');
    const seen = closes(sub);
    left.onCloseEmitter.fire({ reason: 'base closed', code: 2 });
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ reason: 'base closed', code: 2 });
    expect(leftMux.getOpenChannel('sub')).toBeUndefined();
  });

  it('a sub-channel closed on one side closes on the other; the id is free again on both', async () => {
    const { leftMux, rightMux } = multiplexers();
    const here = await leftMux.open('s');
    const there = rightMux.getOpenChannel('s')!;
    const closedHere = closes(here);
    const closedThere = closes(there);
    here.close();
    expect(closedHere).toEqual([]);
    expect(closedThere).toHaveLength(1);
    expect(leftMux.getOpenChannel('s')).toBeUndefined();
    expect(rightMux.getOpenChannel('s')).toBeUndefined();
    const again = await rightMux.open('s');
    expect(leftMux.getOpenChannel('s')).toBeDefined();
    expect(again).not.toBe(there);
  });

  it('passes the base channel\'s errors to every open sub-channel', async () => {
    const { left, leftMux } = multiplexers();
    const sub = await leftMux.open('e');
    const errors: unknown[] = [];
    sub.onError((error) => errors.push(error));
    const error = new Error('transport trouble');
    left.onErrorEmitter.fire(error);
    expect(errors).toEqual([error]);
  });

  it('a base channel closed on this side closes the sub-channels and rejects pending opens', async () => {
    const { left, leftMux } = multiplexers();
    const sub = await leftMux.open('open');
    const seen = closes(sub);
    const { left: lonely } = linkedChannels();
    const unanswered = new ChannelMultiplexer(lonely);
    const opening = settled(unanswered.open('pending'));
    left.close();
    lonely.close();
    expect(seen).toHaveLength(1);
    expect((await opening).ok).toBe(false);
  });

  it('dispose() closes the sub-channels on both sides', async () => {
    const { leftMux, rightMux } = multiplexers();
    const here = await leftMux.open('d');
    const seenHere = closes(here);
    const seenThere = closes(rightMux.getOpenChannel('d')!);
    leftMux.dispose();
    expect(seenHere).toHaveLength(1);
    expect(seenThere).toHaveLength(1);
  });

  it('an id both sides open at the same time is refused by both: whatever opened closes again at once', async () => {
    const { left, right } = linkedChannels('later');
    const leftMux = new ChannelMultiplexer(left);
    const rightMux = new ChannelMultiplexer(right);
    const announced: Array<{ id: string; closed: boolean }> = [];
    const track = ({ id, channel }: DidOpenChannelEvent) => {
      const entry = { id, closed: false };
      announced.push(entry);
      channel.onClose(() => (entry.closed = true));
    };
    leftMux.onDidOpenChannel(track);
    rightMux.onDidOpenChannel(track);
    await Promise.all([settled(leftMux.open('same')), settled(rightMux.open('same'))]);
    await until(() => announced.every((entry) => entry.closed), 'the channels opened under a refused id to close');
    expect(leftMux.getOpenChannel('same')).toBeUndefined();
    expect(rightMux.getOpenChannel('same')).toBeUndefined();
  });

  it('delivers what the acceptor sends at once to the opener, who listens after open() resolves', async () => {
    const { leftMux, rightMux } = multiplexers();
    rightMux.onDidOpenChannel(({ channel }) => channel.getWriteBuffer().writeString('welcome').commit());
    const sub = await leftMux.open('greeted');
    const got = next(sub.onMessage);
    expect((await got)().readString()).toBe('welcome');
  });

  it('runs over a channel that implements Theia\'s interface without AbstractChannel', async () => {
    interface PlainChannel extends Channel {
      messages: Emitter<MessageProvider>;
      peer?: PlainChannel;
    }
    const plain = (): PlainChannel => {
      const channel: PlainChannel = {
        messages: new Emitter<MessageProvider>(),
        onClose: new Emitter<ChannelCloseEvent>().event,
        onError: new Emitter<unknown>().event,
        get onMessage() {
          return channel.messages.event;
        },
        getWriteBuffer: () => {
          const buffer = new Uint8ArrayWriteBuffer();
          buffer.onCommit((bytes) => channel.peer!.messages.fire(() => new Uint8ArrayReadBuffer(bytes)));
          return buffer;
        },
        close: () => {},
      };
      return channel;
    };
    const a = plain();
    const b = plain();
    a.peer = b;
    b.peer = a;
    const aMux = new ChannelMultiplexer(a);
    const bMux = new ChannelMultiplexer(b);
    const sub = await aMux.open('plain');
    const seen = strings(bMux.getOpenChannel('plain')!);
    sub.getWriteBuffer().writeString('through a plain channel').commit();
    expect(seen).toEqual(['through a plain channel']);
  });
});

describe('Theia face: ChannelMultiplexer after dispose()', () => {
  it('rejects open() at once, and tells the other side nothing', async () => {
    const { leftMux, rightMux } = multiplexers();
    const heard: DidOpenChannelEvent[] = [];
    rightMux.onDidOpenChannel((event) => heard.push(event));
    leftMux.dispose();
    const outcome = await Promise.race([settled(leftMux.open('late')), settle().then(() => 'still pending' as const)]);
    expect(outcome).toEqual({ ok: false, error: expect.any(ChannelClosedError) });
    expect(heard).toEqual([]);
    expect(rightMux.getOpenChannel('late')).toBeUndefined();
  });
});
