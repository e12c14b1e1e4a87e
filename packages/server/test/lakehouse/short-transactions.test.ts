/**
 * A lakehouse step builds and uploads its Parquet file outside any transaction: on PGlite (one serialized
 * session) an ingestion INSERT must go through while a step is uploading, not wait for it. And since the
 * advisory lock no longer covers the build, a step whose plan went stale meanwhile must throw its file away.
 *
 * Steps are held in their upload deterministically by an object store whose `put` of partition objects waits
 * on a gate the test opens.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { nowNs } from '../../src/clock.js';
import { dbNowNs, insertBlocks } from '../../src/lake/block-repository.js';
import { blobKey } from '../../src/lake/object-store.js';
import { HOUR, materializeBlockView, type StepResult } from '../../src/lakehouse/block-view-materializer.js';
import { compactView } from '../../src/lakehouse/compactor.js';
import { materializeSqlView } from '../../src/lakehouse/sql-view-materializer.js';
import { createLakehouse, listPartitions, logEntriesView, logStatsView } from '../../src/lakehouse/index.js';
import type { Lake } from '../../src/lake/lake.js';
import type { StreamInfo } from '@sirius/transit';
import { pgBackends } from '../support/pg.js';
import { logBlock, makeProcess, makeStream, post, readParquetRows, startTestLake, T0, until, type ExpectedLog, type TestLake } from './lake-fixtures.js';
import { gatedStore, within } from './gated-store.js';

const ALL = { begin: T0 - 1_000_000_000_000n, end: T0 + 1_000_000_000_000n };
const SECOND = 1_000_000_000n;


/** Waits until the database clock is in a later second than every block's insert_time, so a lag-free step covers them all. */
async function pastLastInsert(t: TestLake): Promise<void> {
  const [r] = await t.server.lake.sql.query<{ t: string | null }>('SELECT max(insert_time) AS t FROM blocks');
  const last = BigInt(r?.t ?? '0');
  await until('the database clock to pass the last insert second', async () => (await dbNowNs(t.server.lake.sql)) / SECOND > last / SECOND, 5000);
}

/** Resolves once `step` is held in its upload; fails (rather than hangs) if it ends without uploading. */
function uploading(reached: Promise<string>, step: Promise<StepResult>, what: string): Promise<string> {
  const ended = step.then((r) => {
    throw new Error(`${what} ended (${r}) without uploading`);
  });
  ended.catch(() => {});
  return within(Promise.race([reached, ended]), 20_000, `${what} reaching its upload`);
}

async function visibleLogs(t: TestLake): Promise<string[]> {
  const src = await createLakehouse({ lake: t.server.lake, dataDir: t.dir }).resolve('log_entries', 'global', ALL);
  try {
    const paths = [...src.objectKeys.map((k) => t.server.lake.objects.localPath(k)!), ...src.localFiles];
    return (await readParquetRows(paths, 'block_id, msg', 'block_id, msg')).map((r) => `${r.block_id}/${r.msg}`);
  } finally {
    await src.release();
  }
}

async function assertExactlyOnce(t: TestLake, sent: readonly ExpectedLog[]): Promise<void> {
  const rows = await visibleLogs(t);
  assert.equal(new Set(rows).size, rows.length, 'no row visible twice');
  assert.deepEqual([...rows].sort(), sent.map((e) => `${e.block_id}/${e.msg}`).sort());
}

/** Every partition object in the store has a row: a discarded build left nothing behind. */
async function assertNoOrphans(t: TestLake): Promise<void> {
  const keys: string[] = [];
  for await (const o of t.server.lake.objects.list('views/log_entries/')) keys.push(o.key);
  const rows = await listPartitions(t.server.lake.sql, { viewSet: 'log_entries' });
  const retired = await t.server.lake.sql.query<{ file_path: string }>('SELECT file_path FROM lakehouse_retired_objects');
  assert.deepEqual(keys.sort(), [...rows.map((p) => p.file_path), ...retired.map((r) => r.file_path)].sort());
}

async function materializeAll(lake: Lake, dir: string, now?: bigint): Promise<void> {
  let r: StepResult;
  do r = await materializeBlockView(lake, logEntriesView, { dataDir: dir, lagNs: 0n, now });
  while (r === 'progress');
  // log_entries is only compacted as far as log_stats, fed by it, has read
  do r = await materializeSqlView(lake, logStatsView, { dataDir: dir });
  while (r === 'progress');
}

