export { ValueCodec, DEFAULT_MAX_DEPTH, MAX_DEPTH_LIMIT, type ValueCodecOptions } from './ValueCodec';
export type { ValueExtension } from './extensions';
export type { EncodeContext, DecodeContext, StreamScope } from './context';
export { isStreamSource } from './streamSource';
export { EncodeError, DecodeError } from './errors';
