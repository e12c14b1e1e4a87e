/**
 * Writes a `RowBatch` into a local Parquet file: block-view batches straight from their staged columns (JS,
 * LZ4_RAW), anything else through DuckDB — rows staged, then `COPY … (FORMAT parquet)` encodes them
 * (dictionary pages, zstd). The file is complete when this resolves;
 * callers upload it and only then commit the partition row.
 *
 * Batches of block views stage themselves (`staging-batch.ts`). By default their final partition is written
 * straight from the staged columns in JS (`direct-parquet-writer.ts`, LZ4_RAW pages): no DuckDB COPY, which
 * was 85–90 % of the ETL's time. With `SIRIUS_PARQUET_WRITER=duckdb`, or for shapes the direct writer does not take,
 * the columns go into an uncompressed Parquet file (`staging-parquet.ts`) that DuckDB reads at tens of
 * millions of rows/s and COPYs — about 20× faster than the appender, which costs a native call per value.
 * Other batches (spans, JIT segments) go through the appender into a staging table.
 *
 * The staging table holds what the appender takes fast: maps as JSON text (appending a MAP value costs
 * ~40 µs, its JSON ~0.3 µs, and one map object shared by many rows is serialized once) and timestamps as
 * BIGINT; the COPY's SELECT casts them to MAP(VARCHAR, VARCHAR) and TIMESTAMP_NS.
 *
 * @example
 *   await writeParquet(batch, '/tmp/p.parquet', { orderBy: 'time' });
 */
import type { DuckDBAppender } from '@duckdb/node-api';
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { columnsDdl, quoteIdent } from './view-columns.js';
import { sqlString, withConnection } from './duckdb-engine.js';
import type { ColumnSpec, RowBatch } from './row-batch.js';
import { stagingOf } from './staging-batch.js';
import { writeStagingParquet } from './staging-parquet.js';
import { directPlan, writeDirectParquet } from './direct-parquet-writer.js';

export interface WriteParquetOptions {
  /** SQL ORDER BY expression applied while writing (rows sorted by time compress and prune better) */
  orderBy?: string;
}

/** Parquet settings every partition uses, so merged files match the ones they replace. */
export const PARQUET_OPTIONS = `FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 122880`;

export async function writeParquet(batch: RowBatch, path: string, opts: WriteParquetOptions = {}): Promise<void> {
  const stage = stagingOf(batch);
  if (stage) return writeStaged(batch, stage, path, opts);
  if (batch.values.length !== batch.columns.length) {
    throw new Error(`row batch has ${batch.values.length} value arrays for ${batch.columns.length} columns`);
  }
  await withConnection(async (c) => {
    const table = `batch_${randomBytes(6).toString('hex')}`;
    await c.run(`CREATE TABLE ${table} (${columnsDdl(batch.columns.map(stagingColumn))})`);
    try {
      const appender = await c.createAppender(table);
      try {
        appendRows(appender, batch);
        appender.flushSync();
      } finally {
        appender.closeSync();
      }
      const order = opts.orderBy ? ` ORDER BY ${opts.orderBy}` : '';
      const select = batch.columns.map(finalExpression).join(', ');
      await c.run(`COPY (SELECT ${select} FROM ${table}${order}) TO ${sqlString(path)} (${PARQUET_OPTIONS})`);
    } finally {
      await c.run(`DROP TABLE IF EXISTS ${table}`);
    }
  });
}

