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
  /** writes the cell at `row` (length prefix then text) at `at`; returns the offset after it */
  write(buf: Uint8Array, at: number, row: number): number;
}

const NUMBER_BOUND = 4 + 24; // "-1.2345678901234567e-308" is the longest double
const TIMESTAMP_BOUND = 4 + 32;
const US_PER_DAY = 86_400_000_000;

/** The chunk holding each row, found by walking forward from the last one (rows are asked for in order). */
class ChunkWalk {
  private k = 0;
  private start = 0;
  data: Data;
  /** the row's slot in `data`'s buffers, offset included */
  slot = 0;
  /** 64-bit values as (low, high) 32-bit word pairs: Arrow may hold them as BigInt64Array, which costs a BigInt per read */
  words: Int32Array;

  constructor(private readonly chunks: readonly Data[]) {
    this.data = chunks[0]!;
    this.words = wordsOf(this.data);
  }

  seek(row: number): void {
    if (row < this.start || row >= this.start + this.data.length) {
      if (row < this.start) {
        this.k = 0;
        this.start = 0;
      }
      while (row >= this.start + this.chunks[this.k]!.length) this.start += this.chunks[this.k++]!.length;
      this.data = this.chunks[this.k]!;
      this.words = wordsOf(this.data);
    }
    this.slot = row - this.start + this.data.offset;
  }

  /** after `seek`: whether the row is NULL */
  get isNull(): boolean {
    const d = this.data;
    return d.nullCount > 0 && d.nullBitmap !== undefined && d.nullBitmap.length > 0 && (d.nullBitmap[this.slot >> 3]! & (1 << (this.slot & 7))) === 0;
  }
}

function wordsOf(d: Data): Int32Array {
  const v = d.values as unknown as ArrayBufferView | undefined;
  return v === undefined ? new Int32Array(0) : new Int32Array(v.buffer, v.byteOffset, v.byteLength >> 2);
}

function writeLength(buf: Uint8Array, at: number, n: number): void {
  buf[at] = n >>> 24;
  buf[at + 1] = (n >>> 16) & 0xff;
  buf[at + 2] = (n >>> 8) & 0xff;
  buf[at + 3] = n & 0xff;
}

function writeNull(buf: Uint8Array, at: number): number {
  buf[at] = buf[at + 1] = buf[at + 2] = buf[at + 3] = 0xff;
  return at + 4;
}

/** the decimal digits of a safe integer at `p`; returns the offset after them */
function writeDigits(buf: Uint8Array, p: number, v: number): number {
  if (v < 0) {
    buf[p++] = 45; // '-'
    v = -v;
  }
  let len = 1;
  for (let t = v; t >= 10; t = (t - (t % 10)) / 10) len++;
  for (let i = p + len - 1; i >= p; i--) {
    const d = v % 10;
    buf[i] = 48 + d;
    v = (v - d) / 10;
  }
  return p + len;
}

/** an ASCII string at `p` (the callers only write numbers' text) */
function writeAscii(buf: Uint8Array, p: number, s: string): number {
  for (let i = 0; i < s.length; i++) buf[p + i] = s.charCodeAt(i);
  return p + s.length;
}

function writeTwo(buf: Uint8Array, p: number, v: number): void {
  buf[p] = 48 + ((v / 10) | 0);
  buf[p + 1] = 48 + (v % 10);
}

/** a cell whose text is written at `at + 4` by `body`, which returns the offset after the text */
function framed(body: (buf: Uint8Array, p: number) => number, buf: Uint8Array, at: number): number {
  const end = body(buf, at + 4);
  writeLength(buf, at, end - at - 4);
  return end;
}

function int64Writer(walk: ChunkWalk, signed: boolean, fallback: (row: number) => string): DirectTextWriter {
  return {
    bound: () => NUMBER_BOUND,
    write(buf, at, row) {
      walk.seek(row);
      if (walk.isNull) return writeNull(buf, at);
      const v = walk.words;
      const i = walk.slot * 2;
      const hi = v[i + 1]!;
      const lo = v[i]! >>> 0;
      if (hi >= -0x200000 && hi < 0x200000 && (signed || hi >= 0)) return framed((b, p) => writeDigits(b, p, hi * 4294967296 + lo), buf, at);
      return framed((b, p) => writeAscii(b, p, fallback(row)), buf, at);
    },
  };
}

