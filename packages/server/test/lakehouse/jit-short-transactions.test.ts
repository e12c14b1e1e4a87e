/**
 * A just-in-time view builds and uploads its Parquet file outside any transaction: on PGlite (one serialized
 * session) an ingestion INSERT must go through while a big trace is being materialized for a query. And since
 * no lock covers the build, two resolvers racing for one instance must still leave one partition row.
 *
 * Builds are held in their upload deterministically by an object store whose `put` of partition objects waits
 * on a gate the test opens.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { BlockEncoder, encodeBlock, type BlockMeta, type StreamInfo } from '@sirius/transit';
import { insertBlocks } from '../../src/lake/block-repository.js';
import { lz4Codec } from '../../src/lake/lz4-codec.js';
import { blobKey } from '../../src/lake/object-store.js';
import { createLakehouse, listPartitions, type ViewSource } from '../../src/lakehouse/index.js';
import type { Lake } from '../../src/lake/lake.js';
import { pgBackends } from '../support/pg.js';
import { makeProcess, makeStream, post, readParquetRows, startTestLake, T0, until, type TestLake } from './lake-fixtures.js';
import { gatedStore, within } from './gated-store.js';

const RANGE = { begin: T0 - 1_000_000_000_000n, end: T0 + 1_000_000_000_000n };
const FRAMES = 10;


/** Waits until `n` puts are held at the gate; fails (rather than hangs) if a resolve ends first. */
async function held(state: { arrived: number }, n: number, resolves: Promise<unknown>[], what: string): Promise<void> {
  let ended: unknown = null;
  for (const r of resolves) void r.then(() => (ended ??= 'resolved'), (e: unknown) => (ended ??= e));
  await until(what, async () => {
    if (ended !== null) throw new Error(`a resolve ended before ${what}: ${String(ended)}`);
    return state.arrived >= n;
  });
}

/** Block `index` of a cpu stream: FRAMES frames, each with a nested update (2 spans a frame). */
function cpuBlock(stream: StreamInfo, index: number): { body: Uint8Array; meta: BlockMeta } {
  const enc = new BlockEncoder();
  for (let i = 0; i < FRAMES; i++) {
    enc.beginThreadSpan(i * 1000, 'frame', 'game', 'loop.ts', 1);
    enc.beginThreadSpan(i * 1000 + 100, 'update', 'game', 'loop.ts', 2);
    enc.endThreadSpan(i * 1000 + 300, 'update', 'game', 'loop.ts', 2);
    enc.endThreadSpan(i * 1000 + 900, 'frame', 'game', 'loop.ts', 1);
  }
  const begin = BigInt(index) * 100_000n;
  const meta: BlockMeta = {
    block_id: randomUUID(), stream_id: stream.stream_id, process_id: stream.process_id,
    begin_time: T0 + begin * 1000n, begin_ticks: begin, end_time: T0 + (begin + 10_000n) * 1000n, end_ticks: begin + 10_000n,
    nb_objects: FRAMES * 4,
  };
  return { body: encodeBlock(meta, enc.finish(), lz4Codec), meta };
}

