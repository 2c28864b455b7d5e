import { Uint8ArrayReadBuffer as CoreUint8ArrayReadBuffer } from '../../src';
import {
  ForwardingWriteBuffer,
  MessageSlice,
  Uint8ArrayReadBuffer,
  Uint8ArrayWriteBuffer,
  type ReadBuffer,
  type WriteBuffer,
} from '../../src/theia';
import { bytesOf, message } from './helpers';

describe('Theia face: Uint8ArrayReadBuffer', () => {
  const bytes = message((b) => b.writeUint8(1).writeString('head').writeUint32(77).writeBytes(new Uint8Array([5, 6])));

  it('reads back what was written, in order', () => {
    const reader: ReadBuffer = new Uint8ArrayReadBuffer(bytes);
    expect(reader.readUint8()).toBe(1);
    expect(reader.readString()).toBe('head');
    expect(reader.readUint32()).toBe(77);
    expect(bytesOf(reader.readBytes())).toEqual([5, 6]);
  });

  it('starts at readPosition, when given one', () => {
    const reader = new Uint8ArrayReadBuffer(bytes, 1);
    expect(reader.readString()).toBe('head');
  });

  it('sliceAtReadPosition() gives a reader of the rest, and leaves its own position alone', () => {
    const reader = new Uint8ArrayReadBuffer(bytes);
    reader.readUint8();
    const rest = reader.sliceAtReadPosition();
    expect(rest.readString()).toBe('head');
    expect(rest.sliceAtReadPosition().readUint32()).toBe(77);
    expect(reader.readString()).toBe('head');
  });

  it("the slice is the rest's bytes too, without a copy, for fdpipe code", () => {
    const reader = new Uint8ArrayReadBuffer(bytes);
    reader.readUint8();
    const rest = reader.sliceAtReadPosition();
    expect(rest).toBeInstanceOf(Uint8Array);
    expect(rest).toBeInstanceOf(MessageSlice);
    expect(rest.buffer).toBe(bytes.buffer);
    expect(bytesOf(rest)).toEqual(bytesOf(bytes.subarray(1)));
    expect(rest.subarray(1)).not.toBeInstanceOf(MessageSlice);
    expect(new CoreUint8ArrayReadBuffer(rest).readString()).toBe('head');
    expect(rest.remaining).toBe(bytes.length - 1);
  });

  it("is fdpipe's reader too", () => {
    const reader = new Uint8ArrayReadBuffer(bytes);
    expect(reader).toBeInstanceOf(CoreUint8ArrayReadBuffer);
    expect(bytesOf(reader.readRaw(1))).toEqual([1]);
    expect(reader.position).toBe(1);
  });
});

describe('Theia face: ForwardingWriteBuffer', () => {
  it('hands every write and the commit to the buffer it wraps', () => {
    const calls: string[] = [];
    const underlying = new Proxy({} as WriteBuffer, {
      get: (_t, name) =>
        function (this: WriteBuffer) {
          calls.push(String(name));
          return this;
        },
    });
    const forwarding = new ForwardingWriteBuffer(underlying);
    expect(forwarding.writeUint8(1).writeUint16(2).writeUint32(3).writeNumber(4).writeLength(5)).toBe(forwarding);
    forwarding.writeString('s').writeBytes(new Uint8Array(1)).writeRaw(new Uint8Array(1)).commit();
    expect(calls).toEqual([
      'writeUint8',
      'writeUint16',
      'writeUint32',
      'writeNumber',
      'writeLength',
      'writeString',
      'writeBytes',
      'writeRaw',
      'commit',
    ]);
  });

  it('prefixes messages when the wrapped buffer is a real one', () => {
    let committed: Uint8Array | undefined;
    const inner = new Uint8ArrayWriteBuffer();
    inner.onCommit((bytes) => (committed = bytes));
    new ForwardingWriteBuffer(inner.writeUint8(0xee)).writeString('x').commit();
    const reader = new Uint8ArrayReadBuffer(committed!);
    expect(reader.readUint8()).toBe(0xee);
    expect(reader.readString()).toBe('x');
  });
});

describe("Theia face: Uint8ArrayWriteBuffer in Theia's shape", () => {
  it('writes into the memory it is given, and getCurrentContents() gives the message, after commit too', () => {
    const writer = new Uint8ArrayWriteBuffer(new Uint8Array(1024));
    writer.writeUint8(8).writeUint32(10000).writeBytes(new Uint8Array([1, 2, 3, 4]));
    writer.writeString('a first string').writeString('a second string');
    writer.commit();
    const reader = new Uint8ArrayReadBuffer(writer.getCurrentContents());
    expect(reader.readUint8()).toBe(8);
    expect(reader.readUint32()).toBe(10000);
    expect(bytesOf(reader.readBytes())).toEqual([1, 2, 3, 4]);
    expect(reader.readString()).toBe('a first string');
    expect(reader.readString()).toBe('a second string');
  });

  it('keeps the bytes before writePosition as the start of the message', () => {
    const start = message((b) => b.writeUint8(9).writeUint8(8));
    const memory = new Uint8Array(64);
    memory.set(start);
    const writer = new Uint8ArrayWriteBuffer(memory, 1);
    writer.writeString('after');
    const reader = new Uint8ArrayReadBuffer(writer.getCurrentContents());
    expect(reader.readUint8()).toBe(9);
    expect(reader.readString()).toBe('after');
  });

  it('grows past the memory it was given', () => {
    const writer = new Uint8ArrayWriteBuffer(new Uint8Array(4));
    writer.writeString('longer than four bytes');
    expect(new Uint8ArrayReadBuffer(writer.getCurrentContents()).readString()).toBe('longer than four bytes');
  });

  it("a commit listener's exception comes out of commit()", () => {
    const writer = new Uint8ArrayWriteBuffer();
    writer.onCommit(() => {
      throw new Error('full');
    });
    expect(() => writer.commit()).toThrow('full');
  });
});