/** The staged path: typed arrays → staging Parquet next to `path` → one COPY that casts and sorts. */
async function writeStaged(batch: RowBatch, stage: NonNullable<ReturnType<typeof stagingOf>>, path: string, opts: WriteParquetOptions): Promise<void> {
  const staged = stage();
  const names = staged.columns.map((c) => c.name).join(',');
  if (staged.length !== batch.length || names !== batch.columns.map((c) => c.name).join(',')) {
    throw new Error(`writeParquet: staged columns (${names}, ${staged.length} rows) do not match the batch`);
  }
  if (directWriterEnabled()) {
    // rows in the order ORDER BY time would give; any other ORDER BY (or an unsupported shape) goes to DuckDB
    const byTime = opts.orderBy === undefined || opts.orderBy.replaceAll('"', '') === 'time';
    if (byTime && directPlan(batch.columns, staged)) {
      await writeDirectParquet(path, batch.columns, staged, { sortByTime: opts.orderBy !== undefined });
      return;
    }
  }
  const scratch = `${path}.staging-${randomBytes(6).toString('hex')}.parquet`;
  try {
    await writeStagingParquet(scratch, staged.length, staged.columns);
    await withConnection(async (c) => {
      // Sorting is ~40% of the COPY; rows already in order keep it (DuckDB preserves insertion order).
      const sorted = opts.orderBy !== undefined && opts.orderBy.replaceAll('"', '') === staged.sortedBy;
      const order = opts.orderBy && !sorted ? ` ORDER BY ${opts.orderBy}` : '';
      const select = batch.columns.map(finalExpression).join(', ');
      await c.run(`COPY (SELECT ${select} FROM read_parquet(${sqlString(scratch)})${order}) TO ${sqlString(path)} (${PARQUET_OPTIONS})`);
    });
  } finally {
    await rm(scratch, { force: true });
  }
}

/**
 * The direct JS writer (`direct-parquet-writer.ts`) is the default for staged batches;
 * `SIRIUS_PARQUET_WRITER=duckdb` sends them through the staging file and DuckDB's COPY instead.
 */
export function directWriterEnabled(): boolean {
  return (process.env.SIRIUS_PARQUET_WRITER ?? 'direct').toLowerCase() !== 'duckdb';
}

type Append = (a: DuckDBAppender, v: unknown) => void;

const MAP_TYPE = 'MAP(VARCHAR,VARCHAR)';

function normalized(type: string): string {
  return type.replaceAll(' ', '').toUpperCase();
}

function stagingColumn(col: ColumnSpec): ColumnSpec {
  const t = normalized(col.type);
  if (t === MAP_TYPE) return { name: col.name, type: 'VARCHAR' };
  if (t === 'TIMESTAMP_NS') return { name: col.name, type: 'BIGINT' };
  return col;
}

function finalExpression(col: ColumnSpec): string {
  const q = quoteIdent(col.name);
  const t = normalized(col.type);
  if (t === MAP_TYPE) return `${q}::JSON::MAP(VARCHAR, VARCHAR) AS ${q}`;
  if (t === 'TIMESTAMP_NS') return `make_timestamp_ns(${q}) AS ${q}`;
  return q;
}

/** JSON of map objects, remembered per object: rows of one block share their process properties. */
function mapJson(): (v: Record<string, string>) => string {
  const seen = new WeakMap<object, string>();
  return (v) => {
    let j = seen.get(v);
    if (j === undefined) {
      j = JSON.stringify(v);
      seen.set(v, j);
    }
    return j;
  };
}

function appenderFor(col: ColumnSpec): Append {
  const t = normalized(col.type);
  const nullable = (f: Append): Append => (a, v) => (v === null || v === undefined ? a.appendNull() : f(a, v));
  switch (t) {
    case 'VARCHAR':
      return nullable((a, v) => a.appendVarchar(v as string));
    case 'TIMESTAMP_NS':
      return nullable((a, v) => a.appendBigInt(v as bigint));
    case 'BIGINT':
      return nullable((a, v) => a.appendBigInt(v as bigint));
    case 'UBIGINT':
      return nullable((a, v) => a.appendUBigInt(v as bigint));
    case 'INTEGER':
      return nullable((a, v) => a.appendInteger(v as number));
    case 'UINTEGER':
      return nullable((a, v) => a.appendUInteger(v as number));
    case 'UTINYINT':
      return nullable((a, v) => a.appendUTinyInt(v as number));
    case 'DOUBLE':
      return nullable((a, v) => a.appendDouble(v as number));
    case MAP_TYPE: {
      const json = mapJson();
      return nullable((a, v) => a.appendVarchar(json(v as Record<string, string>)));
    }
    default:
      throw new Error(`writeParquet: unsupported column type ${col.type} (column ${quoteIdent(col.name)})`);
  }
}

function appendRows(appender: DuckDBAppender, batch: RowBatch): void {
  const fns = batch.columns.map(appenderFor);
  const cols = batch.values;
  const n = batch.length;
  const w = fns.length;
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < w; c++) fns[c]!(appender, cols[c]![r]);
    appender.endRow();
  }
}
