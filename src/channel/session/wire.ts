// The session layer's frames. Each is one message of the BinaryMessagePipe under it (so it inherits the pipe's
// framing, and its fragments: a large DATA frame does not hold up small ones); the first byte says what it is.
//
//   DATA     0x01  u32 seq, message bytes              one message of the channel above; seq is the low 32 bits of
//                                                      its number in the session (1, 2, …, across all sockets)
//   ACK      0x02  u64 received                        the receiver holds every message up to this number; sent at
//                                                      least every keepAliveMs, so it is also the keep-alive
//   BYE      0x03  UTF-8 reason                        the sender closed the session for good
//   OPEN     0x10  u8 version, u32 keepAliveMs, u8 0   client → server, first frame of a socket: a new session
//            0x10  u8 version, u32 keepAliveMs, u8 1, 16 id, 16 secret, u64 received
//                                                      … or: resume session `id`, holding all up to `received`
//   OPENED   0x11  u8 version, u32 keepAliveMs, 16 id, 16 secret, u64 received
//                                                      server → client, answer to OPEN
//   REFUSED  0x12  UTF-8 reason                        server → client, answer to OPEN: no such session (any more)
//
// Numbers are big-endian; a u64 is written as two u32 (high, low) and never exceeds 2^53. After OPENED, each side
// sends again, in order, every DATA frame numbered above the other's `received`. Since the pipe lets a small
// message pass a large one under way, a receiver may hold messages above `received` too (out of turn); it
// delivers each the first time it comes and drops the copy a replay brings.

import { SessionProtocolError } from './errors';

export const DATA = 0x01;
/** A DATA frame's type and sequence number, before the message. */
export const DATA_HEADER_SIZE = 5;
export const ACK = 0x02;
export const BYE = 0x03;
export const OPEN = 0x10;
export const OPENED = 0x11;
export const REFUSED = 0x12;

export const SESSION_VERSION = 1;
export const ID_SIZE = 16;
export const SECRET_SIZE = 16;

/** An OPEN frame is at most this large, so a server reads no more than this from a socket that has said nothing. */
export const OPEN_LIMIT = 1 + 1 + 4 + 1 + ID_SIZE + SECRET_SIZE + 8;

export interface OpenFrame {
  keepAliveMs: number;
  /** Present when the client resumes a session. */
  resume?: { id: Buffer; secret: Buffer; received: number };
}

export interface OpenedFrame {
  keepAliveMs: number;
  id: Buffer;
  secret: Buffer;
  received: number;
}

function writeU64(target: Buffer, value: number, at: number): void {
  target.writeUInt32BE(Math.floor(value / 0x1_0000_0000), at);
  target.writeUInt32BE(value % 0x1_0000_0000, at + 4);
}

function readU64(source: Uint8Array, at: number): number {
  const view = Buffer.from(source.buffer, source.byteOffset, source.byteLength);
  const value = view.readUInt32BE(at) * 0x1_0000_0000 + view.readUInt32BE(at + 4);
  if (!Number.isSafeInteger(value)) throw new SessionProtocolError(`A message count of ${value} is out of range`);
  return value;
}

function expectSize(frame: Uint8Array, size: number, what: string): void {
  if (frame.byteLength !== size) {
    throw new SessionProtocolError(`A ${what} frame of ${frame.byteLength} bytes, not ${size}: not an fdpipe session peer`);
  }
}

export function ackFrame(received: number): Buffer {
  const frame = Buffer.allocUnsafe(9);
  frame[0] = ACK;
  writeU64(frame, received, 1);
  return frame;
}

export function readAck(frame: Uint8Array): number {
  expectSize(frame, 9, 'ACK');
  return readU64(frame, 1);
}

/** The answer to an OPEN (OPENED, or REFUSED with its reason) is at most this large. */
export const ANSWER_LIMIT = 1024;

/** A BYE or REFUSED; the reason is cut to fit ANSWER_LIMIT. */
export function textFrame(type: typeof BYE | typeof REFUSED, reason: string): Buffer {
  return Buffer.concat([Buffer.of(type), Buffer.from(reason).subarray(0, ANSWER_LIMIT - 1)]);
}

export function readText(frame: Uint8Array): string {
  return Buffer.from(frame.buffer, frame.byteOffset + 1, frame.byteLength - 1).toString('utf8');
}

export function openFrame(open: OpenFrame): Buffer {
  const resume = open.resume;
  const frame = Buffer.alloc(resume ? OPEN_LIMIT : 7);
  frame[0] = OPEN;
  frame[1] = SESSION_VERSION;
  frame.writeUInt32BE(open.keepAliveMs, 2);
  if (resume) {
    frame[6] = 1;
    resume.id.copy(frame, 7);
    resume.secret.copy(frame, 7 + ID_SIZE);
    writeU64(frame, resume.received, 7 + ID_SIZE + SECRET_SIZE);
  }
  return frame;
}

export function readOpen(frame: Uint8Array): OpenFrame {
  if (frame.byteLength < 7 || frame[0] !== OPEN) {
    throw new SessionProtocolError('The first frame is not a session OPEN: is the client using a persistent connection?');
  }
  checkVersion(frame[1]);
  const keepAliveMs = Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength).readUInt32BE(2);
  if (frame[6] === 0) {
    expectSize(frame, 7, 'OPEN');
    return { keepAliveMs };
  }
  expectSize(frame, OPEN_LIMIT, 'OPEN');
  const bytes = Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength);
  return {
    keepAliveMs,
    resume: {
      id: Buffer.from(bytes.subarray(7, 7 + ID_SIZE)),
      secret: Buffer.from(bytes.subarray(7 + ID_SIZE, 7 + ID_SIZE + SECRET_SIZE)),
      received: readU64(frame, 7 + ID_SIZE + SECRET_SIZE),
    },
  };
}

const OPENED_SIZE = 1 + 1 + 4 + ID_SIZE + SECRET_SIZE + 8;

export function openedFrame(opened: OpenedFrame): Buffer {
  const frame = Buffer.alloc(OPENED_SIZE);
  frame[0] = OPENED;
  frame[1] = SESSION_VERSION;
  frame.writeUInt32BE(opened.keepAliveMs, 2);
  opened.id.copy(frame, 6);
  opened.secret.copy(frame, 6 + ID_SIZE);
  writeU64(frame, opened.received, 6 + ID_SIZE + SECRET_SIZE);
  return frame;
}

export function readOpened(frame: Uint8Array): OpenedFrame {
  expectSize(frame, OPENED_SIZE, 'OPENED');
  checkVersion(frame[1]);
  const bytes = Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength);
  return {
    keepAliveMs: bytes.readUInt32BE(2),
    id: Buffer.from(bytes.subarray(6, 6 + ID_SIZE)),
    secret: Buffer.from(bytes.subarray(6 + ID_SIZE, 6 + ID_SIZE + SECRET_SIZE)),
    received: readU64(frame, 6 + ID_SIZE + SECRET_SIZE),
  };
}

function checkVersion(version: number): void {
  if (version !== SESSION_VERSION) {
    throw new SessionProtocolError(`The peer speaks session version ${version}, this side ${SESSION_VERSION}`);
  }
}
