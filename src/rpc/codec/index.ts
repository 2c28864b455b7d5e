export { ValueCodec, DEFAULT_MAX_DEPTH, type ValueCodecOptions } from './ValueCodec';
export type { ValueExtension } from './extensions';
export { EncodeError, DecodeError } from './errors';
