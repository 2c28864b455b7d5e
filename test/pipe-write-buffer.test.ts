import { Writable } from 'stream';
import { FrameWriteBuffer, REFERENCE_FROM } from '../src/pipe/FrameWriteBuffer';
import { FrameWriter } from '../src/pipe/FrameWriter';
import { expectSameMessages, pattern } from './helpers/bytes';

/** Splits what a stream was given back into the messages of its frames. */
function framesIn(chunks: Uint8Array[]): Buffer[] {
  const bytes = Buffer.concat(chunks);
  const messages: Buffer[] = [];
  let at = 0;
  while (at < bytes.length) {
    const size = bytes.readUInt32BE(at);
    messages.push(bytes.subarray(at + 4, at + 4 + size));
    at += 4 + size;
  }
  expect(at).toBe(bytes.length);
  return messages;
}

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('FrameWriteBuffer', () => {
  const noSend = () => {};

  it('writes in place in the slab it is lent, after room for the header, and sends itself at commit', () => {
    const slab = Buffer.alloc(64, 0xee);
    const send = jest.fn();
    const frame = new FrameWriteBuffer(slab, 8, send);
    frame.writeUint16(0x0102).writeString('ab');
    expect([...slab.subarray(0, 17)]).toEqual([...new Array(12).fill(0xee), 1, 2, 2, 0x61, 0x62]);
    expect([frame.inSlab, frame.start, frame.end, frame.size]).toEqual([true, 8, 17, 5]);
    frame.commit();
    expect(send).toHaveBeenCalledWith(frame);
    frame.writeHeader();
    expect([...slab.subarray(8, 12)]).toEqual([0, 0, 0, 5]);
    // Still where it was written: one chunk, a view of the slab.
    const [chunk, ...rest] = frame.chunks();
    expect(rest).toEqual([]);
    expect(chunk.buffer).toBe(slab.buffer);
    expect(chunk.byteOffset).toBe(slab.byteOffset + 8);
    expect(chunk.length).toBe(9);
  });

  it('keeps runs of REFERENCE_FROM bytes or more by reference, each placed after so many written bytes', () => {
    const frame = new FrameWriteBuffer(Buffer.alloc(64), 0, noSend);
    const big = pattern(REFERENCE_FROM, 1);
    const almost = pattern(REFERENCE_FROM - 1, 2);
    frame.writeUint8(1).writeRaw(big).writeRaw(Buffer.from([2, 3])).writeBytes(big).writeUint8(4);
    // Header room and 1 | big | 2, 3 and big's 3-byte length | big | 4
    expect(frame.references!.map((run) => [run.after, run.bytes === big])).toEqual([
      [5, true],
      [10, true],
    ]);
    expect(frame.size).toBe(1 + big.length + 2 + 3 + big.length + 1);
    frame.writeHeader();
    const chunks = frame.chunks();
    expect(chunks.map((c) => c.length)).toEqual([5, big.length, 5, big.length, 1]);
    expect(chunks[1]).toBe(big);
    expect(chunks[3]).toBe(big);
    expect([...chunks[2]]).toEqual([2, 3, 0x80, 0x80, 0x04]);

    // One byte short of the threshold is copied like any other write.
    frame.writeRaw(almost);
    expect(frame.references).toHaveLength(2);
    expect(frame.inSlab).toBe(false);
  });

  it('moves what it wrote to memory of its own when it outgrows the slab; references stay as they are', () => {
    const slab = Buffer.alloc(32, 0);
    const frame = new FrameWriteBuffer(slab, 16, noSend);
    const big = pattern(REFERENCE_FROM, 3);
    frame.writeUint32(0x01020304).writeRaw(big).writeUint32(0x05060708);
    expect(frame.inSlab).toBe(true);
    frame.writeRaw(pattern(20, 4));
    expect(frame.inSlab).toBe(false);
    // The slab is the writer's again: whatever it does with it, the frame keeps its bytes.
    slab.fill(0xee);
    frame.writeHeader();
    expect(frame.chunks()[1]).toBe(big);
    expectSameMessages(framesIn(frame.chunks()), [
      Buffer.concat([Buffer.from([1, 2, 3, 4]), big, Buffer.from([5, 6, 7, 8]), pattern(20, 4)]),
    ]);
  });

  it('leaveSlab() copies what was written out, so the writer may lend the slab to the next frame', () => {
    const slab = Buffer.alloc(64);
    const frame = new FrameWriteBuffer(slab, 4, noSend);
    frame.writeString('before');
    frame.leaveSlab();
    expect(frame.inSlab).toBe(false);
    slab.fill(0xee);
    frame.writeString('after').writeHeader();
    expect(frame.chunks().every((chunk) => chunk.buffer !== slab.buffer)).toBe(true);
    expectSameMessages(framesIn(frame.chunks()), [Buffer.from('\u0006before\u0005after')]);
  });

  it('leaveSlab() leaves a committed frame alone', () => {
    const slab = Buffer.alloc(64);
    const frame = new FrameWriteBuffer(slab, 0, noSend);
    frame.writeUint8(1).commit();
    frame.leaveSlab();
    expect(frame.inSlab).toBe(true);
  });
});

