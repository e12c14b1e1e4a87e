/**
 * Test support: every test that needs PostgreSQL runs once per backend. PGlite always runs; the server
 * variant runs when SIRIUS_TEST_PG is set (CI always sets it) and otherwise says why it is skipped.
 * Each server test gets a database of its own, dropped afterwards, so test files can run concurrently.
 */
import pg from 'pg';
import { randomBytes } from 'node:crypto';

export interface PgBackend {
  /** 'pglite' or 'postgres' */
  name: 'pglite' | 'postgres';
  /** reason printed when the backend cannot run here */
  skip: string | false;
  /** a connection string for a fresh, empty database (undefined for PGlite: use an in-memory or temp-dir PGlite) */
  create(): Promise<{ connectionString: string | undefined; drop(): Promise<void> }>;
}

export const pgBackends: PgBackend[] = [
  {
    name: 'pglite',
    skip: false,
    async create() {
      return { connectionString: undefined, async drop() {} };
    },
  },
  {
    name: 'postgres',
    skip: process.env.SIRIUS_TEST_PG
      ? false
      : 'SIRIUS_TEST_PG is not set: skipping the PostgreSQL server variant (CI sets it to postgres://postgres@127.0.0.1:5432/test)',
    async create() {
      const base = process.env.SIRIUS_TEST_PG!;
      const name = `sirius_t_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
      const admin = new pg.Client({ connectionString: base });
      await admin.connect();
      try {
        await admin.query(`CREATE DATABASE ${name}`);
      } finally {
        await admin.end();
      }
      const url = new URL(base);
      url.pathname = `/${name}`;
      return {
        connectionString: url.toString(),
        async drop() {
          const c = new pg.Client({ connectionString: base });
          await c.connect();
          try {
            await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
          } finally {
            await c.end();
          }
        },
      };
    },
  },
];
