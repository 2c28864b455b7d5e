'use strict';
// The "raw" ceiling's framing, written for the bench on purpose and kept minimal: each frame is a 4-byte unsigned
// big-endian length, then the payload — the same wire format as fdpipe, with none of its API.
//
// It still does what any usable framing must, so the ceiling is honest rather than flattering:
// - the reader delivers every message as one contiguous buffer whatever the chunking (a view of the chunk when the
//   frame lies whole inside it, else one buffer of the frame's size that the chunks are copied into once);
// - the writer batches the small frames sent in one tick into one write, and writes large payloads by reference
//   behind their header (header and payload go out together in one corked writev).

const v8 = require('v8');
const HEADER = 4;
/** Payloads at least this big are written by reference instead of being copied into the batch. */
const BY_REFERENCE = 16 * 1024;
const SLAB = 64 * 1024;

class FrameReader {
  constructor(onFrame) {
    this.onFrame = onFrame;
    this.header = Buffer.alloc(HEADER);
    this.headerFilled = 0;
    this.body = null;
    this.bodyFilled = 0;
  }

  push(chunk) {
    const end = chunk.length;
    let offset = 0;
    while (offset < end) {
      const body = this.body;
      if (body !== null) {
        const count = Math.min(end - offset, body.length - this.bodyFilled);
        chunk.copy(body, this.bodyFilled, offset, offset + count);
        this.bodyFilled += count;
        offset += count;
        if (this.bodyFilled === body.length) {
          this.body = null;
          this.onFrame(body);
        }
        continue;
      }
      let size;
      if (this.headerFilled === 0 && end - offset >= HEADER) {
        size = chunk.readUInt32BE(offset);
        offset += HEADER;
      } else {
        while (this.headerFilled < HEADER && offset < end) this.header[this.headerFilled++] = chunk[offset++];
        if (this.headerFilled < HEADER) return;
        this.headerFilled = 0;
        size = this.header.readUInt32BE(0);
      }
      if (end - offset >= size) {
        this.onFrame(chunk.subarray(offset, offset + size));
        offset += size;
      } else {
        this.body = Buffer.allocUnsafe(size);
        this.bodyFilled = 0;
      }
    }
  }
}

class FrameWriter {
  /** @param stream a net.Socket (or any Writable); @param highWaterMark bytes queued before send() says wait. */
  constructor(stream, highWaterMark = 1024 * 1024) {
    this.stream = stream;
    this.highWaterMark = highWaterMark;
    // Small frames are appended to a slab; each flush writes the slab's new part, which is never written to again.
    this.slab = Buffer.allocUnsafe(SLAB);
    this.slabStart = 0;
    this.slabEnd = 0;
    this.pieces = [];
    this.queued = 0;
    this.scheduled = false;
    this.flushBound = () => this.flush();
  }

  /** Queues one frame; returns false when the producer should wait for whenWritable(). */
  send(payload) {
    const size = payload.length;
    if (size >= BY_REFERENCE) {
      this.cutSlab();
      const header = Buffer.allocUnsafe(HEADER);
      header.writeUInt32BE(size, 0);
      this.pieces.push(header, payload);
    } else {
      if (this.slabEnd + HEADER + size > this.slab.length) {
        this.cutSlab();
        this.slab = Buffer.allocUnsafe(SLAB);
        this.slabStart = this.slabEnd = 0;
      }
      this.slab.writeUInt32BE(size, this.slabEnd);
      this.slab.set(payload, this.slabEnd + HEADER);
      this.slabEnd += HEADER + size;
    }
    this.queued += HEADER + size;
    if (!this.scheduled) {
      this.scheduled = true;
      process.nextTick(this.flushBound);
    }
    return this.queued + this.stream.writableLength < this.highWaterMark;
  }

  /** Resolves when what was queued has been handed to the OS, or at once if little enough is waiting. */
  whenWritable() {
    this.flush();
    if (!this.stream.writableNeedDrain) return Promise.resolve();
    return new Promise((resolve) => this.stream.once('drain', resolve));
  }

  cutSlab() {
    if (this.slabEnd > this.slabStart) {
      this.pieces.push(this.slab.subarray(this.slabStart, this.slabEnd));
      this.slabStart = this.slabEnd;
    }
  }

  flush() {
    this.scheduled = false;
    this.cutSlab();
    const pieces = this.pieces;
    if (pieces.length === 0) return;
    this.pieces = [];
    this.queued = 0;
    const stream = this.stream;
    if (pieces.length === 1) {
      stream.write(pieces[0]);
      return;
    }
    stream.cork();
    for (const piece of pieces) stream.write(piece);
    stream.uncork();
  }
}

/**
 * birpc's channel options over a socket: this file's framing, with v8 serialization so bytes stay bytes. Both
 * ends of the birpc-over-fd-4 peer use it.
 */
function framedV8Channel(socket) {
  const writer = new FrameWriter(socket);
  return {
    post: (data) => writer.send(data),
    on: (fn) => {
      const reader = new FrameReader(fn);
      socket.on('data', (chunk) => reader.push(chunk));
    },
    serialize: (value) => v8.serialize(value),
    deserialize: (bytes) => v8.deserialize(bytes),
  };
}

module.exports = { FrameReader, FrameWriter, HEADER, framedV8Channel };
