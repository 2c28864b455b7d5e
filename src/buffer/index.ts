export type { WriteBuffer, CommittableWriteBuffer } from './WriteBuffer';
export type { ReadBuffer } from './ReadBuffer';
export { Uint8ArrayWriteBuffer } from './Uint8ArrayWriteBuffer';
export { Uint8ArrayReadBuffer } from './Uint8ArrayReadBuffer';
export { BufferReadError, BufferCommittedError, BufferWriteError } from './errors';
