import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { openSqlClient } from '../../src/lake/open-sql-client.js';

/** The embedded database's folder belongs to one process: a second opener is refused, not let in to corrupt it. */
test('a second process cannot open the same PGlite folder, and a stale lock is taken over', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'sirius-pglite-lock-'));
  try {
    const sql = await openSqlClient(undefined, { dataDir });
    try {
      const probe = `import { openSqlClient } from ${JSON.stringify(new URL('../../src/lake/open-sql-client.ts', import.meta.url).pathname)};
        try { await openSqlClient(undefined, { dataDir: ${JSON.stringify(dataDir)} }); console.log('opened'); }
        catch (err) { console.log(err.name + ': ' + err.message); }`;
      const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', probe], { encoding: 'utf8' });
      assert.match(r.stdout, /DatabaseInUseError: .*in use by process \d+/, r.stderr);
      await assert.rejects(openSqlClient(undefined, { dataDir }), /already open in this process/);
    } finally {
      await sql.close();
    }
    // a lock left by a process that no longer exists does not keep the database closed
    await mkdir(join(dataDir, 'pglite'), { recursive: true });
    await writeFile(join(dataDir, 'pglite', 'sirius.lock'), '2147483646');
    const again = await openSqlClient(undefined, { dataDir });
    assert.deepEqual(await again.query('SELECT 1 AS x'), [{ x: 1 }]);
    await again.close();
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
});
