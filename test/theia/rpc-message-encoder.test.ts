import {
  EncodeError,
  InMemoryChannel,
  RpcPeer,
  RpcProtocol as CoreRpcProtocol,
  RpcProtocolError,
  ValueCodec,
  type ValueExtension,
} from '../../src';
import {
  EncodingError,
  MsgPackMessageDecoder,
  MsgPackMessageEncoder,
  ResponseError,
  RpcMessageType,
  RpcProtocol,
  UnsupportedReadBufferError,
  Uint8ArrayReadBuffer,
  Uint8ArrayWriteBuffer,
  responseErrorExtension,
  type ReadBuffer,
  type RpcMessage,
  type WriteBuffer,
} from '../../src/theia';
import { next } from '../helpers/wait';
import { linkedChannels, message } from './helpers';

const encoder = new MsgPackMessageEncoder();
const decoder = new MsgPackMessageDecoder();

function roundTrip(write: (buffer: WriteBuffer) => void): RpcMessage {
  return decoder.parse(new Uint8ArrayReadBuffer(message(write)));
}

describe('Theia face: value encoding', () => {
  it('decodes what it encoded: primitives, nested arrays and objects, Set, Map, bytes, undefined and null', () => {
    const value = {
      text: 'text',
      yes: true,
      whole: 5,
      fraction: 14.5,
      list: ['1', 2, { three: 'three' }],
      set: new Set([1, 2, 3]),
      map: new Map([
        [1, 'one'],
        [2, 'two'],
      ]),
      bytes: new TextEncoder().encode('some bytes'),
      nested: { foo: 'bar', baz: true },
      missing: undefined,
      empty: null,
    };
    const bytes = message((buffer) => encoder.encode(buffer, value));
    const decoded = decoder.decode<typeof value>(new Uint8ArrayReadBuffer(bytes));
    expect({ ...decoded, bytes: Array.from(decoded.bytes) }).toEqual({ ...value, bytes: Array.from(value.bytes) });
    expect(decoded.set).toBeInstanceOf(Set);
    expect(decoded.map).toBeInstanceOf(Map);
    expect(decoded.bytes).toBeInstanceOf(Uint8Array);
    expect('missing' in decoded).toBe(true);
  });

  it('writes into a buffer made over the caller\'s memory, read back from getCurrentContents() before commit', () => {
    const writer = new Uint8ArrayWriteBuffer(new Uint8Array(1024));
    const value = { list: [1, 'two', { three: 3 }], set: new Set(['a']), map: new Map([[1, null]]) };
    encoder.encode(writer, value);
    expect(decoder.decode(new Uint8ArrayReadBuffer(writer.getCurrentContents()))).toEqual(value);
  });

  it('fails with EncodingError on a value that contains itself, the codec\'s error as its cause', () => {
    const a = new Set<unknown>();
    const b = new Set<unknown>([a]);
    a.add(b);
    let failure: unknown;
    message((buffer) => {
      try {
        encoder.encode(buffer, a);
      } catch (error) {
        failure = error;
      }
    });
    expect(failure).toBeInstanceOf(EncodingError);
    expect((failure as EncodingError).cause).toBeInstanceOf(EncodeError);
  });

  it('fails with EncodingError on a function among a request\'s arguments', () => {
    expect(() => message((buffer) => encoder.request(buffer, 1, 'm', [() => 1]))).toThrow(EncodingError);
  });

  it('keeps a ResponseError\'s class, code and data', () => {
    const bytes = message((buffer) => encoder.encode(buffer, new ResponseError(42, 'refused', { why: 'policy' })));
    const decoded = decoder.decode(new Uint8ArrayReadBuffer(bytes));
    expect(decoded).toBeInstanceOf(ResponseError);
    expect(decoded).toMatchObject({ code: 42, message: 'refused', data: { why: 'policy' } });
  });

  it('encodes with the codec it was given, extensions included', () => {
    class Point {
      constructor(readonly x: number) {}
    }
    const pointExtension: ValueExtension<Point> = {
      tag: 2,
      test: (value): value is Point => value instanceof Point,
      encode: (point, buffer) => void buffer.writeNumber(point.x),
      decode: (buffer) => new Point(buffer.readNumber()),
    };
    const codec = new ValueCodec({ extensions: [responseErrorExtension, pointExtension] });
    const bytes = message((buffer) => new MsgPackMessageEncoder(codec).encode(buffer, new Point(3)));
    expect(new MsgPackMessageDecoder(codec).decode(new Uint8ArrayReadBuffer(bytes))).toEqual(new Point(3));
  });

  it('reads only readers it can read as bytes', () => {
    const foreign = { readUint8: () => 0 } as unknown as ReadBuffer;
    expect(() => decoder.decode(foreign)).toThrow(UnsupportedReadBufferError);
  });
});

