/** Every frame starts with the message's length as a 4-byte unsigned big-endian integer. */
export const FRAME_HEADER_SIZE = 4;

/** The largest message a 4-byte length can announce. */
export const MAX_FRAME_PAYLOAD = 0xffffffff;

/** maxMessageSize when none is given: 1 GiB. */
export const DEFAULT_MAX_MESSAGE_SIZE = 1024 * 1024 * 1024;
