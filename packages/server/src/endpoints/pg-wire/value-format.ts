/**
 * Arrow column values in PostgreSQL's text and binary wire formats. Text is what psql and most drivers
 * ask for: booleans `t`/`f`, timestamps `YYYY-MM-DD HH:MM:SS[.ffffff]+00` (microseconds, PostgreSQL's
 * precision, UTC), bytea as `\x<hex>`, nested values as JSON. Binary is offered for the fixed-width simple
 * types and strings; any other column asked for in binary is sent as `text`, whose binary form is its
 * UTF-8 bytes, so the answer stays valid.
 *
 * @example
 *   const enc = columnEncoder(table.getChildAt(0)!, PG_TYPES.timestamptz, 'text');
 *   enc.encode(0) // Buffer '2024-05-01 00:00:00.123+00'
 */
import { Type, type DataType, type Vector } from 'apache-arrow';
import { OID, PG_TYPES, type PgType } from './pg-types.js';
import { PG_EPOCH_DAYS, PG_EPOCH_US } from './parameters.js';
import { cellsOf, type Cells } from '../arrow-cells.js';
import { directTextWriter, type DirectTextWriter } from './text-cells.js';

export type WireFormat = 'text' | 'binary';

export interface ColumnEncoder {
  /** the type announced in RowDescription (may differ from the asked one when binary falls back to text) */
  type: PgType;
  format: WireFormat;
  /** the cell at `row`, or null for SQL NULL */
  encode(row: number): Buffer | null;
  /**
   * the same cell without a Buffer of its own: text to write as UTF-8, or bytes (possibly a view into the
   * result's memory, valid until the next call); what the DataRow writer uses
   */
  cell(row: number): string | Uint8Array | null;
  /** for the common text-format types: writes the cell (length prefix and text) straight into a buffer (text-cells.ts) */
  direct?: DirectTextWriter;
}

const BINARY_OIDS = new Set<number>([OID.bool, OID.int2, OID.int4, OID.int8, OID.float4, OID.float8, OID.text, OID.json, OID.bytea, OID.date, OID.timestamp, OID.timestamptz]);
/** ns per unit of Arrow's TimeUnit (SECOND, MILLISECOND, MICROSECOND, NANOSECOND) */
const UNIT_NS = [1_000_000_000n, 1_000_000n, 1_000n, 1n];

const pad = (n: number | bigint, w: number) => String(n).padStart(w, '0');

/** PostgreSQL's fraction of a second: up to 6 digits, trailing zeros dropped, none at all when zero */
function fraction(us: number): string {
  if (us === 0) return '';
  let digits = String(us + 1_000_000).slice(1);
  let end = 6;
  while (digits.charCodeAt(end - 1) === 48) end--;
  if (end < 6) digits = digits.slice(0, end);
  return `.${digits}`;
}

const TWO_DIGITS = Array.from({ length: 60 }, (_, i) => String(i).padStart(2, '0'));
const US_PER_DAY = 86_400_000_000;

/**
 * A formatter of µs since the Unix epoch as PostgreSQL prints them in UTC, `YYYY-MM-DD HH:MM:SS[.ffffff]`:
 * plain number arithmetic, the date part computed once per day (rows of a result mostly share days).
 */
export function timestampFormatter(): (us: number) => string {
  let lastDay = NaN;
  let dayText = '';
  return (us) => {
    const day = Math.floor(us / US_PER_DAY);
    if (day !== lastDay) {
      lastDay = day;
      dayText = `${new Date(day * 86_400_000).toISOString().slice(0, 10)} `;
    }
    const inDay = us - day * US_PER_DAY;
    const secs = Math.floor(inDay / 1_000_000);
    return `${dayText}${TWO_DIGITS[Math.floor(secs / 3600)]}:${TWO_DIGITS[Math.floor(secs / 60) % 60]}:${TWO_DIGITS[secs % 60]}${fraction(inDay - secs * 1_000_000)}`;
  };
}

const floorDiv = (a: bigint, b: bigint) => (a >= 0n ? a / b : -((-a + b - 1n) / b));