describe('Theia face: RPC messages', () => {
  it('parses each of the five messages as written', () => {
    expect(roundTrip((b) => encoder.request(b, 7, 'add', [1, 2]))).toEqual({
      type: RpcMessageType.Request,
      id: 7,
      method: 'add',
      args: [1, 2],
    });
    expect(roundTrip((b) => encoder.notification(b, 'tick', ['t'], 9))).toEqual({
      type: RpcMessageType.Notification,
      method: 'tick',
      args: ['t'],
    });
    expect(roundTrip((b) => encoder.replyOK(b, 7, { sum: 3 }))).toEqual({
      type: RpcMessageType.Reply,
      id: 7,
      res: { sum: 3 },
    });
    expect(roundTrip((b) => encoder.cancel(b, 7))).toEqual({ type: RpcMessageType.Cancel, id: 7 });
    const failed = roundTrip((b) => encoder.replyErr(b, 7, new TypeError('bad')));
    expect(failed).toMatchObject({ type: RpcMessageType.ReplyErr, id: 7 });
    expect(failed.type === RpcMessageType.ReplyErr && failed.err).toBeInstanceOf(TypeError);
  });

  it('keeps the cancellation token marker of a request', () => {
    const parsed = roundTrip((b) => encoder.request(b, 1, 'work', ['job', RpcProtocol.CANCELLATION_TOKEN_KEY]));
    expect(parsed).toEqual({
      type: RpcMessageType.Request,
      id: 1,
      method: 'work',
      args: ['job', RpcProtocol.CANCELLATION_TOKEN_KEY],
    });
  });

  it("speaks fdpipe's wire format: an RpcProtocol serves a request it encodes, and it parses the reply", async () => {
    const { left, right } = linkedChannels();
    new RpcProtocol(right, async (method, args) => `${method}(${args.join(',')})`);
    const reply = next(left.onMessage);
    const buffer = left.getWriteBuffer();
    encoder.request(buffer, 1000, 'sum', [1, 2]);
    buffer.commit();
    expect(decoder.parse((await reply)())).toEqual({ type: RpcMessageType.Reply, id: 1000, res: 'sum(1,2)' });
  });

  it("and fdpipe's own protocol answers it too", async () => {
    const [here, there] = InMemoryChannel.createPair();
    new CoreRpcProtocol(there).setRequestHandler((method, args) => [method, ...args]);
    const reply = next(here.onMessage);
    const buffer = here.getWriteBuffer();
    encoder.request(buffer, 5, 'echo', ['x']);
    buffer.commit();
    expect(decoder.parse(new Uint8ArrayReadBuffer((await reply)().sliceAtReadPosition()))).toEqual({
      type: RpcMessageType.Reply,
      id: 5,
      res: ['echo', 'x'],
    });
  });

  it("refuses messages of fdpipe's that Theia's have no form for: a call to a named service", async () => {
    const [here, there] = InMemoryChannel.createPair();
    const seen = next(there.onMessage);
    void new RpcPeer(here).proxy<{ ping(): void }>('svc').ping().catch(() => {});
    const reader = new Uint8ArrayReadBuffer((await seen)().sliceAtReadPosition());
    expect(() => decoder.parse(reader)).toThrow(RpcProtocolError);
    here.close();
  });
});
