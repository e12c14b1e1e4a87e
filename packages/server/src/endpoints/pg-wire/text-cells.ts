/**
 * Text-format cells written straight into a DataRow buffer for the column types results are mostly made of
 * (integers, doubles, strings, booleans, timestamps): digits and bytes go into the buffer without a
 * JavaScript string, a Buffer or a `Vector.get` per cell, and the chunk holding a row is found by walking
 * forward, as rows are sent in order. Each cell is its 4-byte length then its bytes (-1 for NULL), exactly
 * what `columnEncoder`'s `cell()` would have produced; other types have no direct writer and go through
 * `cell()`.
 *
 * @example
 *   const w = directTextWriter(table.getChildAt(0)!, PG_TYPES.int8);
 *   if (w) at = w.write(buf, at, row);   // after checking `w.bound(row)` bytes are free
 */
import { Type, type Data, type DataType, type Vector } from 'apache-arrow';
import { formatFloat, formatTimestampUs } from './value-format.js';
import { OID, type PgType } from './pg-types.js';

export interface DirectTextWriter {
  /** at most this many bytes for the cell at `row`, its length prefix included */
  bound(row: number): number;
  /** the largest `bound` of rows [from, to) */
  maxBound(from: number, to: number): number;
  /** writes the cell at `row` (length prefix then text) at `at`; returns the offset after it */
  write(buf: Uint8Array, at: number, row: number): number;
}

const NUMBER_BOUND = 4 + 24; // "-1.2345678901234567e-308" is the longest double
const TIMESTAMP_BOUND = 4 + 32;
const US_PER_DAY = 86_400_000_000;
const POW10 = [1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000, 1000000000];

/** The chunk holding each row, found by walking forward from the last one (rows are asked for in order). */
class ChunkWalk {
  private k = 0;
  private start = 0;
  private end: number;
  data: Data;
  /** the row's slot in `data`'s buffers, offset included */
  slot = 0;
  /** 64-bit values as (low, high) 32-bit word pairs: Arrow may hold them as BigInt64Array, which costs a BigInt per read */
  words: Int32Array;
  /** the chunk's validity bitmap, null when it has no nulls (read once per chunk: `Data.nullCount` is a getter) */
  private nulls: Uint8Array | null;

  constructor(private readonly chunks: readonly Data[]) {
    this.data = chunks[0]!;
    this.end = this.data.length;
    this.words = wordsOf(this.data);
    this.nulls = nullsOf(this.data);
  }

  seek(row: number): void {
    if (row >= this.end || row < this.start) {
      if (row < this.start) {
        this.k = 0;
        this.start = 0;
      }
      while (row >= this.start + this.chunks[this.k]!.length) this.start += this.chunks[this.k++]!.length;
      this.data = this.chunks[this.k]!;
      this.end = this.start + this.data.length;
      this.words = wordsOf(this.data);
      this.nulls = nullsOf(this.data);
    }
    this.slot = row - this.start + this.data.offset;
  }

  /** after `seek`: the high (signed) and low (unsigned) 32-bit words of a 64-bit value */
  get hi(): number {
    return this.words[this.slot * 2 + 1]!;
  }

  get lo(): number {
    return this.words[this.slot * 2]! >>> 0;
  }

  /** seeks `row` and tells whether it is NULL */
  nullAt(row: number): boolean {
    this.seek(row);
    const n = this.nulls;
    return n !== null && (n[this.slot >> 3]! & (1 << (this.slot & 7))) === 0;
  }
}

function nullsOf(d: Data): Uint8Array | null {
  return d.nullCount > 0 && d.nullBitmap !== undefined && d.nullBitmap.length > 0 ? d.nullBitmap : null;
}

function wordsOf(d: Data): Int32Array {
  const v = d.values as unknown as ArrayBufferView | undefined;
  return v === undefined ? new Int32Array(0) : new Int32Array(v.buffer, v.byteOffset, v.byteLength >> 2);
}

