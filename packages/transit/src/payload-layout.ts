/**
 * Constants shared by the payload encoder and decoders. The byte-level meaning of each is specified in
 * docs/transit.md; changing any of them is a format change and needs a new TRANSIT_VERSION.
 */

/**
 * The format version this package writes: version 2 moved a log message's length from the data section to the
 * event's ops, so a block's messages lie back to back. Version 1 blocks (already stored, or from older
 * clients) are still read.
 */
export const TRANSIT_VERSION = 2;
export const SUPPORTED_VERSIONS: readonly number[] = [1, 2];

/** Event tags, the first byte of each event in the ops section. */
export const Tag = {
  log: 1,
  intMetric: 2,
  floatMetric: 3,
  beginThreadSpan: 4,
  endThreadSpan: 5,
  beginAsyncSpan: 6,
  endAsyncSpan: 7,
} as const;

/** Number of event tags; the payload header carries one count per tag, in tag order. */
export const TAG_COUNT = 7;

/** Set on a log or metric tag when a property list follows the event's references. */
export const HAS_PROPERTIES = 0x80;

/**
 * Set on a tag when the event's tick delta is negative. The ticks section then holds |delta| as a plain
 * varint: keeping the sign out of it (unlike zigzag) keeps 1–16 µs deltas of a nanosecond clock in two
 * bytes instead of three, which is most of a span event's compressed size.
 */
export const NEGATIVE_DELTA = 0x40;

/** The bits of an op byte that carry the event tag. */
export const TAG_MASK = 0x3f;

/** Upper bound for lines, levels and table sizes, so they fit Uint32Array columns. */
export const MAX_U32 = 0xffffffff;

export const MAX_LEVEL = 0xff;