describe('FrameWriter', () => {
  function recordingWriter() {
    const stream = new Writable({
      write(_chunk, _encoding, callback) {
        callback();
      },
    });
    const write = jest.spyOn(stream, 'write');
    const cork = jest.spyOn(stream, 'cork');
    const writer = new FrameWriter(stream);
    const send = (frame: FrameWriteBuffer) => writer.enqueueFrame(frame);
    const written = () => write.mock.calls.map(([chunk]) => chunk as Uint8Array);
    return { writer, send, written, cork };
  }

  it('lays the small frames of one tick back to back in one slab and writes them as one chunk, next tick', async () => {
    const { writer, send, written } = recordingWriter();
    const expected: Buffer[] = [];
    for (let i = 0; i < 100; i++) {
      writer.createWriteBuffer(send).writeUint16(i).writeString(`m${i}`).commit();
      expected.push(Buffer.concat([Buffer.from([i >> 8, i & 0xff]), Buffer.from([`m${i}`.length]), Buffer.from(`m${i}`)]));
    }
    expect(written()).toHaveLength(0);
    expect(writer.pending).toBe(expected.reduce((sum, m) => sum + 4 + m.length, 0));
    await nextTurn();
    expect(written()).toHaveLength(1);
    expect(writer.pending).toBe(0);
    expectSameMessages(framesIn(written()), expected);
  });

  it('writes a frame with referenced runs from the slab around the caller bytes, in one corked batch', async () => {
    const { writer, send, written, cork } = recordingWriter();
    const big = pattern(REFERENCE_FROM, 5);
    writer.createWriteBuffer(send).writeUint8(1).commit();
    writer.createWriteBuffer(send).writeUint8(2).writeRaw(big).writeUint8(3).commit();
    writer.createWriteBuffer(send).writeUint8(4).commit();
    await nextTurn();
    const chunks = written();
    expect(cork).toHaveBeenCalledTimes(1);
    // Frame 1 and frame 2's header and first byte | big itself | frame 2's last byte and frame 3.
    expect(chunks.map((c) => c.length)).toEqual([5 + 5, big.length, 1 + 5]);
    expect(chunks[1]).toBe(big);
    expect(chunks[2].buffer).toBe(chunks[0].buffer);
    expect(chunks[2].byteOffset).toBe(chunks[0].byteOffset + chunks[0].length);
    expectSameMessages(framesIn(chunks), [
      Buffer.from([1]),
      Buffer.concat([Buffer.from([2]), big, Buffer.from([3])]),
      Buffer.from([4]),
    ]);
  });

  it('keeps every frame intact and in commit order, whichever of several open buffers commits first', async () => {
    const { writer, send, written } = recordingWriter();
    const a = writer.createWriteBuffer(send);
    const b = writer.createWriteBuffer(send);
    a.writeString('a').commit();
    // b is open while c is lent the slab: b must have moved out, or c would write over it.
    const c = writer.createWriteBuffer(send);
    b.writeString('bbbb');
    c.writeString('cccc');
    c.commit();
    b.commit();
    const abandoned = writer.createWriteBuffer(send).writeString('never sent');
    writer.enqueueMessage(Buffer.from('sent'));
    abandoned.writeString('still never sent');
    writer.createWriteBuffer(send).writeString('d').commit();
    await nextTurn();
    expectSameMessages(framesIn(written()), [
      Buffer.from('\u0001a'),
      Buffer.from('\u0004cccc'),
      Buffer.from('\u0004bbbb'),
      Buffer.from('sent'),
      Buffer.from('\u0001d'),
    ]);
  });

  it('writes a frame that outgrew the slab from its own memory, after the frames committed before it', async () => {
    const { writer, send, written } = recordingWriter();
    writer.createWriteBuffer(send).writeString('first').commit();
    const large = writer.createWriteBuffer(send);
    const pieces = Array.from({ length: 8 }, (_, i) => pattern(10_000, i));
    for (const piece of pieces) large.writeRaw(piece);
    large.commit();
    writer.createWriteBuffer(send).writeString('last').commit();
    await nextTurn();
    expectSameMessages(framesIn(written()), [Buffer.from('\u0005first'), Buffer.concat(pieces), Buffer.from('\u0004last')]);
  });
});
