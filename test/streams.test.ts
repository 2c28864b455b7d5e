import { Readable } from 'stream';
import {
  AbortError,
  ConnectionClosedError,
  DecodeError,
  EncodeError,
  Emitter,
  InMemoryChannel,
  RemoteStream,
  RpcPeer,
  StreamError,
  Uint8ArrayReadBuffer,
  Uint8ArrayWriteBuffer,
  ValueCodec,
  type Event,
  type RpcProtocolOptions,
} from '../src';
import { HandshakeError, HELLO, readHello } from '../src/rpc/channels/handshake';
import { outcome, tick } from './helpers/rpc';

/** A producer that records how far it got and whether its finally ran. */
class Source {
  produced = 0;
  finished = false;
  constructor(private readonly limit = Infinity) {}
  async *numbers(): AsyncGenerator<number> {
    try {
      for (let i = 0; i < this.limit; i++) {
        this.produced++;
        yield i;
      }
    } finally {
      this.finished = true;
    }
  }
}

interface Svc {
  count(n: number): AsyncGenerator<number>;
  endless(): AsyncGenerator<number>;
  failing(after: number): AsyncGenerator<number>;
  sum(values: AsyncIterable<number>, signal?: AbortSignal): Promise<number>;
  keep(values: AsyncIterable<number>): boolean;
  chunks(count: number, size: number): AsyncGenerator<Uint8Array>;
  readable(): Readable;
  web(): ReadableStream<string>;
  nested(): Promise<{ label: string; items: AsyncIterable<string> }>;
  onStream: Event<AsyncIterable<number>>;
}

function connect(options: RpcProtocolOptions = {}) {
  const [a, b] = InMemoryChannel.createPair();
  const server = new RpcPeer(a, options);
  const client = new RpcPeer(b, options);
  const state = {
    endless: new Source(),
    kept: undefined as AsyncIterable<number> | undefined,
    readable: undefined as Readable | undefined,
    webCancelled: undefined as unknown,
    stream: new Emitter<AsyncIterable<number>>(),
  };
  server.expose('svc', {
    count: (n: number) => new Source(n).numbers(),
    endless: () => state.endless.numbers(),
    async *failing(after: number) {
      for (let i = 0; i < after; i++) yield i;
      throw Object.assign(new TypeError('the source broke'), { code: 'E_SOURCE' });
    },
    async sum(values: AsyncIterable<number>) {
      let total = 0;
      for await (const value of values) total += value;
      return total;
    },
    keep(values: AsyncIterable<number>) {
      state.kept = values;
      return true;
    },
    async *chunks(count: number, size: number) {
      for (let i = 0; i < count; i++) yield new Uint8Array(size).fill(i);
    },
    readable: () => (state.readable = Readable.from(['a', 'b', 'c', 'd'], { objectMode: true })),
    web: () =>
      new ReadableStream<string>({
        pull(controller) {
          controller.enqueue('x');
        },
        cancel(reason) {
          state.webCancelled = reason ?? 'cancelled';
        },
      }),
    async nested() {
      return { label: 'inside', items: (async function* () { yield 'p'; yield 'q'; })() };
    },
    onStream: state.stream.event,
  });
  return { server, client, svc: client.proxy<Svc>('svc'), state };
}

async function collect<T>(stream: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of stream) items.push(item);
  return items;
}

/** Runs the event loop until `condition` holds; event-driven code here settles within a few turns. */
async function until(condition: () => boolean, turns = 1000): Promise<void> {
  for (let i = 0; i < turns && !condition(); i++) await tick();
  expect(condition()).toBe(true);
}

