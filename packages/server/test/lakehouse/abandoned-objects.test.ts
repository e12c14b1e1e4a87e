/**
 * A partition object whose writer dies before committing its row is deleted by the purge in time; an object a
 * row points to never is. The schedule is a row of `lakehouse_retired_objects`, claimed by `insertPartition`.
 * Scratch files a killed process left are swept too.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { partitionKey, putPartitionObject } from '../../src/lakehouse/partition-files.js';
import { ABANDONED_AFTER_NS, insertPartition, type PartitionRecord } from '../../src/lakehouse/partition-repository.js';
import { purgeRetiredObjects } from '../../src/lakehouse/compactor.js';
import { pgBackends } from '../support/pg.js';
import { mkdir, readdir, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startDaemon } from '../../src/lakehouse/daemon.js';
import { startTestLake, T0, type TestLake } from './lake-fixtures.js';

function record(key: string): PartitionRecord {
  return {
    view_set: 'log_entries', view_instance: 'global', begin_insert_time: T0, end_insert_time: T0 + 1n, min_event_time: T0, max_event_time: T0,
    file_path: key, file_size: 3, num_rows: 0, file_schema_hash: 'test', source_data_hash: 'test', created_time: T0,
  };
}

for (const backend of pgBackends) {
  describe(`abandoned partition objects (${backend.name})`, { skip: backend.skip }, () => {
    let t: TestLake;
    before(async () => {
      t = await startTestLake(backend);
    });
    after(async () => t?.close());

    test('a committed object is claimed: the purge never deletes it; an abandoned one goes once its hour has passed', async () => {
      const lake = t.server.lake;
      const kept = partitionKey('log_entries', 'global', T0, T0 + 1n);
      const abandoned = partitionKey('log_entries', 'global', T0, T0 + 1n);
      await putPartitionObject(lake, kept, new Uint8Array([1, 2, 3]));
      await putPartitionObject(lake, abandoned, new Uint8Array([4, 5, 6]));
      await lake.sql.transaction((tx) => insertPartition(tx, record(kept)));
      // within the hour, even with no grace at all, both stay
      assert.equal(await purgeRetiredObjects(lake, 0n), 0);
      assert.ok(await lake.objects.head(abandoned));
      // over an hour later (a negative grace moves the purge's clock): the abandoned object goes, not the committed one
      assert.equal(await purgeRetiredObjects(lake, -(ABANDONED_AFTER_NS + 1_000_000_000n)), 1);
      assert.equal(await lake.objects.head(abandoned), null);
      assert.ok(await lake.objects.head(kept));
    });

    test('a row is refused for an object never scheduled, or whose time has passed', async () => {
      const lake = t.server.lake;
      const unscheduled = partitionKey('log_entries', 'global', T0, T0 + 2n);
      await lake.objects.put(unscheduled, new Uint8Array([7]));
      await assert.rejects(lake.sql.transaction((tx) => insertPartition(tx, record(unscheduled))), /not awaiting its row/);
      const late = partitionKey('log_entries', 'global', T0, T0 + 3n);
      await putPartitionObject(lake, late, new Uint8Array([8]));
      await lake.sql.query('UPDATE lakehouse_retired_objects SET retired_time = 1 WHERE file_path = $1', [late]);
      await assert.rejects(lake.sql.transaction((tx) => insertPartition(tx, record(late))), /not awaiting its row/);
      const rows = await lake.sql.query('SELECT 1 FROM lakehouse_partitions WHERE file_path = ANY($1::text[])', [[unscheduled, late]]);
      assert.equal(rows.length, 0, 'nothing committed');
    });

    test('the daemon\'s first pass removes scratch files a killed process left, not ones being written', async () => {
      const dir = join(t.dir, 'tmp', 'lakehouse');
      await mkdir(dir, { recursive: true });
      const old = join(dir, 'log_entries-killed.parquet');
      const fresh = join(dir, 'log_entries-in-use.parquet');
      await writeFile(old, 'x');
      await writeFile(fresh, 'y');
      const twoHoursAgo = new Date(Date.now() - 7_200_000);
      await utimes(old, twoHoursAgo, twoHoursAgo);
      const daemon = startDaemon({ lake: t.server.lake, dataDir: t.dir, intervalMs: 3_600_000, quiet: true });
      try {
        await daemon.runOnce();
      } finally {
        await daemon.stop();
      }
      assert.deepEqual((await readdir(dir)).filter((n) => n.includes('killed') || n.includes('in-use')), ['log_entries-in-use.parquet']);
    });
  });
}
