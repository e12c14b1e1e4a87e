/**
 * `SqlClient` over embedded PGlite: files under `<dataDir>/pglite`, or in memory for tests.
 * PGlite is one serialized session, so top-level queries and whole transactions go through a queue;
 * inside a transaction, queries use the session directly (they already own it).
 *
 * int8 values are returned as decimal strings, like `pg` does, so repositories see the same shapes on both.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { PGlite, types } from '@electric-sql/pglite';
import { lockPgliteDir } from './pglite-dir-lock.js';
import { seedPgliteDir } from './pglite-seed.js';
import { SerialQueue } from './serial-queue.js';
import { asUnavailable, withSavepoint } from './pg-sql-client.js';
import type { SqlClient } from './sql-client.js';

export interface PgliteSqlClientOptions {
  /** folder holding the database files (`<dataDir>/pglite`); ignored when `inMemory` */
  dataDir?: string;
  inMemory?: boolean;
}

type Session = Pick<PGlite, 'query'>;

export async function createPgliteSqlClient(opts: PgliteSqlClientOptions): Promise<SqlClient> {
  const parsers = { [types.INT8]: (x: string) => x };
  let db: PGlite;
  let unlock = () => {};
  if (opts.inMemory || !opts.dataDir) {
    db = new PGlite({ parsers });
  } else {
    const dir = join(opts.dataDir, 'pglite');
    mkdirSync(dir, { recursive: true });
    unlock = lockPgliteDir(dir);
    try {
      await seedPgliteDir(dir); // a new folder is copied from a template: no initdb here (seconds, ~500 MB)
    } catch (err) {
      unlock();
      throw err;
    }
    // PostgreSQL's default 128 MB of shared buffers is resident from the start; this database holds metadata
    // only, and its files stay in the OS page cache: 32 MB cuts idle memory by ~100 MB
    db = new PGlite(dir, { parsers, postgresqlconf: ['shared_buffers = 32MB'] });
  }
  try {
    await db.waitReady;
  } catch (err) {
    unlock();
    throw err;
  }
  const queue = new SerialQueue();
  let closed: Promise<void> | undefined;
  const assertOpen = () => {
    if (closed) throw new Error('the PGlite client is closed');
  };
  return {
    dialect: 'pglite',
    async query<R>(sql: string, params?: readonly unknown[]): Promise<R[]> {
      assertOpen();
      return queue.run(async () => {
        assertOpen();
        try {
          return (await db.query<R>(sql, params as unknown[] | undefined)).rows;
        } catch (err) {
          // a full or failing disk under <dataDir>/pglite (SQLSTATE 53100, EIO…) is an outage like a lost server
          throw asUnavailable(err);
        }
      });
    },
    async transaction<T>(fn: (tx: SqlClient) => Promise<T>): Promise<T> {
      assertOpen();
      return queue.run(async () => {
        assertOpen();
        await db.query('BEGIN');
        try {
          const result = await fn(sessionClient(db, 0));
          await db.query('COMMIT');
          return result;
        } catch (err) {
          await db.query('ROLLBACK');
          throw asUnavailable(err);
        }
      });
    },
    close() {
      // wait for queued work, then shut the engine down (flushing its files)
      closed ??= queue.run(() => db.close()).finally(unlock);
      return closed;
    },
  };
}

function sessionClient(db: Session, depth: number): SqlClient {
  const self: SqlClient = {
    dialect: 'pglite',
    async query<R>(sql: string, params?: readonly unknown[]): Promise<R[]> {
      return (await db.query<R>(sql, params as unknown[] | undefined)).rows;
    },
    transaction: <T>(fn: (tx: SqlClient) => Promise<T>) => withSavepoint(self, depth + 1, () => fn(sessionClient(db, depth + 1))),
    async close() {
      throw new Error('close() called on a transaction; close the client that opened it');
    },
  };
  return self;
}
