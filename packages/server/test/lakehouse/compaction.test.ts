import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { nowNs } from '../../src/clock.js';
import { materializeBlockView, MINUTE, HOUR } from '../../src/lakehouse/block-view-materializer.js';
import { compactView } from '../../src/lakehouse/compactor.js';
import { materializeSqlView } from '../../src/lakehouse/sql-view-materializer.js';
import { createLakehouse, listPartitions, logEntriesView, logStatsView, measuresView } from '../../src/lakehouse/index.js';
import type { Lake } from '../../src/lake/lake.js';
import { pgBackends } from '../support/pg.js';
import { logBlock, makeProcess, makeStream, post, readParquetRows, startTestLake, T0, until, type ExpectedLog, type TestLake } from './lake-fixtures.js';

const ALL = { begin: T0 - 1_000_000_000_000n, end: T0 + 1_000_000_000_000n };

async function untilNextSecond(): Promise<void> {
  const s = Math.floor(Date.now() / 1000);
  await until('the clock to reach the next second', async () => Math.floor(Date.now() / 1000) > s, 3000);
}

async function stepAll(lake: Lake, dir: string, now?: bigint) {
  const opts = { dataDir: dir, lagNs: 0n, now };
  while ((await materializeBlockView(lake, logEntriesView, opts)) === 'progress');
  while ((await materializeBlockView(lake, measuresView, opts)) === 'progress');
  while ((await materializeSqlView(lake, logStatsView, opts)) === 'progress');
}

async function visible(t: TestLake, view: string, columns: string, order: string, groupBy = '') {
  const src = await createLakehouse({ lake: t.server.lake, dataDir: t.dir }).resolve(view, 'global', ALL);
  try {
    return await readParquetRows([...src.objectKeys.map((k) => t.server.lake.objects.localPath(k)!), ...src.localFiles], columns, order, groupBy);
  } finally {
    await src.release();
  }
}

for (const backend of pgBackends) {
  describe(`lakehouse compaction (${backend.name})`, { skip: backend.skip }, () => {
    let t: TestLake;
    const logs: ExpectedLog[] = [];

    before(async () => {
      t = await startTestLake(backend);
    });
    after(async () => t?.close());

    test('per-second partitions merge into a minute, then an hour, with every row and count kept', async () => {
      const proc = makeProcess();
      const ls = makeStream(proc.process_id, ['log']);
      await post(t.server, 'insert_process', proc);
      await post(t.server, 'insert_stream', ls);
      for (let round = 0; round < 3; round++) {
        for (let i = 0; i < 3; i++) {
          const b = logBlock(ls, round * 3 + i, 40);
          await post(t.server, 'insert_block', b.body);
          logs.push(...b.rows);
        }
        await untilNextSecond();
        await stepAll(t.server.lake, t.dir);
      }
      const before = await listPartitions(t.server.lake.sql, { viewSet: 'log_entries' });
      assert.ok(before.length >= 2, `expected several per-second partitions, got ${before.length}`);
      const statsBefore = await listPartitions(t.server.lake.sql, { viewSet: 'log_stats' });
      assert.equal(statsBefore.length, before.length);

      // move the watermarks two hours ahead so the minute and the hour are finished, then compact
      await stepAll(t.server.lake, t.dir, nowNs() + 2n * HOUR);
      for (const v of [logEntriesView, logStatsView]) {
        while ((await compactView(t.server.lake, v, { dataDir: t.dir })) === 'progress');
      }
      const afterParts = await listPartitions(t.server.lake.sql, { viewSet: 'log_entries' });
      assert.equal(afterParts.length, 1);
      assert.equal(afterParts[0]!.end_insert_time - afterParts[0]!.begin_insert_time, HOUR);
      assert.equal(afterParts[0]!.num_rows, logs.length);
      const statsAfter = await listPartitions(t.server.lake.sql, { viewSet: 'log_stats' });
      assert.equal(statsAfter.length, 1);

      const rows = await visible(t, 'log_entries', 'block_id, msg, epoch_ns(time)::VARCHAR AS time', 'time, msg');
      assert.deepEqual(rows.map((r) => `${r.block_id}/${r.msg}`).sort(), logs.map((e) => `${e.block_id}/${e.msg}`).sort());
      // re-aggregated: one row per group, counts summed
      const stats = await visible(t, 'log_stats', 'level, target, count', 'level, target');
      const expected = new Map<string, number>();
      for (const e of logs) expected.set(`${e.level}/${e.target}`, (expected.get(`${e.level}/${e.target}`) ?? 0) + 1);
      assert.equal(stats.length, expected.size);
      for (const r of stats) assert.equal(Number(r.count), expected.get(`${r.level}/${r.target}`));
      // the replaced objects are queued for deletion, and still readable until the grace period ends
      // (when the seconds straddle a minute boundary, intermediate minute partitions are retired as well)
      const retired = new Set(
        (await t.server.lake.sql.query<{ file_path: string }>('SELECT file_path FROM lakehouse_retired_objects')).map((r) => r.file_path),
      );
      // (a partition alone in its window is kept and widened instead of rewritten)
      const live = new Set([...afterParts, ...statsAfter].map((p) => p.file_path));
      for (const p of live) assert.ok(!retired.has(p), `live partition ${p} retired`);
      for (const p of [...before, ...statsBefore]) assert.ok(retired.has(p.file_path) || live.has(p.file_path), `${p.file_path} was replaced but not retired`);
      assert.ok(retired.size >= before.length + statsBefore.length - live.size, `only ${retired.size} objects retired`);
      void MINUTE;
    });

  });
}