function smallIntWriter(walk: ChunkWalk): DirectTextWriter {
  return {
    bound: () => NUMBER_BOUND,
    write(buf, at, row) {
      walk.seek(row);
      if (walk.isNull) return writeNull(buf, at);
      const v = Number((walk.data.values as unknown as ArrayLike<number>)[walk.slot]);
      return framed((b, p) => writeDigits(b, p, v), buf, at);
    },
  };
}

function floatWriter(walk: ChunkWalk, single: boolean): DirectTextWriter {
  return {
    bound: () => NUMBER_BOUND,
    write(buf, at, row) {
      walk.seek(row);
      if (walk.isNull) return writeNull(buf, at);
      const v = (walk.data.values as unknown as ArrayLike<number>)[walk.slot]!;
      // integral doubles print as their digits (String(2) is "2"), without building the string
      if (Number.isSafeInteger(v) && !(v === 0 && 1 / v < 0)) return framed((b, p) => writeDigits(b, p, v), buf, at);
      return framed((b, p) => writeAscii(b, p, formatFloat(v, single)), buf, at);
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
    write(buf, at, row) {
      walk.seek(row);
      if (walk.isNull) return writeNull(buf, at);
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
    write(buf, at, row) {
      walk.seek(row);
      if (walk.isNull) return writeNull(buf, at);
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
  const raw = (): bigint => {
    const v = walk.words;
    const i = walk.slot * 2;
    return (BigInt(v[i + 1]!) << 32n) | BigInt(v[i]! >>> 0);
  };
  return {
    bound: () => TIMESTAMP_BOUND,
    write(buf, at, row) {
      walk.seek(row);
      if (walk.isNull) return writeNull(buf, at);
      const v = walk.words;
      const i = walk.slot * 2;
      const hi = v[i + 1]!;
      const lo = v[i]! >>> 0;
      // ns → µs without BigInt: ns = hi·2^32 + lo and 2^32 = 1000·4294967 + 296, every term exact in a double
      const us = unit === 3 ? hi * 4294967 + Math.floor((hi * 296 + lo) / 1000) : hi * 4294967296 + lo;
      // µs from two words are exact below 2^53 (unit 2: |hi| < 2^21); beyond, the BigInt path
      if (!Number.isSafeInteger(us) || (unit === 2 && (hi >= 0x200000 || hi < -0x200000))) {
        const r = raw();
        const exact = unit === 3 ? (r >= 0n ? r / 1000n : -((-r + 999n) / 1000n)) : r;
        return framed((b, p) => writeAscii(b, p, fallback(row, exact)), buf, at);
      }
      const d = Math.floor(us / US_PER_DAY);
      if (d !== lastDay) {
        lastDay = d;
        const text = `${new Date(d * 86_400_000).toISOString().slice(0, 10)} `;
        // years past 9999 or before 0 print longer: those take the string path
        if (text.length !== 11) lastDay = NaN;
        else writeAscii(day, 0, text);
      }
      if (Number.isNaN(lastDay)) return framed((b, p) => writeAscii(b, p, fallback(row, BigInt(us))), buf, at);
      let p = at + 4;
      buf.set(day, p);
      p += 11;
      const inDay = us - d * US_PER_DAY;
      const secs = Math.floor(inDay / 1_000_000);
      writeTwo(buf, p, Math.floor(secs / 3600));
      buf[p + 2] = 58; // ':'
      writeTwo(buf, p + 3, Math.floor(secs / 60) % 60);
      buf[p + 5] = 58;
      writeTwo(buf, p + 6, secs % 60);
      p += 8;
      let frac = inDay - secs * 1_000_000;
      if (frac !== 0) {
        let digits = 6;
        while (frac % 10 === 0) {
          frac /= 10;
          digits--;
        }
        buf[p] = 46; // '.'
        for (let k = digits; k >= 1; k--) {
          const dgt = frac % 10;
          buf[p + k] = 48 + dgt;
          frac = (frac - dgt) / 10;
        }
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
