/**
 * Reading Arrow results as columns, never as row objects (1 M row objects cost seconds). Times come back
 * as epoch milliseconds (Float64) whatever the timestamp unit; 64-bit integers as doubles.
 */
import { DataType, TimeUnit, type Table, type Vector } from 'apache-arrow';

export function col(table: Table, name: string): Vector | null {
  return table.getChild(name) ?? null;
}

const UNIT_TO_MS: Record<number, number> = {
  [TimeUnit.SECOND]: 1000,
  [TimeUnit.MILLISECOND]: 1,
  [TimeUnit.MICROSECOND]: 1e-3,
  [TimeUnit.NANOSECOND]: 1e-6,
};

/** Epoch-ms per row; NaN for nulls. Works for timestamps, dates and plain numbers (taken as ms). */
export function timeColumnMs(v: Vector | null): Float64Array {
  if (!v) return new Float64Array(0);
  const out = new Float64Array(v.length);
  if (DataType.isTimestamp(v.type)) {
    const f = UNIT_TO_MS[v.type.unit]!;
    let o = 0;
    for (const d of v.data) {
      const vals = d.values as BigInt64Array;
      for (let i = 0; i < d.length; i++) out[o + i] = d.nullCount > 0 && !d.getValid(i) ? NaN : Number(vals[i]!) * f;
      o += d.length;
    }
    return out;
  }
  for (let i = 0; i < v.length; i++) {
    const x = v.get(i);
    out[i] = x === null ? NaN : x instanceof Date ? x.getTime() : Number(x);
  }
  return out;
}

/**
 * Nanoseconds relative to `originNs`, as doubles: exact for spans within ~100 days of the origin, which is
 * what the flame graph needs (epoch ns do not fit a double exactly).
 */
export function timeColumnRelNs(v: Vector | null, originNs: bigint): Float64Array {
  if (!v) return new Float64Array(0);
  const out = new Float64Array(v.length);
  if (DataType.isTimestamp(v.type)) {
    const toNs = [1_000_000_000n, 1_000_000n, 1_000n, 1n][v.type.unit]!;
    let o = 0;
    for (const d of v.data) {
      const vals = d.values as BigInt64Array;
      for (let i = 0; i < d.length; i++) out[o + i] = Number(vals[i]! * toNs - originNs);
      o += d.length;
    }
    return out;
  }
  for (let i = 0; i < v.length; i++) out[i] = Number(BigInt(v.get(i) ?? 0) - originNs);
  return out;
}

/** The smallest timestamp of a column in ns (the origin for `timeColumnRelNs`). */
export function minTimeNs(v: Vector | null): bigint {
  if (!v || v.length === 0 || !DataType.isTimestamp(v.type)) return 0n;
  const toNs = [1_000_000_000n, 1_000_000n, 1_000n, 1n][v.type.unit]!;
  let min: bigint | null = null;
  for (const d of v.data) {
    const vals = d.values as BigInt64Array;
    for (let i = 0; i < d.length; i++) if (min === null || vals[i]! < min) min = vals[i]!;
  }
  return (min ?? 0n) * toNs;
}

export function numberColumn(v: Vector | null): Float64Array {
  if (!v) return new Float64Array(0);
  if (DataType.isTimestamp(v.type) || DataType.isDate(v.type)) return timeColumnMs(v);
  const out = new Float64Array(v.length);
  for (let i = 0; i < v.length; i++) {
    const x = v.get(i);
    out[i] = x === null || x === undefined ? NaN : Number(x);
  }
  return out;
}

export function stringColumn(v: Vector | null): string[] {
  if (!v) return [];
  const out = new Array<string>(v.length);
  for (let i = 0; i < v.length; i++) out[i] = formatValue(v.get(i), v.type);
  return out;
}

export function isTimeType(t: DataType): boolean {
  return DataType.isTimestamp(t) || DataType.isDate(t);
}

export function isNumericType(t: DataType): boolean {
  return DataType.isInt(t) || DataType.isFloat(t) || DataType.isDecimal(t);
}

/** How a cell reads in a table: times as ISO with ms, maps/structs/lists as JSON, nulls as empty. */
export function formatValue(x: unknown, type?: DataType): string {
  if (x === null || x === undefined) return '';
  if (type && DataType.isTimestamp(type) && typeof x === 'number') return new Date(x).toISOString().replace('T', ' ').replace('Z', '');
  if (x instanceof Date) return x.toISOString().replace('T', ' ').replace('Z', '');
  if (typeof x === 'bigint') return x.toString();
  if (typeof x === 'number') return Number.isInteger(x) ? String(x) : String(+x.toPrecision(6));
  if (typeof x === 'string') return x;
  if (x instanceof Uint8Array) return `0x${Array.from(x.subarray(0, 32), (b) => b.toString(16).padStart(2, '0')).join('')}${x.length > 32 ? '…' : ''}`;
  if (typeof x === 'object' && x !== null && 'toJSON' in x && typeof (x as { toJSON: unknown }).toJSON === 'function') {
    return JSON.stringify((x as { toJSON(): unknown }).toJSON(), (_k, v) => (typeof v === 'bigint' ? v.toString() : v));
  }
  return String(x);
}

/** `properties` as a plain object: a map column (`Map` rows), a list of {key, value} structs, or JSON text. */
export function propertiesToObject(x: unknown): Record<string, string> {
  if (x === null || x === undefined) return {};
  if (typeof x === 'string') {
    try {
      const o = JSON.parse(x) as unknown;
      return typeof o === 'object' && o !== null ? propertiesToObject(o) : {};
    } catch {
      return {};
    }
  }
  const j = typeof x === 'object' && 'toJSON' in x ? (x as { toJSON(): unknown }).toJSON() : x;
  const out: Record<string, string> = {};
  if (Array.isArray(j)) {
    for (const e of j) {
      const r = (e && typeof e === 'object' && 'toJSON' in e ? (e as { toJSON(): unknown }).toJSON() : e) as Record<string, unknown>;
      if (r && typeof r === 'object' && 'key' in r) out[String(r.key)] = String(r.value ?? '');
    }
    return out;
  }
  if (j && typeof j === 'object') for (const [k, v] of Object.entries(j)) out[k] = String(v);
  return out;
}
