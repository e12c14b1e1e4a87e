/**
 * `SqlClient` over a PostgreSQL server through a `pg` connection pool. Queries run on any pooled connection;
 * a transaction pins one connection until it commits or rolls back.
 *
 * Values come back as `pg` parses them: int8 and numeric as decimal strings (never lossy JS numbers),
 * jsonb as objects, bytea as `Buffer` (a `Uint8Array`), arrays as arrays. The PGlite client matches this.
 */
import pg from 'pg';
import type { SqlClient } from './sql-client.js';

export interface PgSqlClientOptions {
  /** pool size (default 10) */
  maxConnections?: number;
}

export function createPgSqlClient(connectionString: string, opts: PgSqlClientOptions = {}): SqlClient {
  const pool = new pg.Pool({ connectionString, max: opts.maxConnections ?? 10 });
  // An idle client losing its server must not crash the process: the pool drops it and reconnects later.
  pool.on('error', () => {});
  let closed: Promise<void> | undefined;
  return {
    dialect: 'postgres',
    async query<R>(sql: string, params?: readonly unknown[]): Promise<R[]> {
      const r = await pool.query(sql, params as unknown[] | undefined);
      return r.rows as R[];
    },
    async transaction<T>(fn: (tx: SqlClient) => Promise<T>): Promise<T> {
      const conn = await pool.connect();
      let broken = false;
      try {
        await conn.query('BEGIN');
        const result = await fn(connectionClient(conn));
        await conn.query('COMMIT');
        return result;
      } catch (err) {
        try {
          await conn.query('ROLLBACK');
        } catch {
          broken = true;
        }
        throw err;
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
      const r = await conn.query(sql, params as unknown[] | undefined);
      return r.rows as R[];
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
