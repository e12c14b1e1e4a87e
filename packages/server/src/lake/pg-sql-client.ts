/**
 * `SqlClient` over a PostgreSQL server through a `pg` connection pool. Queries run on any pooled connection;
 * a transaction pins one connection until it commits or rolls back.
 *
 * Values come back as `pg` parses them: int8 and numeric as decimal strings (never lossy JS numbers),
 * jsonb as objects, bytea as `Buffer` (a `Uint8Array`), arrays as arrays. The PGlite client matches this.
 */
import pg from 'pg';
import type { SqlClient } from './sql-client.js';
import { UnavailableError, isOutageErrno, isUnavailable } from './unavailable.js';

export interface PgSqlClientOptions {
  /** pool size (default 10) */
  maxConnections?: number;
  /**
   * Deadline in ms for getting a connection and, separately, for one statement (default 15 000). Without it a
   * network partition leaves requests waiting on TCP for many minutes; past it they fail as `UnavailableError`.
   */
  timeoutMs?: number;
}

export const DEFAULT_SQL_TIMEOUT_MS = 15_000;

export function createPgSqlClient(connectionString: string, opts: PgSqlClientOptions = {}): SqlClient {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_SQL_TIMEOUT_MS;
  const pool = new pg.Pool({
    connectionString,
    max: opts.maxConnections ?? 10,
    connectionTimeoutMillis: timeoutMs,
    // the client-side deadline catches a silent network; the server-side one frees locks the server holds
    query_timeout: timeoutMs,
    statement_timeout: timeoutMs,
    keepAlive: true,
  });
  // An idle client losing its server must not crash the process: the pool drops it and reconnects later.
  pool.on('error', () => {});
  let closed: Promise<void> | undefined;
  return {
    dialect: 'postgres',
    async query<R>(sql: string, params?: readonly unknown[]): Promise<R[]> {
      try {
        const r = await pool.query(sql, params as unknown[] | undefined);
        return r.rows as R[];
      } catch (err) {
        throw asUnavailable(err);
      }
    },
    async transaction<T>(fn: (tx: SqlClient) => Promise<T>): Promise<T> {
      let conn: pg.PoolClient;
      try {
        conn = await pool.connect();
      } catch (err) {
        throw asUnavailable(err);
      }
      let broken = false;
      try {
        await conn.query('BEGIN');
        const result = await fn(connectionClient(conn));
        await conn.query('COMMIT');
        return result;
      } catch (err) {
        const mapped = asUnavailable(err);
        // a ROLLBACK on a lost connection would wait out another deadline: drop the connection instead
        if (mapped instanceof UnavailableError) broken = true;
        else {
          try {
            await conn.query('ROLLBACK');
          } catch {
            broken = true;
          }
        }
        throw mapped;
      } finally {
        conn.release(broken);
      }
    },
    close() {
      closed ??= pool.end();
      return closed;
    },
  };
}

/** A client bound to one connection already inside a transaction; nested transactions become savepoints. */
function connectionClient(conn: pg.PoolClient, depth = 0): SqlClient {
  const self: SqlClient = {
    dialect: 'postgres',
    async query<R>(sql: string, params?: readonly unknown[]): Promise<R[]> {
      try {
        const r = await conn.query(sql, params as unknown[] | undefined);
        return r.rows as R[];
      } catch (err) {
        throw asUnavailable(err);
      }
    },
    transaction: <T>(fn: (tx: SqlClient) => Promise<T>) => withSavepoint(self, depth + 1, () => fn(connectionClient(conn, depth + 1))),
    async close() {
      throw new Error('close() called on a transaction; close the client that opened it');
    },
  };
  return self;
}

/** Runs `fn` inside `SAVEPOINT sp<depth>`, so a nested failure rolls back only its own work. */
export async function withSavepoint<T>(tx: SqlClient, depth: number, fn: () => Promise<T>): Promise<T> {
  const name = `sirius_sp${depth}`;
  await tx.query(`SAVEPOINT ${name}`);
  try {
    const result = await fn();
    await tx.query(`RELEASE SAVEPOINT ${name}`);
    return result;
  } catch (err) {
    await tx.query(`ROLLBACK TO SAVEPOINT ${name}`);
    throw err;
  }
}

/** SQLSTATE classes and codes that say the server cannot work now, not that the statement is wrong */
function isUnavailableSqlState(code: string): boolean {
  // 08: connection exception; 53: insufficient resources (disk full, out of memory, too many connections);
  // 57P0x: the server is shutting down or starting; 57014: cancelled by our statement_timeout
  return code.startsWith('08') || code.startsWith('53') || /^57P0[1-3]$/.test(code) || code === '57014';
}

/** messages `pg` and `pg-pool` give errors of their own, which carry no code */
const PG_OUTAGE_MESSAGES = /^(Connection terminated|timeout exceeded when trying to connect|Query read timeout|Client has encountered a connection error|Client was closed)/;

/** `err` as an UnavailableError (keeping it as the cause, for the log) when it is an outage, else unchanged */
export function asUnavailable(err: unknown): unknown {
  if (isUnavailable(err)) return err;
  const code = (err as { code?: unknown })?.code;
  const message = (err as Error)?.message ?? '';
  if ((typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) && isUnavailableSqlState(code)) || isOutageErrno(err) || PG_OUTAGE_MESSAGES.test(message)) {
    return new UnavailableError('metadata database', { cause: err });
  }
  return err;
}
