/**
 * Partition pruning: a day of log_entries in 24 hourly partitions (written with DuckDB, registered as
 * partition rows); a query over one minute reads only the partition overlapping it, and the engine says so.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { startEngine, type EngineFixture } from './engine-fixture.js';
import { insertPartition } from '../../src/lakehouse/partition-repository.js';
import { partitionKey, putPartitionObject } from '../../src/lakehouse/partition-files.js';
import { logEntriesColumns, columnsDdl } from '../../src/lakehouse/view-columns.js';

const DAY = 1_714_521_600_000_000_000n; // 2024-05-01T00:00:00Z
const HOUR = 3_600_000_000_000n;
let f: EngineFixture;
const keys: string[] = [];

before(async () => {
  f = await startEngine({ objectStore: 'memory' }); // memory store: partitions go through the disk cache
  const duck = await DuckDBInstance.create(':memory:');
  const c = await duck.connect();
  await c.run(`CREATE TABLE t (${columnsDdl(logEntriesColumns)})`);
  for (let h = 0n; h < 24n; h++) {
    const begin = DAY + h * HOUR;
    const path = join(f.dir, `h${h}.parquet`);
    // one row per second of the hour
    await c.run(`COPY (SELECT 'p1' AS process_id, 's1' AS stream_id, 'b' || ${h} AS block_id, make_timestamp_ns(${begin}::BIGINT) AS insert_time,
        'exe' AS exe, 'u' AS username, 'c' AS computer, make_timestamp_ns(${begin}::BIGINT + i * 1000000000::BIGINT) AS time,
        't' AS target, (i % 6 + 1)::INTEGER AS level, 'm' || i AS msg, NULL::MAP(VARCHAR, VARCHAR) AS properties,
        NULL::MAP(VARCHAR, VARCHAR) AS process_properties FROM range(3600) r(i)) TO '${path}' (FORMAT parquet)`);
    const key = partitionKey('log_entries', 'global', begin, begin + HOUR);
    const body = await readFile(path);
    await putPartitionObject(f.lake, key, body);
    await insertPartition(f.lake.sql, {
      view_set: 'log_entries', view_instance: 'global', begin_insert_time: begin, end_insert_time: begin + HOUR,
      min_event_time: begin, max_event_time: begin + HOUR - 1_000_000_000n, file_path: key, file_size: body.byteLength,
      num_rows: 3600, file_schema_hash: 'test', source_data_hash: `h${h}`, created_time: begin + HOUR,
    });
    keys.push(key);
  }
  c.closeSync();
  duck.closeSync();
});
after(async () => f?.close());

test('a one-minute query reads only the partition overlapping that minute', async () => {
  const begin = DAY + 10n * HOUR + 30n * 60_000_000_000n; // 10:30
  const out = await f.engine.query(`SELECT count(*) AS n, min(time) AS lo, max(time) AS hi FROM log_entries`, { begin, end: begin + 60_000_000_000n });
  assert.deepEqual(out.stats.files, [keys[10]]);
  assert.equal(out.stats.filesRead, 1);
  assert.equal(out.table.getChild('n')!.get(0), 60n); // the range filter applies inside the partition too
  // a second run is served from the local cache
  const again = await f.engine.query(`SELECT count(*) AS n FROM log_entries`, { begin, end: begin + 60_000_000_000n });
  assert.equal(again.stats.cacheHits, 1);
});

test('a range across an hour boundary reads the two partitions around it; the whole day reads all 24', async () => {
  const begin = DAY + 5n * HOUR - 60_000_000_000n;
  const out = await f.engine.query(`SELECT count(*) AS n FROM log_entries`, { begin, end: begin + 120_000_000_000n });
  assert.deepEqual([...out.stats.files].sort(), [keys[4], keys[5]].sort());
  assert.equal(out.table.getChild('n')!.get(0), 120n);
  const day = await f.engine.query(`SELECT count(*) AS n FROM log_entries`, { begin: DAY, end: DAY + 24n * HOUR });
  assert.equal(day.stats.filesRead, 24);
  assert.equal(day.table.getChild('n')!.get(0), 24n * 3600n);
});

test('a range with no partitions still has the view’s columns', async () => {
  const out = await f.engine.query(`SELECT * FROM log_entries`, { begin: DAY - 2n * HOUR, end: DAY - HOUR });
  assert.deepEqual(out.stats.files, []);
  assert.equal(out.table.numRows, 0);
  assert.deepEqual(out.table.schema.fields.map((x) => x.name), logEntriesColumns.map((c) => c.name));
});