describe('streams as results, arguments and event values', () => {
  test('a method returning an async generator gives the caller a RemoteStream of its items, in order', async () => {
    const { svc, server, client } = connect();
    const stream = await svc.count(5000);
    expect(stream).toBeInstanceOf(RemoteStream);
    const items = await collect(stream);
    expect(items).toEqual(Array.from({ length: 5000 }, (_, i) => i));
    expect(server.protocol.streamCounts).toEqual({ producing: 0, consuming: 0 });
    expect(client.protocol.streamCounts).toEqual({ producing: 0, consuming: 0 });
  });

  test('a stream passed as an argument is read by the callee', async () => {
    const { svc } = connect();
    async function* values() {
      for (let i = 1; i <= 100; i++) yield i;
    }
    expect(await svc.sum(values())).toBe(5050);
    // An object literal that is an AsyncIterable (and has no other enumerable keys) is one too.
    expect(await svc.sum({ async *[Symbol.asyncIterator]() { yield 1; yield 2; } })).toBe(3);
  });

  test('a stream as an event value, and one nested in a result object', async () => {
    const { svc, state } = connect();
    const received: AsyncIterable<number>[] = [];
    const listening = svc.onStream((stream) => received.push(stream));
    await tick();
    state.stream.fire((async function* () { yield 7; yield 8; })());
    await until(() => received.length === 1);
    expect(await collect(received[0])).toEqual([7, 8]);
    listening.dispose();
    const nested = await svc.nested();
    expect(nested.label).toBe('inside');
    expect(await collect(nested.items)).toEqual(['p', 'q']);
  });

  test('a Readable and a web ReadableStream travel as streams', async () => {
    const { svc } = connect();
    expect(await collect(await svc.readable())).toEqual(['a', 'b', 'c', 'd']);
    const web = await svc.web();
    let seen = 0;
    for await (const item of web) {
      expect(item).toBe('x');
      if (++seen === 3) break;
    }
  });

  test('small Uint8Array chunks arrive as views into the message that carried them, not copies', async () => {
    const { svc } = connect();
    const chunks = await collect(await svc.chunks(4, 100));
    expect(chunks.map((chunk) => chunk[0])).toEqual([0, 1, 2, 3]);
    expect(chunks.every((chunk) => chunk.byteLength === 100)).toBe(true);
    // Batched into one message: all four are windows onto that one message's memory.
    expect(new Set(chunks.map((chunk) => chunk.buffer)).size).toBe(1);
    expect(chunks[0].buffer.byteLength).toBeGreaterThan(400);
  });
});

describe('every ending ends both sides, the error delivered once', () => {
  test('breaking out of for-await stops the producer: its finally runs', async () => {
    const { svc, state, server } = connect();
    let seen = 0;
    for await (const value of await svc.endless()) {
      expect(value).toBe(seen);
      if (++seen === 10) break;
    }
    await until(() => state.endless.finished);
    expect(server.protocol.streamCounts.producing).toBe(0);
  });

  test('a producer that throws ends the loop with its error, class and properties kept, once', async () => {
    const { svc, client } = connect();
    const stream = await svc.failing(3);
    const seen: number[] = [];
    const result = await outcome(
      (async () => {
        for await (const value of stream) seen.push(value);
      })(),
    );
    expect(seen).toEqual([0, 1, 2]);
    expect(result.ok).toBe(false);
    const error = (result as { error: TypeError & { code: string } }).error;
    expect(error).toBeInstanceOf(TypeError);
    expect(error.message).toBe('the source broke');
    expect(error.code).toBe('E_SOURCE');
    expect(await stream.next()).toEqual({ done: true, value: undefined });
    expect(client.protocol.streamCounts.consuming).toBe(0);
  });

  test("aborting the call's signal ends a result stream in the middle with AbortError, and stops its producer", async () => {
    const { client, state } = connect();
    const controller = new AbortController();
    const stream = (await client.protocol.request('svc', 'endless', [], { signal: controller.signal })) as RemoteStream<number>;
    const result = await outcome(
      (async () => {
        for await (const value of stream) if (value === 20) controller.abort('enough');
      })(),
    );
    expect((result as { error: unknown }).error).toBeInstanceOf(AbortError);
    await until(() => state.endless.finished);
  });

  test('aborting the signal of a call that sent a stream ends it for the callee with AbortError', async () => {
    const { client, state } = connect();
    const source = new Source();
    const controller = new AbortController();
    const kept = outcome(client.protocol.request('svc', 'keep', [source.numbers()], { signal: controller.signal }));
    expect(await kept).toEqual({ ok: true, value: true });
    const reading = outcome(collect(state.kept!));
    await until(() => source.produced > 10);
    controller.abort();
    const read = await reading;
    expect((read as { error: unknown }).error).toBeInstanceOf(AbortError);
    await until(() => source.finished);
  });

  test('RemoteStream.cancel(reason) rejects the waiting read with that reason and stops the producer', async () => {
    const { svc, state } = connect();
    const stream = await svc.endless();
    const first = await stream.next();
    expect(first).toEqual({ done: false, value: 0 });
    const reason = new Error('no more');
    (stream as unknown as RemoteStream<number>).cancel(reason);
    await expect(stream.next()).rejects.toBe(reason);
    expect(await stream.next()).toEqual({ done: true, value: undefined });
    await until(() => state.endless.finished);
  });

  test('a closed connection ends the loop with ConnectionClosedError and stops the producer', async () => {
    const { svc, server, state } = connect();
    const stream = await svc.endless();
    const reading = outcome(
      (async () => {
        for await (const value of stream) if (value === 50) server.dispose();
      })(),
    );
    expect((await reading as { error: unknown }).error).toBeInstanceOf(ConnectionClosedError);
    await until(() => state.endless.finished);
  });

  test('a stream given to a call that fails to encode is left to its owner, untouched', async () => {
    const { client } = connect();
    const source = new Source();
    const result = await outcome(client.protocol.request('svc', 'keep', [source.numbers(), () => 1]));
    expect((result as { error: unknown }).error).toBeInstanceOf(EncodeError);
    expect(client.protocol.streamCounts.producing).toBe(0);
    expect(source.produced).toBe(0);
  });

  test('a remote stream can be read once: a second loop throws StreamError', async () => {
    const { svc } = connect();
    const stream = await svc.count(2);
    expect(await collect(stream)).toEqual([0, 1]);
    await expect(collect(stream)).rejects.toBeInstanceOf(StreamError);
  });
});

