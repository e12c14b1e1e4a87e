/**
 * Brings the schema up to the latest version at start. Several servers may start at once against one
 * PostgreSQL: all of them take the same transaction-scoped advisory lock first, so exactly one applies the
 * pending migrations and the others then find nothing to do. All pending steps commit together or not at all.
 *
 * @example
 *   const version = await runMigrations(sql); // 1 after the first start
 */
import { migrations as allMigrations, type Migration } from './migrations/index.js';
import { nowNs } from '../clock.js';
import type { SqlClient } from './sql-client.js';

/** arbitrary, fixed key shared by every Sirius server ("SIRIUS" in ASCII) */
const MIGRATION_LOCK_KEY = 0x534952495553n;

export async function runMigrations(sql: SqlClient, migrations: readonly Migration[] = allMigrations): Promise<number> {
  migrations.forEach((m, i) => {
    if (m.version !== i + 1) throw new Error(`migration list out of order: position ${i + 1} holds version ${m.version} (${m.name})`);
  });
  return sql.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY.toString()]);
    await tx.query(`CREATE TABLE IF NOT EXISTS migrations (
      version integer PRIMARY KEY,
      name text NOT NULL,
      applied_time bigint NOT NULL
    )`);
    const [row] = await tx.query<{ v: number | null }>('SELECT max(version) AS v FROM migrations');
    const current = row?.v ?? 0;
    if (current > migrations.length) {
      throw new Error(`the database schema is at version ${current}, newer than this server knows (${migrations.length}); upgrade the server`);
    }
    for (const m of migrations.slice(current)) {
      await m.up(tx);
      await tx.query('INSERT INTO migrations (version, name, applied_time) VALUES ($1, $2, $3)', [m.version, m.name, nowNs()]);
    }
    return migrations.length;
  });
}

/** The schema version recorded in the database (0 before the first migration). */
export async function schemaVersion(sql: SqlClient): Promise<number> {
  const [t] = await sql.query<{ t: string | null }>(`SELECT to_regclass('migrations')::text AS t`);
  if (!t?.t) return 0;
  const [row] = await sql.query<{ v: number | null }>('SELECT max(version) AS v FROM migrations');
  return row?.v ?? 0;
}
