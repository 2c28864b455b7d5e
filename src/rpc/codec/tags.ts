// The first byte of every encoded value. Ranges come first: the values an RPC message is mostly made of (small
// integers, short arrays, small objects) cost this one byte and nothing else. PROTOCOL.md's "Codec values" is
// the reference for everything after the tag.

/** 0x00-0x7f: the integer 0..127 itself. */
export const FIXINT_MAX = 0x7f;
/** 0x80-0x8f: an array of 0..15 items; the items follow. */
export const FIXARRAY = 0x80;
/** 0x90-0x9f: a plain object of 0..15 entries; each entry is a string key then a value. */
export const FIXOBJECT = 0x90;
/** 0xa0-0xbf: the integers -1 (0xa0) down to -32 (0xbf). */
export const FIXNEG = 0xa0;
/** Inline counts go up to 15. */
export const FIXCOUNT_MAX = 0x0f;
export const FIXNEG_MIN = -32;

export const UNDEFINED = 0xc0;
export const NULL = 0xc1;
export const FALSE = 0xc2;
export const TRUE = 0xc3;
/** varint magnitude: a safe integer from 128 up. */
export const UINT = 0xc4;
/** varint magnitude: a safe integer from -33 down. */
export const NEGINT = 0xc5;
/** float64, big-endian: every other number (fractions, -0, NaN, ±Infinity, integers past 2^53). */
export const FLOAT64 = 0xc6;
/** varint byte count, UTF-8. */
export const STRING = 0xc7;
/** varint count, then the items. */
export const ARRAY = 0xc8;
/** varint count, then key/value entries. */
export const OBJECT = 0xc9;
/** varint byte count, magnitude big-endian. */
export const BIGINT = 0xca;
export const NEGBIGINT = 0xcb;
/** varint byte count, the bytes. */
export const UINT8ARRAY = 0xcc;
export const BUFFER = 0xcd;
export const ARRAYBUFFER = 0xce;
/** uint8 element kind (TYPED_ARRAY_KINDS), then varint byte count and the elements, little-endian. */
export const TYPEDARRAY = 0xcf;
/** varint byte count, the bytes. */
export const DATAVIEW = 0xd0;
/** varint count, then key value, value value, ... */
export const MAP = 0xd1;
/** varint count, then the values. */
export const SET = 0xd2;
/** float64 milliseconds since the epoch; NaN for an invalid date. */
export const DATE = 0xd3;
/** string source, string flags. */
export const REGEXP = 0xd4;
/** Name, message, stack, then own properties with their enumerability: see PROTOCOL.md's "Codec values". */
export const ERROR = 0xd5;
/** uint8 extension tag (0..63), then whatever that extension wrote. */
export const EXTENSION = 0xd6;
/**
 * Array items only: a plain object with the same keys, in the same order, as the item just before it, which is a
 * plain object too. Only the values follow. Arrays of records then carry (and decode) their keys once.
 */
export const SAME_KEYS = 0xd7;
/** A boxed primitive (`new Number(1)`, `Object('s')`...): the primitive follows, tagged as usual. */
export const BOXED = 0xd8;
/**
 * varint stream id: a stream (an AsyncIterable, Readable or ReadableStream) whose items follow in stream messages
 * of the RPC connection that carried it. Only written and read inside an RPC message (a StreamScope is given).
 */
export const STREAM = 0xd9;
// 0xda-0xff are unused: a decoder meeting one reports an unknown tag.

/** Extension tags are their own namespace, carried in the byte after EXTENSION. */
export const MAX_EXTENSION_TAG = 63;

/** Error property attributes byte. */
export const PROP_ENUMERABLE = 1;
