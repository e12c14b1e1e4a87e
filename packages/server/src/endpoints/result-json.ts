/**
 * Arrow tables as JSON text for people and scripts: one object per row, 64-bit integers as numbers while
 * they are exact (|n| ≤ 2^53 − 1) and as decimal strings past that, timestamps as ISO-8601 strings with
 * all their digits (nanoseconds), binary as base64. Written column-aware, straight to text: no
 * intermediate row objects.
 *
 * @example
 *   tableToJsonRows(table) // '[{"level":4,"n":"9007199254740993","time":"2024-05-01T12:00:00.000000123Z"}]'
 */
import { Type, type DataType, type Table, type Vector } from 'apache-arrow';
import { formatNs } from '@sirius/client';
import { cellsOf } from './arrow-cells.js';

export interface JsonColumn {
  name: string;
  type: string;
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

export function bigintJson(v: bigint): string {
  return v > MAX_SAFE || v < -MAX_SAFE ? `"${v}"` : v.toString();
}

function numberJson(v: number): string {
  return Number.isFinite(v) ? String(v) : `"${v}"`;
}

const TIME_UNIT_NS = [1_000_000_000n, 1_000_000n, 1_000n, 1n]; // SECOND, MILLISECOND, MICROSECOND, NANOSECOND

type Cell = (row: number) => string;

/** a function writing one column's value at `row` as JSON text */
function cellWriter(vector: Vector): Cell {
  const type = vector.type as DataType;
  const cells = cellsOf(vector);
  switch (type.typeId) {
    case Type.Timestamp: {
      const scale = TIME_UNIT_NS[(type as unknown as { unit: number }).unit]!;
      return (row) => (cells.isNull(row) ? 'null' : `"${formatNs(cells.int64(row) * scale)}"`);
    }
    case Type.Int: {
      if ((type as unknown as { bitWidth: number }).bitWidth === 64) {
        return (row) => (cells.isNull(row) ? 'null' : bigintJson(cells.int64(row)));
      }
      return (row) => {
        const v = vector.get(row) as number | null;
        return v === null ? 'null' : String(v);
      };
    }
    case Type.Float:
      return (row) => {
        const v = vector.get(row) as number | null;
        return v === null ? 'null' : numberJson(v);
      };
    case Type.Bool:
      return (row) => {
        const v = vector.get(row) as boolean | null;
        return v === null ? 'null' : v ? 'true' : 'false';
      };
    case Type.Utf8:
      return (row) => {
        const v = vector.get(row) as string | null;
        return v === null ? 'null' : JSON.stringify(v);
      };
    case Type.Binary:
      return (row) => {
        const v = vector.get(row) as Uint8Array | null;
        return v === null ? 'null' : `"${Buffer.from(v).toString('base64')}"`;
      };
    case Type.Date:
      return (row) => {
        const v = vector.get(row) as number | Date | null;
        return v === null ? 'null' : `"${new Date(typeof v === 'number' ? v : v.getTime()).toISOString().slice(0, 10)}"`;
      };
    default:
      return (row) => nestedJson(vector.get(row));
  }
}

/** nested values (lists, structs, maps) through Arrow's accessors; BigInt-safe */
function nestedJson(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'bigint') return bigintJson(v);
  if (typeof v === 'number') return numberJson(v);
  if (typeof v === 'string' || typeof v === 'boolean') return JSON.stringify(v);
  if (v instanceof Uint8Array) return `"${Buffer.from(v).toString('base64')}"`;
  if (v instanceof Date) return `"${v.toISOString()}"`;
  if (v instanceof Map) return `{${[...v].map(([k, x]) => `${JSON.stringify(String(k))}:${nestedJson(x)}`).join(',')}}`;
  const obj = v as { toArray?: () => unknown; toJSON?: () => unknown; [Symbol.iterator]?: unknown };
  if (typeof obj.toJSON === 'function' && !(Array.isArray(v) || ArrayBuffer.isView(v))) {
    const j = obj.toJSON();
    if (j !== v) return nestedJson(j);
  }
  if (Array.isArray(v) || ArrayBuffer.isView(v)) return `[${Array.from(v as ArrayLike<unknown>, nestedJson).join(',')}]`;
  if (typeof obj.toArray === 'function') return nestedJson(obj.toArray());
  if (typeof v === 'object') return `{${Object.entries(v).map(([k, x]) => `${JSON.stringify(k)}:${nestedJson(x)}`).join(',')}}`;
  return JSON.stringify(String(v));
}

/** the Arrow type of each column as a short name, used when DuckDB's SQL type is not at hand */
export function arrowTypeName(type: DataType): string {
  return String(type);
}

/** JSON text of an array with one object per row */
export function tableToJsonRows(table: Table): string {
  return [...jsonRowChunks(table)].join('');
}

/**
 * The same JSON text in pieces of about `chunkChars` characters, made as they are asked for: a large
 * result is sent without its whole JSON text in memory at once (V8 cannot hold a string over ~512 MiB).
 */
export function* jsonRowChunks(table: Table, chunkChars = 1 << 20): Generator<string> {
  const names = table.schema.fields.map((f) => JSON.stringify(f.name));
  const writers = table.schema.fields.map((_, c) => cellWriter(table.getChildAt(c)!));
  let s = '[';
  for (let r = 0; r < table.numRows; r++) {
    s += r === 0 ? '{' : ',{';
    for (let c = 0; c < writers.length; c++) {
      if (c > 0) s += ',';
      s += `${names[c]}:${writers[c]!(r)}`;
    }
    s += '}';
    if (s.length >= chunkChars) {
      yield s;
      s = '';
    }
  }
  yield `${s}]`;
}

/** one row's cells as display strings (for CLI tables and CSV), same rules as the JSON */
export function tableToStringColumns(table: Table): string[][] {
  const writers = table.schema.fields.map((_, c) => cellWriter(table.getChildAt(c)!));
  return writers.map((w) => {
    const out: string[] = new Array(table.numRows);
    for (let r = 0; r < table.numRows; r++) {
      const j = w(r);
      out[r] = j === 'null' ? '' : j.startsWith('"') ? (JSON.parse(j) as string) : j;
    }
    return out;
  });
}