/** a big-endian int32 at `at` (a cell's or a message's length) */
export function writeLength(buf: Uint8Array, at: number, n: number): void {
  buf[at] = n >>> 24;
  buf[at + 1] = (n >>> 16) & 0xff;
  buf[at + 2] = (n >>> 8) & 0xff;
  buf[at + 3] = n & 0xff;
}

function writeNull(buf: Uint8Array, at: number): number {
  buf[at] = buf[at + 1] = buf[at + 2] = buf[at + 3] = 0xff;
  return at + 4;
}

/** how many decimal digits a number below 2^31 has */
function digitCount(v: number): number {
  let len = 1;
  while (len < 10 && v >= POW10[len]!) len++;
  return len;
}

/** `len` digits of `v` (< 2^31) ending at `p + len`, with leading zeros if it has fewer: int32 arithmetic, no fmod */
function writeSmall(buf: Uint8Array, p: number, v: number, len: number): void {
  for (let i = p + len - 1; i >= p; i--) {
    const q = (v / 10) | 0;
    buf[i] = 48 + v - q * 10;
    v = q;
  }
}

/** the decimal digits of a safe integer at `p`; returns the offset after them */
function writeDigits(buf: Uint8Array, p: number, v: number): number {
  if (v < 0) {
    buf[p++] = 45; // '-'
    v = -v;
  }
  if (v < 2147483648) {
    const len = digitCount(v);
    writeSmall(buf, p, v, len);
    return p + len;
  }
  // below 2^53: at most 8 digits above the last 8, each part within int32
  const hi = Math.floor(v / 1e8);
  const len = digitCount(hi);
  writeSmall(buf, p, hi, len);
  writeSmall(buf, p + len, v - hi * 1e8, 8);
  return p + len + 8;
}

/** an ASCII string at `p` (the callers only write numbers' text) */
function writeAscii(buf: Uint8Array, p: number, s: string): number {
  for (let i = 0; i < s.length; i++) buf[p + i] = s.charCodeAt(i);
  return p + s.length;
}

function writeTwo(buf: Uint8Array, p: number, v: number): void {
  const tens = (v / 10) | 0;
  buf[p] = 48 + tens;
  buf[p + 1] = 48 + v - tens * 10;
}

/** a cell of an ASCII string: its length then its bytes */
function asciiCell(buf: Uint8Array, at: number, s: string): number {
  writeLength(buf, at, s.length);
  return writeAscii(buf, at + 4, s);
}

/** a cell of a safe integer's digits (no closure per cell: the hot path allocates nothing) */
function digitsCell(buf: Uint8Array, at: number, v: number): number {
  const end = writeDigits(buf, at + 4, v);
  writeLength(buf, at, end - at - 4);
  return end;
}


/**
 * A double's shortest round-trip text (what `String(v)` gives) for the common values with at most six
 * decimals and |v| < 2^31, or -1 for the others. There the decimals' spacing (≥ 1e-6) exceeds the double's
 * ulp (≤ 2^-22), so at most one d-decimal number rounds to v, `Math.round(v · 10^d)` finds it, and the
 * division by 10^d (both exact, the quotient correctly rounded) is exactly what parsing the text gives: the
 * smallest such d is the shortest text.
 */
function fixedCell(buf: Uint8Array, at: number, v: number): number {
  const a = v < 0 ? -v : v;
  if (!(a < 2147483648)) return -1;
  for (let d = 1; d <= 6; d++) {
    const scale = POW10[d]!;
    const n = Math.round(a * scale);
    if (n / scale !== a) continue;
    let p = at + 4;
    if (v < 0) buf[p++] = 45; // '-'
    const int = Math.floor(n / scale);
    p = writeDigits(buf, p, int);
    buf[p] = 46; // '.'
    let frac = n - int * scale;
    for (let k = d; k >= 1; k--) {
      const dgt = frac % 10;
      buf[p + k] = 48 + dgt;
      frac = (frac - dgt) / 10;
    }
    p += d + 1;
    writeLength(buf, at, p - at - 4);
    return p;
  }
  return -1;
}

