/**
 * Append-only byte and bit buffers for building Arrow columns chunk by chunk without per-row objects.
 */

export class ByteBuffer {
  bytes: Uint8Array;
  length = 0;
  /** sized from an expectation: handed over uncopied when nearly full */
  private readonly sized: boolean;

  /** `capacity`: what the caller expects to append (a streamed result's previous batch), to grow once at most */
  constructor(capacity?: number) {
    this.sized = capacity !== undefined;
    this.bytes = new Uint8Array(Math.max(16, capacity ?? 1024));
  }

  reserve(extra: number): void {
    if (this.length + extra <= this.bytes.length) return;
    let cap = this.bytes.length * 2;
    while (cap < this.length + extra) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.bytes.subarray(0, this.length));
    this.bytes = next;
  }

  append(src: Uint8Array): void {
    this.reserve(src.length);
    this.bytes.set(src, this.length);
    this.length += src.length;
  }

  /**
   * The bytes, aligned for a typed-array view: a right-sized copy, or the buffer itself when it was sized from
   * an expectation and is at least 85 % full (the copy would cost more than the slack).
   */
  finish(): Uint8Array {
    if (this.sized && this.length >= this.bytes.length * 0.85) return this.bytes.subarray(0, this.length);
    return this.bytes.slice(0, this.length);
  }
}

const POPCOUNT = Uint8Array.from({ length: 256 }, (_, b) => {
  let n = 0;
  for (let x = b; x; x >>= 1) n += x & 1;
  return n;
});

/** An LSB-first validity bitmap (Arrow's and DuckDB's layout), grown bit by bit or chunk by chunk. */
export class BitBuffer {
  private buf = new ByteBuffer();
  length = 0;
  nullCount = 0;

  /** appends `count` bits from an LSB-first bitmap (null bitmap: all valid) */
  appendBitmap(src: Uint8Array | null, count: number): void {
    const needed = Math.ceil((this.length + count) / 8) - this.buf.length;
    if (needed > 0) {
      this.buf.reserve(needed);
      this.buf.bytes.fill(0, this.buf.length, this.buf.length + needed);
      this.buf.length += needed;
    }
    const out = this.buf.bytes;
    if (src === null && (this.length & 7) === 0) {
      // all valid, byte-aligned (the usual case): whole bytes at once
      const start = this.length >> 3;
      const whole = count >> 3;
      out.fill(0xff, start, start + whole);
      for (let i = whole * 8; i < count; i++) out[(this.length + i) >> 3]! |= 1 << ((this.length + i) & 7);
    } else if (src === null) {
      for (let i = 0; i < count; i++) {
        const bit = this.length + i;
        out[bit >> 3]! |= 1 << (bit & 7);
      }
    } else if ((this.length & 7) === 0) {
      const start = this.length >> 3;
      const whole = count >> 3;
      out.set(src.subarray(0, whole), start);
      for (let i = whole * 8; i < count; i++) {
        if (src[i >> 3]! & (1 << (i & 7))) out[(this.length + i) >> 3]! |= 1 << ((this.length + i) & 7);
      }
      for (let j = 0; j < whole; j++) this.nullCount += 8 - POPCOUNT[src[j]!]!;
      for (let i = whole * 8; i < count; i++) if (!(src[i >> 3]! & (1 << (i & 7)))) this.nullCount++;
    } else {
      for (let i = 0; i < count; i++) {
        if (src[i >> 3]! & (1 << (i & 7))) {
          const bit = this.length + i;
          out[bit >> 3]! |= 1 << (bit & 7);
        } else this.nullCount++;
      }
    }
    this.length += count;
  }

  appendBit(valid: boolean): void {
    if ((this.length & 7) === 0) {
      this.buf.reserve(1);
      this.buf.bytes[this.buf.length++] = 0;
    }
    if (valid) this.buf.bytes[this.length >> 3]! |= 1 << (this.length & 7);
    else this.nullCount++;
    this.length++;
  }

  finish(): Uint8Array {
    return this.buf.finish();
  }
}