for (const backend of pgBackends) {
  describe(`just-in-time views keep transactions short (${backend.name})`, { skip: backend.skip }, () => {
    let t: TestLake;
    before(async () => {
      t = await startTestLake(backend);
    });
    after(async () => t?.close());

    async function newCpuStream(blocks: number): Promise<StreamInfo> {
      const p = makeProcess();
      const cpu = makeStream(p.process_id, ['cpu']);
      await post(t.server, 'insert_process', p);
      await post(t.server, 'insert_stream', cpu);
      for (let i = 0; i < blocks; i++) await post(t.server, 'insert_block', cpuBlock(cpu, i).body);
      return cpu;
    }

    async function spanCount(src: ViewSource): Promise<number> {
      const rows = await readParquetRows(src.objectKeys.map((k) => t.server.lake.objects.localPath(k)!), 'count(*) AS n', 'n');
      return Number(rows[0]!.n);
    }

    /** Every object under the instance's prefix has a partition row or is queued for deletion. */
    async function assertNoOrphans(stream: string): Promise<void> {
      const keys: string[] = [];
      for await (const o of t.server.lake.objects.list(`views/thread_spans/${stream}/`)) keys.push(o.key);
      const rows = await listPartitions(t.server.lake.sql, { viewSet: 'thread_spans', instance: stream });
      const retired = await t.server.lake.sql.query<{ file_path: string }>(
        'SELECT file_path FROM lakehouse_retired_objects WHERE file_path LIKE $1',
        [`views/thread_spans/${stream}/%`],
      );
      assert.deepEqual(keys.sort(), [...rows.map((p) => p.file_path), ...retired.map((r) => r.file_path)].sort());
    }

    test('an ingestion INSERT completes while a thread_spans materialization is uploading', async () => {
      const cpu = await newCpuStream(3);
      const gated = gatedStore(t.server.lake.objects, 'views/thread_spans/');
      const lake: Lake = { sql: t.server.lake.sql, objects: gated.store };
      let settled = false;
      const resolving = createLakehouse({ lake, dataDir: t.dir }).resolve('thread_spans', cpu.stream_id, RANGE);
      void resolving.finally(() => (settled = true)).catch(() => {});
      try {
        await held(gated.state, 1, [resolving], 'the materialization reaching its upload');
        // a block arrives the way ingestion writes it: payload first, then its row
        const b = cpuBlock(cpu, 3);
        await t.server.lake.objects.put(blobKey(b.meta.process_id, b.meta.stream_id, b.meta.block_id), b.body);
        const { nb_objects, ...meta } = b.meta;
        const n = await within(
          insertBlocks(lake.sql, [{ ...meta, nb_objects, object_offset: 0n, payload_size: b.body.length }]),
          10_000,
          'an INSERT into blocks while a JIT view uploads',
        );
        assert.equal(n, 1);
        assert.equal(settled, false, 'the INSERT went through while the materialization was still uploading');
        assert.deepEqual(await listPartitions(lake.sql, { viewSet: 'thread_spans', instance: cpu.stream_id }), [], 'nothing visible before the commit');
      } finally {
        gated.state.open();
      }
      const first = await within(resolving, 20_000, 'the held resolve');
      assert.equal(first.objectKeys.length, 1);
      assert.equal(await spanCount(first), 3 * FRAMES * 2, 'the query sees the blocks it was planned with');
      const parts = await listPartitions(t.server.lake.sql, { viewSet: 'thread_spans', instance: cpu.stream_id });
      assert.deepEqual(parts.map((p) => p.file_path), first.objectKeys);

      // the block inserted during the upload makes the next query rebuild, replacing the partition
      const lh = createLakehouse({ lake: t.server.lake, dataDir: t.dir });
      const second = await lh.resolve('thread_spans', cpu.stream_id, RANGE);
      assert.notDeepEqual(second.objectKeys, first.objectKeys);
      assert.equal(await spanCount(second), 4 * FRAMES * 2);
      const again = await lh.resolve('thread_spans', cpu.stream_id, RANGE);
      assert.deepEqual(again.objectKeys, second.objectKeys, 'cached while no block arrives');
      const now = await listPartitions(t.server.lake.sql, { viewSet: 'thread_spans', instance: cpu.stream_id });
      assert.deepEqual(now.map((p) => p.file_path), second.objectKeys, 'the stale partition was replaced');
      await assertNoOrphans(cpu.stream_id);
    });

    test('two resolvers racing for one instance commit one partition and both use it', async () => {
      const cpu = await newCpuStream(2);
      const gated = gatedStore(t.server.lake.objects, 'views/thread_spans/');
      // two lakes (as in two query processes), so both build and race at commit
      const resolvers = [0, 1].map(() =>
        createLakehouse({ lake: { sql: t.server.lake.sql, objects: gated.store }, dataDir: t.dir }).resolve('thread_spans', cpu.stream_id, RANGE),
      );
      let results: ViewSource[];
      try {
        await held(gated.state, 2, resolvers, 'both materializations reaching their upload');
      } finally {
        gated.state.open();
        results = await within(Promise.all(resolvers), 20_000, 'the racing resolves');
      }
      assert.equal(results[0]!.objectKeys.length, 1);
      assert.deepEqual(results[1]!.objectKeys, results[0]!.objectKeys, 'both use the committed partition');
      const parts = await listPartitions(t.server.lake.sql, { viewSet: 'thread_spans', instance: cpu.stream_id });
      assert.deepEqual(parts.map((p) => p.file_path), results[0]!.objectKeys, 'one partition row');
      assert.equal(parts[0]!.num_rows, 2 * FRAMES * 2);
      await assertNoOrphans(cpu.stream_id);
      const retired = await t.server.lake.sql.query('SELECT 1 FROM lakehouse_retired_objects WHERE file_path LIKE $1', [`views/thread_spans/${cpu.stream_id}/%`]);
      assert.equal(retired.length, 0, 'the loser deleted its object instead of committing and retiring');
    });

    test('concurrent queries in one process share one build', async () => {
      const cpu = await newCpuStream(2);
      const gated = gatedStore(t.server.lake.objects, 'views/thread_spans/');
      const lh = createLakehouse({ lake: { sql: t.server.lake.sql, objects: gated.store }, dataDir: t.dir });
      const resolvers = [0, 1].map(() => lh.resolve('thread_spans', cpu.stream_id, RANGE));
      let results: ViewSource[];
      try {
        await held(gated.state, 1, resolvers, 'the materialization reaching its upload');
      } finally {
        gated.state.open();
        results = await within(Promise.all(resolvers), 20_000, 'the concurrent resolves');
      }
      assert.equal(gated.state.arrived, 1, 'one upload');
      assert.deepEqual(results[1]!.objectKeys, results[0]!.objectKeys);
      assert.equal((await listPartitions(t.server.lake.sql, { viewSet: 'thread_spans', instance: cpu.stream_id })).length, 1);
      await assertNoOrphans(cpu.stream_id);
    });
  });
}