describe('credit-based flow control', () => {
  test('the producer never runs more than the item window ahead of a slow reader', async () => {
    const window = { items: 8, bytes: 1 << 20 };
    const { client, state } = connect({ streamWindow: window });
    const stream = (await client.proxy<Svc>('svc').endless()) as unknown as RemoteStream<number>;
    let consumed = 0;
    for await (const _ of stream) {
      consumed++;
      for (let i = 0; i < 5; i++) await tick(); // a reader much slower than the producer
      expect(state.endless.produced).toBeLessThanOrEqual(consumed + window.items);
      expect(stream.buffered.items).toBeLessThanOrEqual(window.items);
      if (consumed === 100) break;
    }
    // It did run ahead as far as the window let it.
    expect(state.endless.produced).toBeGreaterThan(consumed);
  });

  test('the byte window bounds Uint8Array chunks in flight', async () => {
    const window = { items: 1000, bytes: 64 * 1024 };
    const [a, b] = InMemoryChannel.createPair();
    const server = new RpcPeer(a);
    const client = new RpcPeer(b, { streamWindow: window });
    let producedBytes = 0;
    const size = 16 * 1024;
    server.expose('bytes', {
      async *chunks() {
        for (;;) {
          producedBytes += size;
          yield new Uint8Array(size);
        }
      },
    });
    let consumedBytes = 0;
    for await (const chunk of await client.proxy<{ chunks(): AsyncGenerator<Uint8Array> }>('bytes').chunks()) {
      consumedBytes += chunk.byteLength;
      for (let i = 0; i < 3; i++) await tick();
      // One chunk may go past the window (it is sent while any byte of credit is left).
      expect(producedBytes).toBeLessThanOrEqual(consumedBytes + window.bytes + size);
      if (consumedBytes >= 2 << 20) break;
    }
  });

  test('a stream nobody reads costs its producer nothing: credit comes with the first read', async () => {
    const { svc, state } = connect();
    const stream = await svc.endless();
    for (let i = 0; i < 20; i++) await tick();
    expect(state.endless.produced).toBe(0);
    expect(await stream.next()).toEqual({ done: false, value: 0 });
  });

  test('100 streams at once over one connection all progress, read in turn with a small window', async () => {
    const { svc } = connect({ streamWindow: { items: 4, bytes: 1 << 20 } });
    const streams = await Promise.all(Array.from({ length: 100 }, () => svc.count(50)));
    const totals = new Array(100).fill(0);
    // Round-robin reads: with a window of 4, no stream could finish unless every other kept going too.
    for (let round = 0; round < 50; round++) {
      await Promise.all(
        streams.map(async (stream, i) => {
          const { value, done } = await stream.next();
          expect(done).toBe(false);
          expect(value).toBe(round);
          totals[i] += value;
        }),
      );
    }
    expect(totals.every((total) => total === (49 * 50) / 2)).toBe(true);
    for (const stream of streams) expect(await stream.next()).toEqual({ done: true, value: undefined });
  });
});

