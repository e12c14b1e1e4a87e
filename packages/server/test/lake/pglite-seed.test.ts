/**
 * New embedded databases are copies of one template: each copy opens as a working database of its own,
 * and a folder that already holds a database is left alone.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { seedPgliteDir } from '../../src/lake/pglite-seed.js';
import { openSqlClient } from '../../src/lake/open-sql-client.js';

test('two data dirs seeded from the template are separate, working databases', { timeout: 300_000 }, async () => {
  const root = await mkdtemp(join(tmpdir(), 'sirius-seed-'));
  try {
    const [a, b] = [join(root, 'a'), join(root, 'b')];
    await Promise.all([seedPgliteDir(join(a, 'pglite')), seedPgliteDir(join(b, 'pglite'))]);
    for (const d of [a, b]) assert.ok(existsSync(join(d, 'pglite', 'PG_VERSION')));
    const sa = await openSqlClient(undefined, { dataDir: a });
    try {
      await sa.query('CREATE TABLE only_in_a (x int)');
      await sa.query('INSERT INTO only_in_a VALUES (1)');
    } finally {
      await sa.close();
    }
    const sb = await openSqlClient(undefined, { dataDir: b });
    try {
      const rows = await sb.query<{ n: string }>("SELECT count(*)::text AS n FROM pg_tables WHERE tablename = 'only_in_a'");
      assert.equal(rows[0]!.n, '0');
    } finally {
      await sb.close();
    }
    // and a third copy, made after the first was written to, starts clean too
    const c = join(root, 'c');
    await seedPgliteDir(join(c, 'pglite'));
    const sc = await openSqlClient(undefined, { dataDir: c });
    try {
      const rows = await sc.query<{ n: string }>("SELECT count(*)::text AS n FROM pg_tables WHERE tablename = 'only_in_a'");
      assert.equal(rows[0]!.n, '0');
    } finally {
      await sc.close();
    }
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test('a folder that already holds a database is not touched', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sirius-seed-existing-'));
  try {
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'PG_VERSION'), '17\n');
    await seedPgliteDir(dir);
    assert.deepEqual(readdirSync(dir), ['PG_VERSION']);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
