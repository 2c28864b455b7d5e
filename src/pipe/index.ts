export { BinaryMessagePipe, type BinaryMessagePipeOptions, type PipeCloseEvent, type SendOptions } from './BinaryMessagePipe';
export { FrameDecoder } from './FrameDecoder';
export { PipeClosedError, MessageTooLargeError, ListenerError, TruncatedFrameError, MalformedFrameError, BulkLaneError } from './errors';
export { FRAME_HEADER_SIZE, DEFAULT_MAX_MESSAGE_SIZE, MAX_FRAME_PAYLOAD, DEFAULT_FRAGMENT_SIZE } from './frame';
