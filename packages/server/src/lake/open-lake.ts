/**
 * Opens both halves of the lake and brings the schema up to date, so every role starts from a migrated
 * database. Closing the lake closes both.
 *
 * @example
 *   const lake = await openLake({ sqlConnectionString: undefined, dataDir: '.sirius', objectStoreUri: 'memory://' });
 *   await lake.close();
 */
import { openObjectStore } from './open-object-store.js';
import { openSqlClient } from './open-sql-client.js';
import { runMigrations } from './migrate.js';
import type { Lake } from './lake.js';

export interface OpenLakeOptions {
  /** postgres://… for a server, memory:// for in-memory PGlite, undefined for PGlite under `dataDir` */
  sqlConnectionString: string | undefined;
  /** holds `pglite/` when no connection string is given */
  dataDir: string;
  /** file://…, s3://bucket/prefix or memory:// */
  objectStoreUri: string;
  /** deadline in ms for one call to a remote backend (PostgreSQL, S3) before it counts as unavailable */
  timeoutMs?: number;
}

export interface OpenedLake extends Lake {
  close(): Promise<void>;
}

export async function openLake(opts: OpenLakeOptions): Promise<OpenedLake> {
  const objects = openObjectStore(opts.objectStoreUri, {
    // S3 makes up to 3 attempts, each with this deadline: together about the whole budget
    timeoutMs: opts.timeoutMs === undefined ? undefined : Math.max(100, Math.floor(opts.timeoutMs / 3)),
  });
  let sql;
  try {
    sql = await openSqlClient(opts.sqlConnectionString, { dataDir: opts.dataDir, timeoutMs: opts.timeoutMs });
  } catch (err) {
    await objects.close();
    throw err;
  }
  try {
    await runMigrations(sql);
  } catch (err) {
    await Promise.allSettled([sql.close(), objects.close()]);
    throw err;
  }
  let closing: Promise<void> | undefined;
  return {
    sql,
    objects,
    close() {
      closing ??= Promise.allSettled([sql.close(), objects.close()]).then(() => undefined);
      return closing;
    },
  };
}
