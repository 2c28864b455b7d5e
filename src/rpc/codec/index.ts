export { ValueCodec, DEFAULT_MAX_DEPTH, type ValueCodecOptions } from './ValueCodec';
export type { ValueExtension } from './extensions';
export type { EncodeContext, DecodeContext } from './context';
export { EncodeError, DecodeError } from './errors';
