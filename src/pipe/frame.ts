/** Every frame starts with the message's length as a 4-byte unsigned big-endian integer. */
export const FRAME_HEADER_SIZE = 4;

/**
 * The largest message a 4-byte length can announce. The five values above it are not lengths: four mark the
 * fragment and lane frames below, and 0xFFFFFFFF stays an (always oversized) length, as it was before them.
 */
export const MAX_FRAME_PAYLOAD = 0xfffffffa;

/** maxMessageSize when none is given: 1 GiB. */
export const DEFAULT_MAX_MESSAGE_SIZE = 1024 * 1024 * 1024;

/**
 * In place of a length: the first fragment of a large message. Header (16 bytes): this marker, the message's id
 * (uint32), its total size (uint32), the size of this fragment's bytes (uint32); then those bytes.
 */
export const FRAGMENT_START = 0xfffffffe;

/** In place of a length: a later fragment. Header (12 bytes): this marker, the message's id, the bytes' size. */
export const FRAGMENT_NEXT = 0xfffffffd;

export const FRAGMENT_START_HEADER_SIZE = 16;
export const FRAGMENT_NEXT_HEADER_SIZE = 12;

/**
 * In place of a length: a piece of a message whose bytes are in the bulk lane (BulkLane.ts), not in the stream.
 * Header (16 bytes): this marker, where the piece lies in the sender's region of the lane (uint32), the message's
 * total size (uint32), the piece's size (uint32). A message's pieces come one after another, at consecutive
 * places (other frames may come between them, but no other lane message); it is delivered with its last piece.
 * Sent only over a pipe with a lane, and to a peer that said it reads it.
 */
export const LANE_MESSAGE = 0xfffffffc;
export const LANE_MESSAGE_HEADER_SIZE = 16;

/**
 * In place of a length: the receiver has read a lane message, and its sender may use that space again. Header (12
 * bytes): this marker, where the message starts in the sender's region, its total size. Offset and size 0: the
 * sender of this reads the lane (it says so once, first).
 */
export const LANE_RELEASE = 0xfffffffb;
export const LANE_RELEASE_HEADER_SIZE = 12;

/**
 * Messages larger than this leave in fragments of this size, when no fragmentSize is given. Measured on the rpc
 * bench (README, "Fragments"): 256 KiB keeps a small call behind a 64 MiB transfer under a millisecond or so
 * while the transfer runs as fast as unfragmented.
 */
export const DEFAULT_FRAGMENT_SIZE = 256 * 1024;

/** fragmentSize may not be set below this: headers and wake-ups would cost more than the fragments carry. */
export const MIN_FRAGMENT_SIZE = 4 * 1024;
/**
 * The most large messages still on their way (under way in fragments, or queued behind them) that a message may
 * pass: with this many outstanding, a message waits behind them all, as one sent in order does. A receiver that
 * tracks the messages that came out of turn (a session) so finds at most this many missing below them.
 */
export const MAX_PASSED_MESSAGES = 4096;

/** A receiver refuses a peer that has more large messages than this under way at once. */
export const MAX_MESSAGES_IN_PROGRESS = 64;