function int64Writer(walk: ChunkWalk, signed: boolean, fallback: (row: number) => string): DirectTextWriter {
  return {
    bound: () => NUMBER_BOUND,
    maxBound: () => NUMBER_BOUND,
    write(buf, at, row) {
      if (walk.nullAt(row)) return writeNull(buf, at);
      const hi = walk.hi;
      const lo = walk.lo;
      if (hi >= -0x200000 && hi < 0x200000 && (signed || hi >= 0)) return digitsCell(buf, at, hi * 4294967296 + lo);
      return asciiCell(buf, at, fallback(row));
    },
  };
}

function smallIntWriter(walk: ChunkWalk): DirectTextWriter {
  return {
    bound: () => NUMBER_BOUND,
    maxBound: () => NUMBER_BOUND,
    write(buf, at, row) {
      if (walk.nullAt(row)) return writeNull(buf, at);
      const v = Number((walk.data.values as unknown as ArrayLike<number>)[walk.slot]);
      return digitsCell(buf, at, v);
    },
  };
}

function floatWriter(walk: ChunkWalk, single: boolean): DirectTextWriter {
  return {
    bound: () => NUMBER_BOUND,
    maxBound: () => NUMBER_BOUND,
    write(buf, at, row) {
      if (walk.nullAt(row)) return writeNull(buf, at);
      const v = (walk.data.values as unknown as ArrayLike<number>)[walk.slot]!;
      // integral doubles print as their digits (String(2) is "2"), without building the string
      if (Number.isSafeInteger(v) && !(v === 0 && 1 / v < 0)) return digitsCell(buf, at, v);
      if (!single) {
        const end = fixedCell(buf, at, v);
        if (end >= 0) return end;
      }
      return asciiCell(buf, at, formatFloat(v, single));
    },
  };
}

function utf8Writer(walk: ChunkWalk): DirectTextWriter {
  const length = (row: number) => {
    walk.seek(row);
    const o = walk.data.valueOffsets as Int32Array;
    return o[walk.slot + 1]! - o[walk.slot]!;
  };
  return {
    bound: (row) => 4 + length(row),
    maxBound(from, to) {
      let max = 0;
      for (let r = from; r < to; r++) {
        const n = length(r);
        if (n > max) max = n;
      }
      return 4 + max;
    },
    write(buf, at, row) {
      if (walk.nullAt(row)) return writeNull(buf, at);
      const o = walk.data.valueOffsets as Int32Array;
      const from = o[walk.slot]!;
      const n = o[walk.slot + 1]! - from;
      const src = walk.data.values as Uint8Array;
      writeLength(buf, at, n);
      // short strings: a loop beats TypedArray.set's per-call cost
      if (n < 48) for (let i = 0; i < n; i++) buf[at + 4 + i] = src[from + i]!;
      else buf.set(src.subarray(from, from + n), at + 4);
      return at + 4 + n;
    },
  };
}

function boolWriter(walk: ChunkWalk): DirectTextWriter {
  return {
    bound: () => 5,
    maxBound: () => 5,
    write(buf, at, row) {
      if (walk.nullAt(row)) return writeNull(buf, at);
      const bits = walk.data.values as Uint8Array;
      writeLength(buf, at, 1);
      buf[at + 4] = (bits[walk.slot >> 3]! & (1 << (walk.slot & 7))) !== 0 ? 116 : 102; // 't' / 'f'
      return at + 5;
    },
  };
}

/**
 * PostgreSQL's `YYYY-MM-DD HH:MM:SS[.ffffff][+00]` from nanosecond or microsecond timestamps: the date's
 * bytes are made once per day (rows of a result mostly share days), the rest is digits.
 */