/** µs since the Unix epoch as PostgreSQL prints it in UTC: `YYYY-MM-DD HH:MM:SS[.ffffff]` */
export function formatTimestampUs(us: bigint): string {
  const secs = floorDiv(us, 1_000_000n);
  const frac = Number(us - secs * 1_000_000n);
  const iso = new Date(Number(secs) * 1000).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}${fraction(frac)}`;
}

function formatTimeUs(us: bigint): string {
  const s = us / 1_000_000n;
  return `${pad(s / 3600n, 2)}:${pad((s / 60n) % 60n, 2)}:${pad(s % 60n, 2)}${fraction(Number(us % 1_000_000n))}`;
}

/** PostgreSQL's float output: shortest round-trip digits, NaN / Infinity spelled its way */
export function formatFloat(v: number, single = false): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return 'Infinity';
  if (v === -Infinity) return '-Infinity';
  if (Object.is(v, -0)) return '-0';
  if (single) {
    for (let p = 1; p <= 9; p++) {
      const s = v.toPrecision(p);
      if (Math.fround(Number(s)) === v) return String(Number(s));
    }
  }
  return String(v);
}

/** nested Arrow values (maps, structs, lists) as JSON text; 64-bit integers keep every digit */
export function jsonText(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : `"${formatFloat(v)}"`;
  if (typeof v === 'string' || typeof v === 'boolean') return JSON.stringify(v);
  if (v instanceof Uint8Array) return JSON.stringify(`\\x${Buffer.from(v).toString('hex')}`);
  if (v instanceof Date) return JSON.stringify(v.toISOString());
  if (v instanceof Map) return `{${[...v].map(([k, x]) => `${JSON.stringify(String(k))}:${jsonText(x)}`).join(',')}}`;
  if (Array.isArray(v)) return `[${v.map(jsonText).join(',')}]`;
  if (ArrayBuffer.isView(v)) return `[${Array.from(v as unknown as ArrayLike<unknown>, jsonText).join(',')}]`;
  const obj = v as { toJSON?: () => unknown; toArray?: () => unknown };
  if (typeof obj.toJSON === 'function') {
    const j = obj.toJSON();
    if (j !== v) return jsonText(j);
  }
  if (typeof obj.toArray === 'function') return jsonText(obj.toArray());
  if (typeof v === 'object') return `{${Object.entries(v).map(([k, x]) => `${JSON.stringify(k)}:${jsonText(x)}`).join(',')}}`;
  return JSON.stringify(String(v));
}

/** a function giving the text form of a cell (not called for nulls) */
function textOf(vector: Vector, cells: Cells, pg: PgType): (row: number) => string {
  const type = vector.type as DataType;
  switch (type.typeId) {
    case Type.Bool:
      return (r) => (vector.get(r) ? 't' : 'f');
    case Type.Int: {
      if ((type as unknown as { bitWidth: number }).bitWidth !== 64) return (r) => String(vector.get(r));
      // 64-bit integers from their two 32-bit words: a double when exact, a BigInt only past 2^53
      const words = wordsOf(vector);
      const signed = (type as unknown as { isSigned: boolean }).isSigned;
      return (r) => {
        const i = words.seek(r);
        const hi = words.view[i + 1]!;
        if (hi >= -0x200000 && hi < 0x200000 && (signed || hi >= 0)) return String(hi * 4294967296 + (words.view[i]! >>> 0));
        return String(vector.get(r));
      };
    }
    case Type.Float:
      return (r) => formatFloat(vector.get(r) as number, pg.oid === OID.float4);
    case Type.Utf8:
      return (r) => vector.get(r) as string;
    case Type.Binary:
      return (r) => `\\x${Buffer.from(vector.get(r) as Uint8Array).toString('hex')}`;
    case Type.Date:
      return (r) => new Date(cells.int32(r) * 86_400_000).toISOString().slice(0, 10);
    case Type.Time: {
      const scale = UNIT_NS[(type as unknown as { unit: number }).unit]!;
      return (r) => formatTimeUs((cells.int64(r) * scale) / 1000n);
    }
    case Type.Timestamp: {
      const unit = (type as unknown as { unit: number }).unit;
      const scale = UNIT_NS[unit]!;
      const tz = pg.oid === OID.timestamptz ? '+00' : '';
      const format = timestampFormatter();
      const words = wordsOf(vector);
      if (unit === 3) {
        // ns → µs without BigInt: ns = hi·2^32 + lo and 2^32 = 1000·4294967 + 296, so
        // floor(ns / 1000) = hi·4294967 + floor((hi·296 + lo) / 1000), every term exact in a double
        return (r) => {
          const i = words.seek(r);
          const hi = words.view[i + 1]!;
          const us = hi * 4294967 + Math.floor((hi * 296 + (words.view[i]! >>> 0)) / 1000);
          // beyond ±2^53 µs (years before 1685 or after 2255) the sum is no longer exact: BigInt there
          return (Number.isSafeInteger(us) ? format(us) : formatTimestampUs(floorDiv(cells.int64(r), 1000n))) + tz;
        };
      }
      // µs since the epoch fit a double exactly until the year 2255; past that, the exact BigInt path
      return (r) => {
        const raw = cells.int64(r);
        const us = unit === 3 ? floorDiv(raw, 1000n) : unit === 2 ? raw : (raw * scale) / 1000n;
        const n = Number(us);
        return (Number.isSafeInteger(n) ? format(n) : formatTimestampUs(us)) + tz;
      };
    }
    default:
      return (r) => jsonText(vector.get(r));
  }
}

function binaryOf(vector: Vector, cells: Cells, pg: PgType): (row: number) => Buffer {
  const type = vector.type as DataType;
  const fixed = (size: number, write: (b: Buffer, r: number) => void) => (r: number) => {
    const b = Buffer.allocUnsafe(size);
    write(b, r);
    return b;
  };
  switch (pg.oid) {
    case OID.bool: return fixed(1, (b, r) => b.writeUInt8(vector.get(r) ? 1 : 0));
    case OID.int2: return fixed(2, (b, r) => b.writeInt16BE(Number(vector.get(r))));
    case OID.int4: return fixed(4, (b, r) => b.writeInt32BE(Number(vector.get(r))));
    case OID.int8: return fixed(8, (b, r) => b.writeBigInt64BE(BigInt(vector.get(r) as bigint | number)));
    case OID.float4: return fixed(4, (b, r) => b.writeFloatBE(vector.get(r) as number));
    case OID.float8: return fixed(8, (b, r) => b.writeDoubleBE(vector.get(r) as number));
    case OID.bytea: return (r) => Buffer.from(vector.get(r) as Uint8Array);
    case OID.date: return fixed(4, (b, r) => b.writeInt32BE(cells.int32(r) - PG_EPOCH_DAYS));
    case OID.timestamp:
    case OID.timestamptz: {
      const scale = UNIT_NS[(type as unknown as { unit: number }).unit]!;
      return fixed(8, (b, r) => {
        const ns = cells.int64(r) * scale;
        b.writeBigInt64BE((ns >= 0n ? ns / 1000n : -((-ns + 999n) / 1000n)) - PG_EPOCH_US);
      });
    }
    default: {
      const text = textOf(vector, cells, pg);
      return (r) => Buffer.from(text(r), 'utf8');
    }
  }
}

/** an encoder for one result column in the format the client asked for */
export function columnEncoder(vector: Vector, pg: PgType, format: WireFormat): ColumnEncoder {
  const cells = cellsOf(vector);
  const typeId = (vector.type as DataType).typeId;
  const arrowFits =
    (pg.oid !== OID.timestamp && pg.oid !== OID.timestamptz) || typeId === Type.Timestamp;
  if (format === 'binary' && BINARY_OIDS.has(pg.oid) && arrowFits && !(pg.oid === OID.date && typeId !== Type.Date)) {
    const bin = binaryOf(vector, cells, pg);
    const encode = (r: number) => (cells.isNull(r) ? null : bin(r));
    return { type: pg, format, encode, cell: encode };
  }
  const text = textOf(vector, cells, pg);
  const type = format === 'binary' ? PG_TYPES.text : pg;
  // strings are written as the bytes Arrow holds, without decoding them to JavaScript strings and back
  const cell = typeId === Type.Utf8 ? utf8Cells(vector) : (r: number) => (cells.isNull(r) ? null : text(r));
  const direct = format === 'text' ? directTextWriter(vector, pg, text) : undefined;
  return {
    type,
    format,
    encode: (r) => {
      const v = cell(r);
      return v === null ? null : typeof v === 'string' ? Buffer.from(v, 'utf8') : Buffer.from(v);
    },
    cell,
    ...(direct ? { direct } : {}),
  };
}

/** a 64-bit column's values as pairs of 32-bit words (low, high), found by walking the chunks in row order */
function wordsOf(vector: Vector): { view: Int32Array; seek(row: number): number } {
  const chunks = vector.data;
  const views = chunks.map((d) => {
    const v = d.values as unknown as ArrayBufferView;
    return new Int32Array(v.buffer, v.byteOffset, v.byteLength >> 2);
  });
  let k = 0;
  let start = 0;
  const out = {
    view: views[0] ?? new Int32Array(0),
    seek(row: number): number {
      if (row < start || row >= start + chunks[k]!.length) {
        k = 0;
        start = 0;
        while (row >= start + chunks[k]!.length) start += chunks[k++]!.length;
        out.view = views[k]!;
      }
      return (row - start + chunks[k]!.offset) * 2;
    },
  };
  return out;
}

/** a Utf8 column's cells as views of its UTF-8 bytes; walks the chunks in order, as rows are sent */
function utf8Cells(vector: Vector): (row: number) => Uint8Array | null {
  const chunks = vector.data;
  let k = 0;
  let start = 0;
  return (row) => {
    if (row < start || row >= start + chunks[k]!.length) {
      k = 0;
      start = 0;
      while (row >= start + chunks[k]!.length) start += chunks[k++]!.length;
    }
    const d = chunks[k]!;
    const i = row - start + d.offset;
    if (d.nullCount > 0 && d.nullBitmap && d.nullBitmap.length > 0 && (d.nullBitmap[i >> 3]! & (1 << (i & 7))) === 0) return null;
    const offsets = d.valueOffsets as Int32Array;
    return (d.values as Uint8Array).subarray(offsets[i]!, offsets[i + 1]!);
  };
}