describe('streams outside an RPC message', () => {
  test('the codec alone refuses to encode a stream, and to decode one', () => {
    const codec = new ValueCodec();
    const buffer = new Uint8ArrayWriteBuffer();
    expect(() => codec.encode(buffer, (async function* () {})())).toThrow(EncodeError);
    expect(() => codec.encode(new Uint8ArrayWriteBuffer(), { a: Readable.from([]) })).toThrow(/outside an RPC message/);
    // The stream tag followed by an id, as a peer would send it.
    expect(() => codec.decode(new Uint8ArrayReadBuffer(new Uint8Array([0xd9, 1])))).toThrow(DecodeError);
  });

  test('a hello whose context holds a stream is refused before the client is welcomed', () => {
    const buffer = new Uint8ArrayWriteBuffer().writeUint8(HELLO).writeString('fdpipe/3').writeString('');
    buffer.writeUint8(0x91).writeString('s').writeUint8(0xd9).writeLength(1); // { s: <stream 1> }
    const hello = readHello(new Uint8ArrayReadBuffer(buffer.getCurrentContents()), new ValueCodec());
    expect(() => hello.readContext()).toThrow(HandshakeError);
  });

  test('a Readable returned by a call cancelled before its reply is destroyed', async () => {
    const { client, server } = connect();
    const readable = Readable.from(['a']);
    server.expose('slow', {
      later: (signal: AbortSignal) =>
        new Promise((resolve) => signal.addEventListener('abort', () => resolve(readable), { once: true })),
    });
    const controller = new AbortController();
    const call = outcome(client.protocol.request('slow', 'later', [], { signal: controller.signal }));
    await tick();
    controller.abort();
    expect((await call as { error: unknown }).error).toBe(controller.signal.reason); // rejected with the reason, as fetch() is
    await until(() => readable.destroyed);
  });

  test('a stream in a reply that arrives after its call timed out is stopped unread', async () => {
    const { client, server } = connect();
    const source = new Source();
    let reply!: (value: unknown) => void;
    server.expose('late', { get: () => new Promise((resolve) => (reply = resolve)) });
    const call = outcome(client.protocol.request('late', 'get', [], { timeout: 1 }));
    await until(() => reply !== undefined);
    await call;
    // The callee cannot see the cancel before it answers here: the reply is sent, and ignored on arrival.
    reply({ items: source.numbers() });
    await until(() => server.protocol.streamCounts.producing === 0 && client.protocol.streamCounts.consuming === 0);
    expect(source.produced).toBe(0);
  });
});

describe('typed proxies read a stream straight from the call', () => {
  test('for await over the call itself, typed by the method’s item type', async () => {
    const { svc } = connect();
    const seen: number[] = [];
    for await (const value of svc.count(4)) {
      const typed: number = value; // Remote<Svc>['count'] yields numbers
      seen.push(typed);
    }
    expect(seen).toEqual([0, 1, 2, 3]);
    const chunks: Uint8Array[] = [];
    for await (const chunk of svc.chunks(2, 8)) chunks.push(chunk);
    expect(chunks.map((chunk) => chunk.byteLength)).toEqual([8, 8]);
  });

  test('breaking out of the loop over the call stops the producer', async () => {
    const { svc, state } = connect();
    for await (const value of svc.endless()) if (value === 3) break;
    await until(() => state.endless.finished);
  });

  test('a call that returns no stream fails the loop with StreamError; awaiting it still works', async () => {
    const { client, server } = connect();
    server.protocol.registerTarget('plain', { call: () => 42 });
    const plain = client.proxy<{ value(): AsyncIterable<number> }>('plain');
    await expect(collect(plain.value())).rejects.toBeInstanceOf(StreamError);
    expect(await plain.value()).toBe(42);
  });
});

