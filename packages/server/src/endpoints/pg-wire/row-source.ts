/**
 * A result the session can describe and stream: the engine's Arrow table, or a small table of strings
 * made up by the gateway (SHOW, catalog probes).
 *
 * @example
 *   const rows = staticRows(['search_path'], [['"$user", public']]);
 *   rows.encoders(['text'])[0]!.encode(0) // Buffer '"$user", public'
 */
import type { Table, Vector } from 'apache-arrow';
import { PG_TYPES, pgTypeFor, type PgType } from './pg-types.js';
import { columnEncoder, type ColumnEncoder, type WireFormat } from './value-format.js';

export interface RowSource {
  columns: { name: string; type: PgType }[];
  rowCount: number;
  /** one encoder per column; `formats` has one entry per column */
  encoders(formats: readonly WireFormat[]): ColumnEncoder[];
}

/** what arrowRows reads: a whole Arrow table, or one record batch of a streamed result */
export type ArrowColumns = Pick<Table, 'schema' | 'numRows'> & { getChildAt(i: number): Vector | null };

/** `names` replaces the engine's column names (PostgreSQL's naming, column-names.ts) when given */
export function arrowRows(table: ArrowColumns, sqlTypes: readonly string[], names?: readonly string[]): RowSource {
  const columns = table.schema.fields.map((f, i) => ({ name: names?.[i] ?? f.name, type: pgTypeFor(sqlTypes[i] ?? 'VARCHAR') }));
  return {
    columns,
    rowCount: table.numRows,
    encoders: (formats) => columns.map((c, i) => columnEncoder(table.getChildAt(i)!, c.type, formats[i] ?? 'text')),
  };
}

export function staticRows(names: readonly string[], rows: readonly (readonly (string | null)[])[]): RowSource {
  return {
    columns: names.map((name) => ({ name, type: PG_TYPES.text })),
    rowCount: rows.length,
    encoders: (formats) =>
      names.map((_, c) => ({
        type: PG_TYPES.text,
        format: formats[c] ?? 'text',
        encode: (r: number) => {
          const v = rows[r]![c];
          return v === null || v === undefined ? null : Buffer.from(v, 'utf8');
        },
        cell: (r: number) => rows[r]![c] ?? null,
      })),
  };
}

/** rows [from, to) of another source: what one FETCH from a cursor returns */
export function windowRows(src: RowSource, from: number, to: number): RowSource {
  return {
    columns: src.columns,
    rowCount: Math.max(0, to - from),
    encoders: (formats) =>
      src.encoders(formats).map((e) => ({ type: e.type, format: e.format, encode: (r: number) => e.encode(from + r), cell: (r: number) => e.cell(from + r) })),
  };
}

/** the per-column formats from Bind's result format codes (none = all text, one = all columns) */
export function resultFormats(codes: readonly number[], columns: number): WireFormat[] {
  const at = (i: number): WireFormat => ((codes.length === 1 ? codes[0] : codes[i]) === 1 ? 'binary' : 'text');
  return Array.from({ length: columns }, (_, i) => (codes.length === 0 ? 'text' : at(i)));
}