function timestampWriter(walk: ChunkWalk, unit: number, zoned: boolean): DirectTextWriter {
  let lastDay = NaN;
  const day = new Uint8Array(11);
  const fallback = (row: number, us: bigint) => formatTimestampUs(us) + (zoned ? '+00' : '');
  const raw = (): bigint => (BigInt(walk.hi) << 32n) | BigInt(walk.lo);
  return {
    bound: () => TIMESTAMP_BOUND,
    maxBound: () => TIMESTAMP_BOUND,
    write(buf, at, row) {
      if (walk.nullAt(row)) return writeNull(buf, at);
      const hi = walk.hi;
      const lo = walk.lo;
      // ns → µs without BigInt: ns = hi·2^32 + lo and 2^32 = 1000·4294967 + 296, every term exact in a double
      const us = unit === 3 ? hi * 4294967 + Math.floor((hi * 296 + lo) / 1000) : hi * 4294967296 + lo;
      // µs from two words are exact below 2^53 (unit 2: |hi| < 2^21); beyond, the BigInt path
      if (!Number.isSafeInteger(us) || (unit === 2 && (hi >= 0x200000 || hi < -0x200000))) {
        const r = raw();
        const exact = unit === 3 ? (r >= 0n ? r / 1000n : -((-r + 999n) / 1000n)) : r;
        return asciiCell(buf, at, fallback(row, exact));
      }
      const d = Math.floor(us / US_PER_DAY);
      if (d !== lastDay) {
        lastDay = d;
        const text = `${new Date(d * 86_400_000).toISOString().slice(0, 10)} `;
        // years past 9999 or before 0 print longer: those take the string path
        if (text.length !== 11) lastDay = NaN;
        else writeAscii(day, 0, text);
      }
      if (Number.isNaN(lastDay)) return asciiCell(buf, at, fallback(row, BigInt(us)));
      let p = at + 4;
      for (let k = 0; k < 11; k++) buf[p + k] = day[k]!; // TypedArray.set costs more per call than 11 bytes
      p += 11;
      const inDay = us - d * US_PER_DAY;
      // below 86,400 s and 10^6 µs: int32 arithmetic from here on
      const secs = Math.floor(inDay / 1_000_000);
      const hours = (secs / 3600) | 0;
      const minutes = ((secs - hours * 3600) / 60) | 0;
      writeTwo(buf, p, hours);
      buf[p + 2] = 58; // ':'
      writeTwo(buf, p + 3, minutes);
      buf[p + 5] = 58;
      writeTwo(buf, p + 6, secs - hours * 3600 - minutes * 60);
      p += 8;
      let frac = inDay - secs * 1_000_000;
      if (frac !== 0) {
        let digits = 6;
        for (let q = (frac / 10) | 0; q * 10 === frac; q = (frac / 10) | 0) {
          frac = q;
          digits--;
        }
        buf[p] = 46; // '.'
        writeSmall(buf, p + 1, frac, digits);
        p += digits + 1;
      }
      if (zoned) {
        buf[p] = 43; // '+'
        buf[p + 1] = 48;
        buf[p + 2] = 48;
        p += 3;
      }
      writeLength(buf, at, p - at - 4);
      return p;
    },
  };
}

/**
 * A direct writer for the column's text form, or undefined for the types that keep going through
 * `cell()` (nested values, decimals, dates, times, binary, …). `slowText` is the column's ordinary text
 * function, used for the rare 64-bit values beyond 2^53.
 */
export function directTextWriter(vector: Vector, pg: PgType, slowText: (row: number) => string): DirectTextWriter | undefined {
  if (vector.data.length === 0) return undefined;
  const type = vector.type as DataType;
  const walk = new ChunkWalk(vector.data);
  switch (type.typeId) {
    case Type.Bool:
      return boolWriter(walk);
    case Type.Int: {
      const t = type as unknown as { bitWidth: number; isSigned: boolean };
      if (t.bitWidth === 64) return int64Writer(walk, t.isSigned, slowText);
      return smallIntWriter(walk);
    }
    case Type.Float: {
      const precision = (type as unknown as { precision: number }).precision;
      if (precision === 0) return undefined; // half floats: rare, keep the generic path
      return floatWriter(walk, pg.oid === OID.float4);
    }
    case Type.Utf8:
      return utf8Writer(walk);
    case Type.Timestamp: {
      const unit = (type as unknown as { unit: number }).unit;
      if (unit !== 2 && unit !== 3) return undefined;
      return timestampWriter(walk, unit, pg.oid === OID.timestamptz);
    }
    default:
      return undefined;
  }
}
