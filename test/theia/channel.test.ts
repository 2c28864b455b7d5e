import {
  ChannelMultiplexer as CoreChannelMultiplexer,
  ConnectionClosedError,
  ListenerError,
  RpcPeer,
  Uint8ArrayReadBuffer as CoreUint8ArrayReadBuffer,
  type Channel as CoreChannel,
} from '../../src';
import {
  AbstractChannel,
  BasicChannel,
  Disposable,
  ForwardingChannel,
  UnknownChannelError,
  UnsupportedReadBufferError,
  Uint8ArrayReadBuffer,
  Uint8ArrayWriteBuffer,
  type ChannelCloseEvent,
  type DetailedChannelCloseEvent,
  type ReadBuffer,
  type WriteBuffer,
} from '../../src/theia';
import { next, settle } from '../helpers/wait';
import { bytesOf, linkedChannels, message, settled, strings } from './helpers';

function lonelyChannel(): ForwardingChannel {
  return new ForwardingChannel('alone', () => {}, () => new Uint8ArrayWriteBuffer());
}

describe('Theia face: channel close events', () => {
  it('close() fires nothing, and a close event fired after it reaches nobody', () => {
    const channel = lonelyChannel();
    const closes: ChannelCloseEvent[] = [];
    channel.onClose((event) => closes.push(event));
    channel.close();
    channel.onCloseEmitter.fire({ reason: 'after close' });
    expect(closes).toEqual([]);
  });

  it('a close event fired before close() is delivered, once', () => {
    const channel = lonelyChannel();
    const closes: ChannelCloseEvent[] = [];
    channel.onClose((event) => closes.push(event));
    channel.onCloseEmitter.fire({ reason: 'peer left', code: 3 });
    channel.onCloseEmitter.fire({ reason: 'again' });
    channel.close();
    expect(closes).toHaveLength(1);
    expect(closes[0]).toMatchObject({ reason: 'peer left', code: 3 });
  });

  it("Theia's { reason, code } reaches fdpipe listeners as a remote close", () => {
    const channel = lonelyChannel();
    const core: CoreChannel = channel;
    const seen = next(core.onClose);
    channel.onCloseEmitter.fire({ reason: 'gone', code: 1 });
    return expect(seen).resolves.toEqual<DetailedChannelCloseEvent>({ kind: 'remote', reason: 'gone', code: 1 });
  });

  it('is closed after close() here, and after a close from the other side', () => {
    const here = lonelyChannel();
    const there = lonelyChannel();
    expect(here.isClosed).toBe(false);
    here.close();
    there.onCloseEmitter.fire({ reason: 'remote' });
    expect(here.isClosed).toBe(true);
    expect(there.isClosed).toBe(true);
  });

  it('ForwardingChannel runs its close handler on the first close() only', () => {
    const closeHandler = jest.fn();
    const channel = new ForwardingChannel('x', closeHandler, () => new Uint8ArrayWriteBuffer());
    channel.close();
    channel.close();
    expect(closeHandler).toHaveBeenCalledTimes(1);
    expect(channel.id).toBe('x');
  });

  it('close() releases what a subclass pushed to toDispose, the last pushed first', () => {
    const released: string[] = [];
    class Owning extends BasicChannel {
      constructor() {
        super(() => new Uint8ArrayWriteBuffer());
        this.toDispose.push(Disposable.create(() => released.push('first')));
        this.toDispose.push(Disposable.create(() => released.push('second')));
      }
    }
    new Owning().close();
    expect(released).toEqual(['second', 'first']);
  });
});

