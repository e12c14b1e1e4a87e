/**
 * One in-process DuckDB for the lakehouse's own work (writing, merging and aggregating Parquet). It is
 * created on first use and shared: DuckDB parallelizes inside a query, so one instance per process is right,
 * and each job takes its own connection so jobs never see each other's temporary tables.
 *
 * @example
 *   await withConnection(async (c) => c.run(`COPY (SELECT 1) TO '/tmp/x.parquet' (FORMAT parquet)`));
 */
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';

let instance: Promise<DuckDBInstance> | undefined;

function getInstance(): Promise<DuckDBInstance> {
  instance ??= DuckDBInstance.create(':memory:', { threads: String(Math.max(1, Number(process.env.SIRIUS_LAKEHOUSE_THREADS ?? 2))) });
  return instance;
}

export async function withConnection<T>(fn: (c: DuckDBConnection) => Promise<T>): Promise<T> {
  const c = await (await getInstance()).connect();
  try {
    return await fn(c);
  } finally {
    c.closeSync();
  }
}

/** A SQL string literal (paths, names) for statements that take no parameters, such as COPY. */
export function sqlString(s: string): string {
  return `'${s.replaceAll("'", "''")}'`;
}
