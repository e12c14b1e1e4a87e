/**
 * Opens the metadata database named by a connection string: `postgres://…` / `postgresql://…` for a server,
 * `memory://` for an in-memory PGlite (tests), undefined for PGlite files under `<dataDir>/pglite`.
 * Migrations are not run here: `openLake` runs them.
 *
 * @example
 *   const sql = await openSqlClient(process.env.SIRIUS_SQL_CONNECTION_STRING, { dataDir: '.sirius' });
 */
import { createPgSqlClient } from './pg-sql-client.js';
import { createPgliteSqlClient } from './pglite-sql-client.js';
import type { SqlClient } from './sql-client.js';

export interface OpenSqlClientOptions {
  /** where PGlite keeps its files when no connection string is given */
  dataDir?: string;
  /** PGlite in memory instead of files (when no connection string is given) */
  inMemory?: boolean;
  /** PostgreSQL pool size */
  maxConnections?: number;
  /** PostgreSQL: deadline in ms to connect and per statement (default 15 000) */
  timeoutMs?: number;
}

export async function openSqlClient(connectionString: string | undefined, opts: OpenSqlClientOptions = {}): Promise<SqlClient> {
  if (connectionString === undefined || connectionString === '') {
    if (!opts.inMemory && !opts.dataDir) throw new Error('openSqlClient: give a connection string, a dataDir or inMemory');
    return createPgliteSqlClient({ dataDir: opts.dataDir, inMemory: opts.inMemory });
  }
  if (connectionString === 'memory://') return createPgliteSqlClient({ inMemory: true });
  if (/^postgres(ql)?:\/\//.test(connectionString)) {
    return createPgSqlClient(connectionString, { maxConnections: opts.maxConnections, timeoutMs: opts.timeoutMs });
  }
  throw new Error(`unsupported SQL connection string (want postgres://…, postgresql://… or memory://): ${redact(connectionString)}`);
}

/** hides a password in a URL before it goes into a message */
export function redact(connectionString: string): string {
  try {
    const u = new URL(connectionString);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return connectionString.replace(/:[^:@/]*@/, ':***@');
  }
}
