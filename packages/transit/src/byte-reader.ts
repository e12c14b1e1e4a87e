import { TransitError } from './model.js';

/**
 * A bounds-checked cursor over untrusted bytes. Every read checks against `end` and throws
 * TransitError('truncated') instead of reading past it, and every varint is bounded in length and value,
 * so no input can make a decoder read out of range, loop without progress or return an inexact number.
 */
export class ByteReader {
  pos: number;
  private view: DataView | undefined;

  constructor(
    readonly bytes: Uint8Array,
    start = 0,
    public end = bytes.length,
  ) {
    this.pos = start;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  u8(): number {
    if (this.pos >= this.end) throw truncated();
    return this.bytes[this.pos++]!;
  }

  /** An unsigned LEB128 value of at most 32 bits. */
  varuint32(): number {
    const v = this.short();
    return v >= 0 ? v : this.long(5, 0xffffffff, 'varint exceeds 32 bits', 'varint longer than 5 bytes');
  }

  /** An unsigned LEB128 value that must be a safe integer (at most 2^53-1). */
  varuint53(): number {
    const v = this.short();
    return v >= 0 ? v : this.long(8, Number.MAX_SAFE_INTEGER, 'varint exceeds 2^53-1', 'varint longer than 8 bytes');
  }

  /** A varint of one to four bytes (see `shortVarint`), or -1 with nothing consumed. */
  private short(): number {
    const v = shortVarint(this.bytes, this.pos, this.end);
    if (v >= 0) this.pos = shortVarintEnd;
    return v;
  }

  /** The general varint: at most `maxBytes` bytes and `max` in value. */
  private long(maxBytes: number, max: number, tooBig: string, tooLong: string): number {
    const b = this.bytes;
    let pos = this.pos;
    const end = this.end;
    let result = 0;
    let mul = 1;
    for (let i = 0; i < maxBytes; i++, mul *= 128) {
      if (pos >= end) throw truncated();
      const byte = b[pos++]!;
      result += (byte & 0x7f) * mul;
      if (byte < 0x80) {
        if (result > max) throw corrupt(tooBig);
        this.pos = pos;
        return result;
      }
    }
    throw corrupt(tooLong);
  }

  /** A zigzag LEB128 value whose magnitude fits a safe integer; decoded as sign + magnitude to stay exact. */
  zigzag53(): number {
    const first = this.u8();
    const sign = first & 1;
    let m = (first & 0x7f) >>> 1;
    if (first >= 0x80) {
      const rest = this.varuint53();
      if (rest > 0x1fffffffffffff / 64) throw corrupt('zigzag varint exceeds 2^53');
      m += rest * 64;
    }
    if (m > Number.MAX_SAFE_INTEGER) throw corrupt('zigzag varint exceeds 2^53');
    return sign ? -m - 1 : m;
  }

  /**
   * A zigzag LEB128 value of up to 7 bytes (|v| < 2^48) as a number, or NaN — nothing consumed — when it is
   * longer, so the caller falls back to `zigzag64`. Lets columnar decoders skip a BigInt per value.
   */
  zigzag49(): number {
    const b = this.bytes;
    let pos = this.pos;
    let small = 0;
    let mul = 1;
    for (let i = 0; i < 7; i++, mul *= 128) {
      if (pos >= this.end) throw truncated();
      const byte = b[pos++]!;
      small += (byte & 0x7f) * mul;
      if (byte < 0x80) {
        this.pos = pos;
        const m = Math.floor(small / 2);
        return small % 2 === 1 ? -m - 1 : m;
      }
    }
    return NaN;
  }

  /** A zigzag LEB128 signed 64-bit integer (at most 10 bytes). */
  zigzag64(): bigint {
    const b = this.bytes;
    const start = this.pos;
    let pos = start;
    // Fast path: up to 7 bytes (49 bits) stays in a double.
    let small = 0;
    for (let i = 0; i < 7; i++) {
      if (pos >= this.end) throw truncated();
      const byte = b[pos++]!;
      small += (byte & 0x7f) * 2 ** (7 * i);
      if (byte < 0x80) {
        this.pos = pos;
        const m = Math.floor(small / 2);
        return BigInt(small % 2 === 1 ? -m - 1 : m);
      }
    }
    let z = 0n;
    pos = start;
    for (let i = 0; i < 10; i++) {
      if (pos >= this.end) throw truncated();
      const byte = b[pos++]!;
      if (i === 9 && byte > 1) throw corrupt('varint exceeds 64 bits');
      z |= BigInt(byte & 0x7f) << BigInt(7 * i);
      if (byte < 0x80) {
        this.pos = pos;
        return z & 1n ? -(z >> 1n) - 1n : z >> 1n;
      }
    }
    throw corrupt('varint longer than 10 bytes');
  }

  f64(): number {
    if (this.end - this.pos < 8) throw truncated();
    this.view ??= new DataView(this.bytes.buffer, this.bytes.byteOffset, this.bytes.byteLength);
    const v = this.view.getFloat64(this.pos, true);
    this.pos += 8;
    return v;
  }

  /** Moves past `n` bytes, returning where they start. */
  advance(n: number): number {
    if (n > this.end - this.pos) throw truncated();
    const at = this.pos;
    this.pos += n;
    return at;
  }
}

/** Where the last successful `shortVarint` stopped. */
export let shortVarintEnd = 0;

/**
 * A varint of one to four bytes at `pos` (below 2^28, so no limit applies) read with bit operations, or -1 —
 * nothing read — when it is longer or too close to `end`; on success `shortVarintEnd` is where it stopped.
 * Tick deltas of a nanosecond clock are mostly three bytes, and the general loop's multiplications and checks
 * were a fifth of the log decode. A function over a cursor, so hot loops can keep their cursors in locals.
 */
export function shortVarint(b: Uint8Array, pos: number, end: number): number {
  if (pos + 4 > end) {
    if (pos >= end || b[pos]! >= 0x80) return -1;
    shortVarintEnd = pos + 1;
    return b[pos]!;
  }
  const b0 = b[pos]!;
  if (b0 < 0x80) {
    shortVarintEnd = pos + 1;
    return b0;
  }
  const b1 = b[pos + 1]!;
  if (b1 < 0x80) {
    shortVarintEnd = pos + 2;
    return (b0 & 0x7f) | (b1 << 7);
  }
  const b2 = b[pos + 2]!;
  if (b2 < 0x80) {
    shortVarintEnd = pos + 3;
    return (b0 & 0x7f) | ((b1 & 0x7f) << 7) | (b2 << 14);
  }
  const b3 = b[pos + 3]!;
  if (b3 < 0x80) {
    shortVarintEnd = pos + 4;
    return (b0 & 0x7f) | ((b1 & 0x7f) << 7) | ((b2 & 0x7f) << 14) | (b3 << 21);
  }
  return -1;
}

export function truncated(): TransitError {
  return new TransitError('truncated', 'input ends before the data it declares');
}

export function corrupt(message: string): TransitError {
  return new TransitError('corrupt', message);
}
