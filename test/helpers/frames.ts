import { Writable } from 'stream';
import { FrameWriter } from '../../src/pipe/FrameWriter';
import { pattern } from './bytes';

/** A message that names itself: its index in its first 4 bytes, then a pattern. */
export function numbered(index: number, size: number): Buffer {
  const message = pattern(size, index);
  message.writeUInt32BE(index, 0);
  return message;
}

/** The bytes a FrameWriter puts on the wire for `messages`, committed in one tick, half by send(), half built. */
export function wireBytes(messages: Buffer[], fragmentSize: number): Buffer {
  const written: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      written.push(Buffer.from(chunk));
      callback();
    },
  });
  const writer = new FrameWriter(sink, () => {}, fragmentSize);
  messages.forEach((message, i) => {
    if (i % 2 === 0) writer.enqueueMessage(message);
    else writer.createWriteBuffer((frame) => writer.enqueueFrame(frame)).writeRaw(message).commit();
  });
  writer.flush();
  writer.stop();
  return Buffer.concat(written);
}

/** A fragmented message's first fragment as on the wire: its 16-byte header, then `bytes`. */
export function startFragment(id: number, total: number, bytes: Buffer): Buffer {
  const header = Buffer.alloc(16);
  header.writeUInt32BE(0xfffffffe, 0);
  header.writeUInt32BE(id, 4);
  header.writeUInt32BE(total, 8);
  header.writeUInt32BE(bytes.length, 12);
  return Buffer.concat([header, bytes]);
}

/** A later fragment as on the wire: its 12-byte header, then `bytes`. */
export function nextFragment(id: number, bytes: Buffer): Buffer {
  const header = Buffer.alloc(12);
  header.writeUInt32BE(0xfffffffd, 0);
  header.writeUInt32BE(id, 4);
  header.writeUInt32BE(bytes.length, 8);
  return Buffer.concat([header, bytes]);
}
