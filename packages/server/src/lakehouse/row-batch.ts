/**
 * Rows produced from decoded blocks, column by column: the hand-off between the converters that turn
 * transit events into view rows and the writer that puts them into Parquet. Columns, not row objects,
 * because per-row objects are the dominant cost at millions of events per second.
 *
 * Value conventions per DuckDB type: VARCHAR → string; TIMESTAMP_NS, BIGINT, UBIGINT → bigint;
 * INTEGER, UINTEGER, UTINYINT → number; DOUBLE → number; MAP(VARCHAR, VARCHAR) → Record<string, string> | null.
 */
export interface ColumnSpec {
  name: string;
  /** DuckDB type, e.g. 'VARCHAR', 'TIMESTAMP_NS', 'MAP(VARCHAR, VARCHAR)' */
  type: string;
}

export interface RowBatch {
  columns: readonly ColumnSpec[];
  /** one array per column, each of `length` values */
  values: unknown[][];
  length: number;
}
