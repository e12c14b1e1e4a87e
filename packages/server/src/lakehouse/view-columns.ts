/**
 * Column contracts of the views the lakehouse materializes. The names are part of the SQL surface (queries
 * written for the seed system port over), the types are DuckDB's, and the order is the Parquet column order.
 */
import type { ColumnSpec } from './row-batch.js';

const MAP = 'MAP(VARCHAR, VARCHAR)';

/** Columns every per-block row carries: which block it came from and which process sent it. */
const blockColumns: ColumnSpec[] = [
  { name: 'process_id', type: 'VARCHAR' },
  { name: 'stream_id', type: 'VARCHAR' },
  { name: 'block_id', type: 'VARCHAR' },
  { name: 'insert_time', type: 'TIMESTAMP_NS' },
  { name: 'exe', type: 'VARCHAR' },
  { name: 'username', type: 'VARCHAR' },
  { name: 'computer', type: 'VARCHAR' },
  { name: 'time', type: 'TIMESTAMP_NS' },
  { name: 'target', type: 'VARCHAR' },
];

export const logEntriesColumns: readonly ColumnSpec[] = [
  ...blockColumns,
  { name: 'level', type: 'INTEGER' },
  { name: 'msg', type: 'VARCHAR' },
  { name: 'properties', type: MAP },
  { name: 'process_properties', type: MAP },
];

export const measuresColumns: readonly ColumnSpec[] = [
  ...blockColumns,
  { name: 'name', type: 'VARCHAR' },
  { name: 'unit', type: 'VARCHAR' },
  { name: 'value', type: 'DOUBLE' },
  { name: 'properties', type: MAP },
  { name: 'process_properties', type: MAP },
];

/** `"name" TYPE, …` as `ViewSource.columns` and `CREATE TABLE` want it. */
export function columnsDdl(columns: readonly ColumnSpec[]): string {
  return columns.map((c) => `${quoteIdent(c.name)} ${c.type}`).join(', ');
}

export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** A short stable hash of a schema, stored with each partition so readers can tell incompatible files apart. */
export function schemaHash(columns: readonly ColumnSpec[]): string {
  let h = 0x811c9dc5;
  const s = columnsDdl(columns);
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, '0');
}