for (const backend of pgBackends) {
  describe(`lakehouse steps keep transactions short (${backend.name})`, { skip: backend.skip }, () => {
    let t: TestLake;
    let stream: StreamInfo;
    const sent: ExpectedLog[] = [];
    let index = 0;
    const send = async (n: number) => {
      for (let i = 0; i < n; i++) {
        const b = logBlock(stream, index++, 10);
        await post(t.server, 'insert_block', b.body);
        sent.push(...b.rows);
      }
    };

    before(async () => {
      t = await startTestLake(backend);
      const proc = makeProcess();
      stream = makeStream(proc.process_id, ['log']);
      await post(t.server, 'insert_process', proc);
      await post(t.server, 'insert_stream', stream);
    });
    after(async () => t?.close());

    test('an ingestion INSERT completes while a materialization step is uploading', async () => {
      await send(3);
      await pastLastInsert(t);
      const gated = gatedStore(t.server.lake.objects, 'views/');
      const lake: Lake = { sql: t.server.lake.sql, objects: gated.store };
      let settled = false;
      const step = materializeBlockView(lake, logEntriesView, { dataDir: t.dir, lagNs: 0n });
      void step.finally(() => {
        settled = true;
      }).catch(() => {});
      try {
        await uploading(gated.reached, step, 'the step');
        // a block arrives the way ingestion writes it: payload first, then its row
        const b = logBlock(stream, index++, 10);
        await t.server.lake.objects.put(blobKey(b.meta.process_id, b.meta.stream_id, b.meta.block_id), b.body);
        const { nb_objects, ...meta } = b.meta;
        const n = await within(
          insertBlocks(lake.sql, [{ ...meta, nb_objects, object_offset: 0n, payload_size: b.body.length }]),
          10_000,
          'an INSERT into blocks while a step uploads',
        );
        sent.push(...b.rows);
        assert.equal(n, 1);
        assert.equal(settled, false, 'the INSERT went through while the step was still uploading');
        assert.deepEqual(await listPartitions(lake.sql, { viewSet: 'log_entries' }), [], 'nothing visible before the commit');
        await assertExactlyOnce(t, sent);
      } finally {
        gated.open();
      }
      assert.equal(await step, 'progress');
      await pastLastInsert(t);
      await materializeAll(t.server.lake, t.dir);
      const [tail] = await t.server.lake.sql.query<{ n: string }>(
        `SELECT count(*) AS n FROM blocks WHERE insert_time >= (SELECT watermark FROM lakehouse_watermarks WHERE view_set = 'log_entries')`,
      );
      assert.equal(Number(tail!.n), 0, 'the block inserted during the upload was materialized afterwards');
      await assertExactlyOnce(t, sent);
      await assertNoOrphans(t);
    });

    test('a step whose window another step committed meanwhile discards its file', async () => {
      await send(2);
      await pastLastInsert(t);
      const gated = gatedStore(t.server.lake.objects, 'views/');
      const slow = materializeBlockView({ sql: t.server.lake.sql, objects: gated.store }, logEntriesView, { dataDir: t.dir, lagNs: 0n });
      let slowResult: StepResult;
      try {
        await uploading(gated.reached, slow, 'the slow step');
        assert.equal(await materializeBlockView(t.server.lake, logEntriesView, { dataDir: t.dir, lagNs: 0n }), 'progress');
      } finally {
        gated.open();
        slowResult = await slow;
      }
      assert.equal(slowResult, 'busy');
      await assertExactlyOnce(t, sent);
      await assertNoOrphans(t);
    });

    test('a compaction whose partitions another compaction replaced meanwhile discards its file', async () => {
      // at least two small partitions in one minute
      for (let k = 0; k < 2; k++) {
        await send(1);
        await pastLastInsert(t);
        await materializeAll(t.server.lake, t.dir);
      }
      // finish the minute and the hour, as the compaction test does
      await materializeAll(t.server.lake, t.dir, nowNs() + 2n * HOUR);
      const gated = gatedStore(t.server.lake.objects, 'views/');
      // steps that only widen a lone partition's bounds upload nothing: run them until one merges
      let held = false;
      void gated.reached.then(() => (held = true));
      const slow = (async () => {
        let r: StepResult;
        do r = await compactView({ sql: t.server.lake.sql, objects: gated.store }, logEntriesView, { dataDir: t.dir });
        while (r === 'progress' && !held);
        return r;
      })();
      let slowResult: StepResult;
      try {
        await uploading(gated.reached, slow, 'the slow compaction');
        while ((await compactView(t.server.lake, logEntriesView, { dataDir: t.dir })) === 'progress');
      } finally {
        gated.open();
        slowResult = await slow;
      }
      assert.equal(slowResult, 'busy');
      const parts = await listPartitions(t.server.lake.sql, { viewSet: 'log_entries' });
      assert.equal(parts.length, 1, 'the other compaction merged everything into one partition');
      assert.equal(parts[0]!.num_rows, sent.length);
      await assertExactlyOnce(t, sent);
      await assertNoOrphans(t);
    });
  });
}
