/**
 * A growable little-endian byte buffer with the varint encodings of the transit format.
 * The block encoder keeps one per payload section so that bytes of a like kind sit together,
 * which is what lets LZ4 find repetitions (see docs/transit.md, "Payload").
 */
const TWO_POW_32 = 4294967296;

export class ByteWriter {
  buf: Uint8Array;
  pos = 0;
  private view: DataView;

  constructor(initialCapacity = 256) {
    this.buf = new Uint8Array(Math.max(16, initialCapacity));
    this.view = new DataView(this.buf.buffer);
  }

  /** Makes room for `n` more bytes. */
  ensure(n: number): void {
    const need = this.pos + n;
    if (need <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < need) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  reset(): void {
    this.pos = 0;
  }

  u8(v: number): void {
    this.ensure(1);
    this.buf[this.pos++] = v;
  }

  /** Unsigned LEB128 of a non-negative safe integer (at most 8 bytes). */
  varuint(v: number): void {
    this.ensure(8);
    const buf = this.buf;
    let pos = this.pos;
    if (v < 0x80000000) {
      while (v >= 0x80) {
        buf[pos++] = (v & 0x7f) | 0x80;
        v >>>= 7;
      }
    } else {
      while (v >= 0x80) {
        buf[pos++] = (v & 0x7f) | 0x80;
        v = Math.floor(v / 128);
      }
    }
    buf[pos++] = v;
    this.pos = pos;
  }

  /**
   * Zigzag LEB128 of a safe integer. Computed as sign + magnitude so that |v| up to 2^53-1 stays exact
   * (2·|v|-1 would not fit a double's mantissa).
   */
  zigzag(v: number): void {
    if (v >= 0 && v < 0x40000000) {
      this.varuint(v * 2);
      return;
    }
    const sign = v < 0 ? 1 : 0;
    const m = sign ? -v - 1 : v; // zigzag(v) = 2m + sign
    const first = ((m % 64) << 1) | sign;
    const rest = Math.floor(m / 64);
    if (rest === 0) {
      this.u8(first);
    } else {
      this.u8(first | 0x80);
      this.varuint(rest);
    }
  }

  /** Zigzag LEB128 of a signed 64-bit integer (at most 10 bytes). */
  zigzag64(v: bigint): void {
    let z = v >= 0n ? v << 1n : ((-v - 1n) << 1n) | 1n;
    if (z < 0x20000000000000n) {
      this.varuint(Number(z));
      return;
    }
    this.ensure(10);
    while (z >= 0x80n) {
      this.buf[this.pos++] = Number(z & 0x7fn) | 0x80;
      z >>= 7n;
    }
    this.buf[this.pos++] = Number(z);
  }

  f64(v: number): void {
    this.ensure(8);
    this.view.setFloat64(this.pos, v, true);
    this.pos += 8;
  }

  u32(v: number): void {
    this.ensure(4);
    this.view.setUint32(this.pos, v, true);
    this.pos += 4;
  }

  i64(v: bigint): void {
    this.ensure(8);
    this.view.setBigInt64(this.pos, v, true);
    this.pos += 8;
  }

  bytes(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  /** A string's UTF-8 bytes, no length: returns how many were written (the caller records the length elsewhere). */
  utf8Bytes(s: string): number {
    const n = s.length;
    if (n < 64) {
      this.ensure(n);
      const buf = this.buf;
      const start = this.pos;
      let i = 0;
      for (; i < n; i++) {
        const c = s.charCodeAt(i);
        if (c >= 128) break;
        buf[start + i] = c;
      }
      if (i === n) {
        this.pos = start + n;
        return n;
      }
    }
    this.ensure(n * 3);
    const { written } = encoder.encodeInto(s, this.buf.subarray(this.pos, this.pos + n * 3));
    this.pos += written;
    return written;
  }

  /**
   * A length-prefixed UTF-8 string (transit version 1's messages): the bytes by `utf8Bytes`, after room for the
   * prefix an ASCII string needs; a longer encoding moves its bytes over for the longer prefix.
   */
  utf8(s: string): void {
    const start = this.pos;
    const reserve = varuintSize(s.length); // UTF-8 is never shorter than the UTF-16 length
    this.ensure(reserve);
    this.pos = start + reserve;
    const written = this.utf8Bytes(s);
    const actual = varuintSize(written);
    if (actual > reserve) {
      this.ensure(actual - reserve);
      this.buf.copyWithin(start + actual, start + reserve, start + reserve + written);
    }
    this.pos = start;
    this.varuint(written);
    this.pos = start + actual + written;
  }
}

const encoder = new TextEncoder();

export function varuintSize(v: number): number {
  let n = 1;
  while (v >= 0x80) {
    v = v < TWO_POW_32 ? v >>> 7 : Math.floor(v / 128);
    n++;
  }
  return n;
}

export function encodeUtf8(s: string): Uint8Array {
  return encoder.encode(s);
}
