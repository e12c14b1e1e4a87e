/**
 * Leak: DuckDB names the files it fails on, so a query over a partition whose object is gone used to answer
 * with the absolute path of the server's data folder. Messages to clients must carry object keys instead.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, realpath, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, type RunningServer } from '../../src/serve.js';
import { insertPartition } from '../../src/lakehouse/partition-repository.js';
import { partitionKey, putPartitionObject } from '../../src/lakehouse/partition-files.js';
import { redactPaths } from '../../src/redact-paths.js';

const DAY = 1_714_521_600_000_000_000n; // 2024-05-01T00:00:00Z

describe('redactPaths', () => {
  test('a path inside the object store becomes its key', () => {
    assert.equal(
      redactPaths('IO Error: No files found that match the pattern "/srv/sirius/objects/views/log_entries/global/1_2_abc.parquet"'),
      'IO Error: No files found that match the pattern "views/log_entries/global/1_2_abc.parquet"',
    );
    assert.equal(redactPaths("cannot open '/data/store/blobs/p/s/b'"), "cannot open 'blobs/p/s/b'");
  });

  test("a query-cache file (named by its encoded key) becomes the key; other files keep only their name", () => {
    assert.equal(
      redactPaths('Invalid Input Error: File "/home/me/.sirius/cache/analytics/objects/views%2Flog_entries%2Fglobal%2Fa.parquet" too small'),
      'Invalid Input Error: File "views/log_entries/global/a.parquet" too small',
    );
    assert.equal(redactPaths('Permission Error: Cannot access file "/etc/hostname"'), 'Permission Error: Cannot access file "…/hostname"');
  });

  test('known folders get their label first', () => {
    assert.equal(redactPaths('spill to /home/me/.sirius/cache/spill failed', [{ dir: '/home/me/.sirius', label: '<data dir>' }]), 'spill to <data dir>/cache/spill failed');
  });

  test('SQL text, URLs and relative paths are left alone', () => {
    for (const s of [
      'Binder Error: column "a/b" not found',
      'LINE 1: SELECT 10 / 2 / x FROM t',
      'LINE 1: SELECT 10/2/x FROM t',
      'see https://duckdb.org/docs/sql/functions',
      'views/log_entries/global/a.parquet',
    ]) {
      assert.equal(redactPaths(s), s);
    }
  });
});

describe('query errors about files carry no data folder path', () => {
  let server: RunningServer;
  let dir: string;
  let key: string;
  before(async () => {
    dir = await realpath(await mkdtemp(join(tmpdir(), 'sirius-redact-')));
    server = await startServer({ roles: ['analytics'], httpPort: 0, dataDir: dir, sqlConnectionString: 'memory://', quiet: true });
    // a partition whose object was lost: the row points at a file that is not there
    key = partitionKey('log_entries', 'global', DAY, DAY + 60_000_000_000n);
    await putPartitionObject(server.lake, key, new Uint8Array(1000));
    await insertPartition(server.lake.sql, {
      view_set: 'log_entries', view_instance: 'global', begin_insert_time: DAY, end_insert_time: DAY + 60_000_000_000n,
      min_event_time: DAY, max_event_time: DAY + 9_000_000_000n, file_path: key, file_size: 1000, num_rows: 10,
      file_schema_hash: 'test', source_data_hash: 'seed', created_time: DAY,
    });
    await rm(join(dir, 'objects', ...key.split('/')));
  });
  after(async () => {
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('POST /api/query over a missing partition file: the error names the object key, not the path', async () => {
    const r = await fetch(`${server.url}/api/query`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ sql: 'SELECT count(*) AS n FROM log_entries', begin: '2024-05-01T00:00:00Z', end: '2024-05-01T00:02:00Z' }),
    });
    const text = await r.text();
    assert.ok(r.status >= 400 && r.status < 500, `${r.status} ${text}`);
    assert.ok(!text.includes(dir), `the error reveals the data folder: ${text}`);
    assert.ok(!text.includes(tmpdir()), `the error reveals the temp folder: ${text}`);
    assert.ok(text.includes(key), `the error should name the object key ${key}: ${text}`);
  });

  // DuckDB answers its own settings as data, so this is the engine's to refuse or redact (statement-gate.ts)
  test('DuckDB settings, secrets and cached files are not answered, so they name no server folder', async () => {
    for (const sql of [
      "SELECT name, value FROM duckdb_settings() WHERE value LIKE '%/%'",
      "SELECT current_setting('temp_directory') AS t",
      'SELECT * FROM system.main.duckdb_settings()',
      'SELECT * FROM "DuckDB_Settings"()',
      'SELECT * FROM duckdb_temporary_files()',
      'SELECT * FROM duckdb_external_file_cache()',
      'SELECT * FROM duckdb_secrets()',
    ]) {
      const r = await fetch(`${server.url}/api/query`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ sql, begin: '1h', end: 'now' }),
      });
      const text = await r.text();
      assert.equal(r.status, 400, `${sql}: ${text}`);
      assert.match(text, /is not available: it describes the server/);
      assert.ok(!text.includes(dir) && !text.includes('/root/') && !text.includes(tmpdir() + '/'), `${sql} reveals a server path: ${text}`);
    }
  });
});