describe('the wire, driven by hand', () => {
  /** A protocol on one end; raw messages on the other, with what the protocol sent decoded enough to answer. */
  function handDriven(options: RpcProtocolOptions = {}) {
    const [raw, end] = InMemoryChannel.createPair();
    const client = new RpcPeer(end, options).protocol;
    const sent: number[][] = [];
    raw.onMessage((provider) => {
      const reader = provider();
      const message: number[] = [];
      while (reader.remaining > 0) message.push(reader.readUint8());
      sent.push(message);
    });
    const send = (...bytes: number[]) => {
      const buffer = raw.getWriteBuffer();
      for (const byte of bytes) buffer.writeUint8(byte);
      buffer.commit();
    };
    const errors: Error[] = [];
    client.onError((error) => errors.push(error));
    return { client, sent, send, errors };
  }
  // Message types and the codec's stream tag, as PROTOCOL.md lists them.
  const REPLY = 2;
  const DATA = 13;
  const END = 14;
  const STREAM_TAG = 0xd9;

  async function openStream(options: RpcProtocolOptions = {}) {
    const driven = handDriven(options);
    const call = driven.client.request('svc', 'm', []);
    await until(() => driven.sent.length === 1);
    const requestId = driven.sent[0][1];
    driven.send(REPLY, requestId, STREAM_TAG, 1);
    const stream = (await call) as RemoteStream<number>;
    return { ...driven, stream };
  }

  test('messages of a stream that arrive out of turn are read in order', async () => {
    const { stream, send, sent } = await openStream();
    const first = stream.next();
    await until(() => sent.length === 2); // the credit
    expect(sent[1][0]).toBe(12);
    send(DATA, 1, 1, 1, 1, 20); // seq 1: item 20
    send(END, 1, 2); // seq 2: the end
    send(DATA, 1, 0, 2, 2, 10, 11); // seq 0: items 10, 11
    expect(await first).toEqual({ done: false, value: 10 });
    expect(await collect(stream)).toEqual([11, 20]);
  });

  test('a producer that sends past the granted window is cut off with StreamError', async () => {
    const { stream, send, sent, errors } = await openStream({ streamWindow: { items: 2, bytes: 1000 } });
    const reading = outcome(collect(stream));
    await until(() => sent.length === 2);
    send(DATA, 1, 0, 3, 3, 1, 2, 3);
    expect((await reading as { error: unknown }).error).toBeInstanceOf(StreamError);
    expect(errors[0]).toBeInstanceOf(StreamError);
    // And it was told to stop.
    await until(() => sent.some((message) => message[0] === 16));
  });
});

describe('a batch that cannot be sent', () => {
  test('ends the stream with that error on the reader’s side and returns the source', async () => {
    const [a, b] = InMemoryChannel.createPair();
    let refuseLarge = false;
    // The producer's channel refuses messages over 10 KiB, as a pipe does past the receiver's maxMessageSize.
    const limited = new Proxy(a, {
      get(target, key) {
        if (key !== 'getWriteBuffer') {
          const value = Reflect.get(target, key, target);
          return typeof value === 'function' ? value.bind(target) : value;
        }
        return () => {
          const buffer = target.getWriteBuffer();
          let size = 0;
          const counted: typeof buffer = new Proxy(buffer, {
            get(inner, name) {
              const value = Reflect.get(inner, name, inner);
              if (typeof value !== 'function') return value;
              return (...args: unknown[]) => {
                if (name === 'writeRaw' || name === 'writeBytes') size += (args[0] as Uint8Array).byteLength;
                if (name === 'commit' && refuseLarge && size > 10 * 1024) throw new RangeError('message too large');
                const result = value.apply(inner, args);
                return result === inner ? counted : result;
              };
            },
          });
          return counted;
        };
      },
    });
    const server = new RpcPeer(limited);
    const client = new RpcPeer(b);
    const errors: Error[] = [];
    server.protocol.onError((error) => errors.push(error));
    let finished = false;
    server.expose('big', {
      async *chunks() {
        try {
          yield new Uint8Array(100);
          await new Promise((resolve) => setImmediate(resolve)); // the first chunk goes alone
          refuseLarge = true;
          yield new Uint8Array(64 * 1024);
          yield new Uint8Array(100);
        } finally {
          finished = true;
        }
      },
    });
    const seen: number[] = [];
    const result = await outcome(
      (async () => {
        for await (const chunk of client.proxy<{ chunks(): AsyncGenerator<Uint8Array> }>('big').chunks()) {
          seen.push(chunk.byteLength);
        }
      })(),
    );
    expect(seen).toEqual([100]);
    expect((result as { error: Error }).error).toBeInstanceOf(RangeError);
    expect((result as { error: Error }).error.message).toBe('message too large');
    await until(() => finished);
  });
});
