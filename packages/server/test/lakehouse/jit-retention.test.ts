import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { BlockEncoder, encodeBlock, lz4SectionsCodec, type BlockMeta } from '@sirius/transit';
import { randomUUID } from 'node:crypto';
import { lz4Codec } from '../../src/lake/lz4-codec.js';
import { materializeBlockView } from '../../src/lakehouse/block-view-materializer.js';
import { createLakehouse, expireData, listPartitions, logEntriesView, parseDuration, type Lakehouse } from '../../src/lakehouse/index.js';
import { pgBackends } from '../support/pg.js';
import { logBlock, makeProcess, makeStream, post, readParquetRows, startTestLake, T0, until, type ExpectedLog, type TestLake } from './lake-fixtures.js';

const DAY = 86_400_000_000_000n;

async function untilNextSecond(): Promise<void> {
  const s = Math.floor(Date.now() / 1000);
  await until('the clock to reach the next second', async () => Math.floor(Date.now() / 1000) > s, 3000);
}

for (const backend of pgBackends) {
  describe(`just-in-time views and retention (${backend.name})`, { skip: backend.skip }, () => {
    let t: TestLake;
    let lh: Lakehouse;
    before(async () => {
      t = await startTestLake(backend);
      lh = createLakehouse({ lake: t.server.lake, dataDir: t.dir });
    });
    after(async () => t?.close());

    test('log_entries of one process is built on demand, cached, and rebuilt when blocks arrive', async () => {
      const a = makeProcess();
      const b = makeProcess();
      const sa = makeStream(a.process_id, ['log']);
      const sb = makeStream(b.process_id, ['log']);
      for (const x of [a, b]) await post(t.server, 'insert_process', x);
      for (const s of [sa, sb]) await post(t.server, 'insert_stream', s);
      const sent: ExpectedLog[] = [];
      for (let i = 0; i < 3; i++) {
        const l = logBlock(sa, i, 20);
        sent.push(...l.rows);
        await post(t.server, 'insert_block', l.body);
        await post(t.server, 'insert_block', logBlock(sb, i, 20).body);
      }
      const range = { begin: T0, end: T0 + 60_000_000_000n };
      const first = await lh.resolve('log_entries', a.process_id, range);
      assert.equal(first.localFiles.length, 0);
      const rows = await readParquetRows(first.objectKeys.map((k) => t.server.lake.objects.localPath(k)!), 'process_id, msg', 'msg');
      assert.deepEqual(rows.map((r) => r.msg), sent.map((e) => e.msg).sort());
      assert.ok(rows.every((r) => r.process_id === a.process_id));
      const again = await lh.resolve('log_entries', a.process_id, range);
      assert.deepEqual(again.objectKeys, first.objectKeys, 'cached');
      const more = logBlock(sa, 10, 5);
      await post(t.server, 'insert_block', more.body);
      const third = await lh.resolve('log_entries', a.process_id, range);
      assert.notDeepEqual(third.objectKeys, first.objectKeys, 'rebuilt');
      const rows3 = await readParquetRows(third.objectKeys.map((k) => t.server.lake.objects.localPath(k)!), 'msg', 'msg');
      assert.equal(rows3.length, sent.length + 5);
      const parts = await listPartitions(t.server.lake.sql, { viewSet: 'log_entries', instance: a.process_id });
      assert.equal(parts.length, 1, 'the stale partition was replaced');
    });

    test('thread_spans of a cpu stream is built from its blocks', async () => {
      const p = makeProcess();
      const cpu = makeStream(p.process_id, ['cpu']);
      await post(t.server, 'insert_process', p);
      await post(t.server, 'insert_stream', cpu);
      const enc = new BlockEncoder();
      for (let i = 0; i < 10; i++) {
        enc.beginThreadSpan(i * 1000, 'frame', 'game', 'loop.ts', 1);
        enc.beginThreadSpan(i * 1000 + 100, 'update', 'game', 'loop.ts', 2);
        enc.endThreadSpan(i * 1000 + 300, 'update', 'game', 'loop.ts', 2);
        enc.endThreadSpan(i * 1000 + 900, 'frame', 'game', 'loop.ts', 1);
      }
      const meta: BlockMeta = {
        block_id: randomUUID(), stream_id: cpu.stream_id, process_id: p.process_id, begin_time: T0, begin_ticks: 0n,
        end_time: T0 + 5000n, end_ticks: 10_000n, nb_objects: 40,
      };
      // as the tracing library sends it (codec 2)
      await post(t.server, 'insert_block', encodeBlock(meta, enc.finish(), lz4SectionsCodec(lz4Codec)));
      const src = await lh.resolve('thread_spans', cpu.stream_id, { begin: T0, end: T0 + 1_000_000n });
      const rows = await readParquetRows(src.objectKeys.map((k) => t.server.lake.objects.localPath(k)!), 'name, depth, duration', 'name');
      assert.equal(rows.length, 20);
      assert.equal(rows.filter((r) => r.name === 'update' && r.depth === 1 && r.duration === 100n).length, 10);
    });

    test('retention removes expired blocks and partitions and nothing else', async () => {
      const p = makeProcess();
      const s = makeStream(p.process_id, ['log']);
      await post(t.server, 'insert_process', p);
      await post(t.server, 'insert_stream', s);
      // earlier tests' blocks go to partitions of their own first
      await untilNextSecond();
      while ((await materializeBlockView(t.server.lake, logEntriesView, { dataDir: t.dir, lagNs: 0n })) === 'progress');
      const old = logBlock(s, -864_000_000, 10); // ten days before T0
      await post(t.server, 'insert_block', old.body);
      await untilNextSecond();
      while ((await materializeBlockView(t.server.lake, logEntriesView, { dataDir: t.dir, lagNs: 0n })) === 'progress');
      const recent = logBlock(s, 5, 10);
      await post(t.server, 'insert_block', recent.body);
      await untilNextSecond();
      while ((await materializeBlockView(t.server.lake, logEntriesView, { dataDir: t.dir, lagNs: 0n })) === 'progress');
      const globalBefore = await listPartitions(t.server.lake.sql, { viewSet: 'log_entries', instance: 'global' });
      const oldParts = globalBefore.filter((x) => x.max_event_time < T0 - 5n * DAY);
      assert.ok(oldParts.length >= 1);

      const r = await expireData(t.server.lake, parseDuration('5d'), { now: T0 + DAY, batch: 2 });
      assert.ok(r.blocks >= 1);
      const blocks = await t.server.lake.sql.query<{ block_id: string }>('SELECT block_id FROM blocks');
      const ids = new Set(blocks.map((x) => x.block_id));
      assert.ok(!ids.has(old.meta.block_id), 'old block row gone');
      assert.ok(ids.has(recent.meta.block_id), 'recent block kept');
      assert.equal(await t.server.lake.objects.head(`blobs/${p.process_id}/${s.stream_id}/${old.meta.block_id}`), null);
      assert.notEqual(await t.server.lake.objects.head(`blobs/${p.process_id}/${s.stream_id}/${recent.meta.block_id}`), null);
      const globalAfter = await listPartitions(t.server.lake.sql, { viewSet: 'log_entries', instance: 'global' });
      assert.deepEqual(
        globalAfter.map((x) => x.file_path).sort(),
        globalBefore.filter((x) => x.max_event_time >= T0 - 4n * DAY).map((x) => x.file_path).sort(),
      );
    });
  });
}