describe('Theia face: channel messages and errors', () => {
  it('hands every listener its own reader of the message, readable the Theia way and the fdpipe way', () => {
    const { left, right } = linkedChannels();
    const readers: ReadBuffer[] = [];
    right.onMessage((read) => readers.push(read(), read()));
    left.getWriteBuffer().writeString('hello').writeUint8(7).commit();
    expect(readers).toHaveLength(2);
    expect(readers[0].readString()).toBe('hello');
    expect(readers[1].readString()).toBe('hello');
    const asCore = readers[0] as unknown as CoreUint8ArrayReadBuffer;
    expect(asCore.remaining).toBe(1);
    expect(bytesOf(asCore.readRaw(1))).toEqual([7]);
  });

  it('takes messages fired with fdpipe\'s own reader, from where that reader stood', () => {
    const channel = lonelyChannel();
    const seen = strings(channel);
    const reader = new CoreUint8ArrayReadBuffer(message((buffer) => buffer.writeUint8(1).writeString('rest')));
    reader.readUint8();
    // Its sliceAtReadPosition() gives bytes, not a reader, so typed Theia code cannot fire it; plain JavaScript can.
    channel.onMessageEmitter.fire(() => reader as unknown as ReadBuffer);
    expect(seen).toEqual(['rest']);
  });

  it('a reader it cannot read as bytes fails where it is read, with UnsupportedReadBufferError', () => {
    const channel = lonelyChannel();
    const foreign: ReadBuffer = {
      readUint8: () => 0,
      readUint16: () => 0,
      readUint32: () => 0,
      readString: () => '',
      readNumber: () => 0,
      readLength: () => 0,
      readBytes: () => new Uint8Array(),
      sliceAtReadPosition: () => foreign,
    };
    let failure: unknown;
    channel.onMessage((read) => {
      try {
        read();
      } catch (error) {
        failure = error;
      }
    });
    channel.onMessageEmitter.fire(() => foreign);
    expect(failure).toBeInstanceOf(UnsupportedReadBufferError);
  });

  it('hands on errors as they are, and wraps values that are not errors', () => {
    const channel = lonelyChannel();
    const errors: unknown[] = [];
    channel.onError((error) => errors.push(error));
    const error = new Error('boom');
    channel.onErrorEmitter.fire(error);
    channel.onErrorEmitter.fire('not an error');
    expect(errors[0]).toBe(error);
    expect(errors[1]).toBeInstanceOf(UnknownChannelError);
    expect((errors[1] as UnknownChannelError).value).toBe('not an error');
  });

  it('a message listener that throws is reported on onError, and the others still hear the message', () => {
    const { left, right } = linkedChannels();
    const errors: Error[] = [];
    right.onError((error) => errors.push(error));
    right.onMessage(() => {
      throw new Error('listener broke');
    });
    const seen = strings(right);
    left.getWriteBuffer().writeString('m').commit();
    expect(seen).toEqual(['m']);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(ListenerError);
  });

  it('with nobody on onError, a listener that throws becomes a process warning, not an exception', () => {
    const warnings = jest.spyOn(process, 'emitWarning').mockImplementation(() => {});
    try {
      const { left, right } = linkedChannels();
      right.onMessage(() => {
        throw new Error('unheard failure');
      });
      expect(() => left.getWriteBuffer().writeString('m').commit()).not.toThrow();
      expect(String(warnings.mock.calls[0]?.[0])).toContain('unheard failure');
    } finally {
      warnings.mockRestore();
    }
  });

  it('BasicChannel writes through its provider', () => {
    const written: number[][] = [];
    const channel = new BasicChannel(() => {
      const buffer = new Uint8ArrayWriteBuffer();
      buffer.onCommit((bytes) => written.push(bytesOf(bytes)));
      return buffer;
    });
    channel.getWriteBuffer().writeUint8(9).commit();
    expect(written).toEqual([[9]]);
  });
});

describe("Theia face: its channels are fdpipe's channels", () => {
  it("fdpipe's typed services run over them", async () => {
    const { left, right } = linkedChannels();
    const server = new RpcPeer(right);
    server.expose('math', { add: (a: number, b: number) => a + b });
    const math = new RpcPeer(left).proxy<{ add(a: number, b: number): number }>('math');
    await expect(math.add(2, 3)).resolves.toBe(5);
  });

  it("fdpipe's RPC hears the other side close: its pending calls reject", async () => {
    const { left, right } = linkedChannels();
    new RpcPeer(right).expose('slow', { wait: () => new Promise(() => {}) });
    const call = settled(new RpcPeer(left).proxy<{ wait(): void }>('slow').wait());
    await settle();
    right.close();
    const result = await call;
    expect(result.ok).toBe(false);
    expect(!result.ok && result.error).toBeInstanceOf(ConnectionClosedError);
  });

  it("fdpipe's multiplexer runs over them", async () => {
    const { left, right } = linkedChannels();
    const opener = new CoreChannelMultiplexer(left);
    const acceptor = new CoreChannelMultiplexer(right);
    const accepted = next(acceptor.onDidOpenChannel);
    const sub = await opener.open('sub');
    const { channel } = await accepted;
    const got = next(channel.onMessage);
    sub.getWriteBuffer().writeString('over a sub-channel').commit();
    expect((await got)().readString()).toBe('over a sub-channel');
  });

  it('a subclass of AbstractChannel is one too, without casts', () => {
    class Minimal extends AbstractChannel {
      getWriteBuffer(): WriteBuffer {
        return new Uint8ArrayWriteBuffer();
      }
    }
    const channel: CoreChannel = new Minimal();
    expect(channel.needsDrain).toBe(false);
    expect(channel.isClosed).toBe(false);
  });
});
