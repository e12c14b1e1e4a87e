/**
 * The one seam between Sirius and its metadata database. PostgreSQL (`pg`) and embedded PGlite both
 * implement it; every repository above it is written once, in PostgreSQL SQL with `$1` parameters.
 *
 * @example
 *   const rows = await sql.query<{ n: string }>('SELECT count(*) AS n FROM blocks WHERE stream_id = $1', [id]);
 */
export interface SqlClient {
  /** 'postgres' for a server, 'pglite' for the embedded engine (one serialized session). */
  readonly dialect: 'postgres' | 'pglite';
  query<R = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<R[]>;
  /** Runs `fn` in one transaction: committed if it resolves, rolled back if it throws. */
  transaction<T>(fn: (tx: SqlClient) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}
