/**
 * Security finding 4: a just-in-time view over a long range must cost what its data costs, stop when its query
 * is cancelled, and leave the event loop free (on PGlite the metadata store runs in-process).
 *
 * Attacks:
 * - a 5,000-day range over a process with two hours of logs (once walked hour by hour: 120,000 segments,
 *   ~600,000 statements); SQL round-trips are counted by a wrapping SqlClient;
 * - a block whose [begin_time, end_time] spans hours, next to one inside it: each hour once, rows once;
 * - a block claiming to span 4,000 days (events in 1970 and today): once a segment per hour in between;
 * - an aborted signal: before the start, after the first segment, during a block fetch that never returns,
 *   and for one of two queries sharing a build;
 * - a long-range resolve on PGlite while timers must keep firing (what /health needs).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { BlockEncoder, encodeBlock, type BlockMeta, type ProcessInfo, type StreamInfo } from '@sirius/transit';
import { lz4Codec } from '../../src/lake/lz4-codec.js';
import { createLakehouse, listPartitions, type TimeRange, type ViewSource } from '../../src/lakehouse/index.js';
import { jitBuildsSettled } from '../../src/lakehouse/jit-views.js';
import { createQueryEngine } from '../../src/analytics/query-engine.js';
import type { QueryError } from '../../src/analytics/query-error.js';
import type { Lake } from '../../src/lake/lake.js';
import type { ObjectStore } from '../../src/lake/object-store.js';
import type { SqlClient } from '../../src/lake/sql-client.js';
import { pgBackends } from '../support/pg.js';
import { within } from './gated-store.js';
import { cpuBlock, eventLoopStallProbe, FRAMES } from './jit-long-range-fixtures.js';
import { logBlock, makeProcess, makeStream, post, readParquetRows, startTestLake, T0, type TestLake } from './lake-fixtures.js';

const HOUR = 3_600_000_000_000n;
const DAY = 24n * HOUR;
const HOUR_MS = 3_600_000;
/** 5,000 days back from a day past T0: all the test data and 120,000 hours of nothing */
const LONG: TimeRange = { begin: T0 - 5000n * DAY, end: T0 + DAY };

/** A real SqlClient that counts the statements sent through it (a transaction counts BEGIN and COMMIT). */
function countingSql(inner: SqlClient, counter: { n: number }): SqlClient {
  return {
    dialect: inner.dialect,
    query<R>(sql: string, params?: readonly unknown[]) {
      counter.n++;
      return inner.query<R>(sql, params);
    },
    transaction<T>(fn: (tx: SqlClient) => Promise<T>) {
      counter.n += 2;
      return inner.transaction((tx) => fn(countingSql(tx, counter)));
    },
    close: async () => {},
  };
}

/** An object store calling hooks before gets and after puts. */
function hookedStore(inner: ObjectStore, hooks: { beforeGet?(key: string): Promise<void>; afterPut?(key: string): void }): ObjectStore {
  return {
    uri: inner.uri,
    async put(key, body) {
      const r = await inner.put(key, body);
      hooks.afterPut?.(key);
      return r;
    },
    async get(key) {
      await hooks.beforeGet?.(key);
      return inner.get(key);
    },
    head: (key) => inner.head(key),
    delete: (keys) => inner.delete(keys),
    list: (p) => inner.list(p),
    localPath: (key) => inner.localPath(key),
    ping: () => inner.ping(),
    close: async () => {},
  };
}

/** Waits for `event`; fails at once (instead of at the deadline) if `resolving` settles first. */
async function reachedFirst<T>(event: Promise<void>, resolving: Promise<T>, what: string): Promise<void> {
  const early = resolving.then(
    () => Promise.reject(new Error(`the resolve ended before ${what}`)),
    (err: unknown) => Promise.reject(new Error(`the resolve failed before ${what}: ${String(err)}`)),
  );
  await within(Promise.race([event, early]), 20_000, what);
}

/**
 * A log block at `offsetNs` after T0 with events at the given offsets from its begin (codec 1), for a process
 * clock of `nsPerTick` (2 ticks/ns by default, as makeProcess; ticks must stay below 2^53).
 */
function logBlockAt(stream: StreamInfo, offsetNs: bigint, eventsNs: bigint[], endNs: bigint, nsPerTick = 0.5): { body: Uint8Array; meta: BlockMeta } {
  const enc = new BlockEncoder();
  const ticks = (ns: bigint) => BigInt(Math.round(Number(ns) / nsPerTick));
  eventsNs.forEach((e, k) => enc.log(Number(ticks(e)), 3, 'wide', `w ${offsetNs} ${k}`, null));
  const begin = offsetNs < 0n ? 0n : ticks(offsetNs);
  const meta: BlockMeta = {
    block_id: randomUUID(), stream_id: stream.stream_id, process_id: stream.process_id,
    begin_time: T0 + offsetNs, begin_ticks: begin, end_time: T0 + offsetNs + endNs, end_ticks: begin + ticks(endNs),
    nb_objects: eventsNs.length,
  };
  return { body: encodeBlock(meta, enc.finish(), lz4Codec), meta };
}

for (const backend of pgBackends) {
  describe(`just-in-time views over long ranges (${backend.name})`, { skip: backend.skip }, () => {
    let t: TestLake;
    before(async () => {
      t = await startTestLake(backend);
    });
    after(async () => t?.close());

    /** A process with a log stream holding blocks at the given hours after T0, and a cpu stream of `cpuBlocks` blocks. */
    async function newProcess(logHours: number[], cpuBlocks = 0, tsc?: number): Promise<{ p: ProcessInfo; log: StreamInfo; cpu: StreamInfo }> {
      const p = makeProcess(tsc ? { tsc_frequency: tsc } : {});
      const log = makeStream(p.process_id, ['log']);
      const cpu = makeStream(p.process_id, ['cpu']);
      await post(t.server, 'insert_process', p);
      await post(t.server, 'insert_stream', log);
      await post(t.server, 'insert_stream', cpu);
      for (const h of logHours) {
        for (let i = 0; i < 2; i++) await post(t.server, 'insert_block', logBlock(log, h * HOUR_MS + i, 10).body);
      }
      for (let i = 0; i < cpuBlocks; i++) await post(t.server, 'insert_block', cpuBlock(cpu, i).body);
      return { p, log, cpu };
    }

    function paths(src: ViewSource): string[] {
      return src.objectKeys.map((k) => t.server.lake.objects.localPath(k)!);
    }

    async function logRows(src: ViewSource) {
      return readParquetRows(paths(src), 'block_id, time, msg', 'time, msg');
    }

    /** Rows and objects agree: every row's object exists, every object has a row or awaits deletion. */
    async function assertConsistent(view: string, instance: string): Promise<void> {
      const keys: string[] = [];
      for await (const o of t.server.lake.objects.list(`views/${view}/${instance}/`)) keys.push(o.key);
      const rows = await listPartitions(t.server.lake.sql, { viewSet: view, instance });
      const retired = await t.server.lake.sql.query<{ file_path: string }>(
        'SELECT file_path FROM lakehouse_retired_objects WHERE file_path LIKE $1',
        [`views/${view}/${instance}/%`],
      );
      const owned = new Set([...rows.map((p) => p.file_path), ...retired.map((r) => r.file_path)]);
      for (const k of keys) assert.ok(owned.has(k), `object ${k} has no row and is not awaiting deletion`);
      for (const r of rows) assert.ok(keys.includes(r.file_path), `row ${r.file_path} points at no object`);
      const scratch = await readdir(join(t.dir, 'tmp', 'lakehouse')).catch(() => [] as string[]);
      assert.deepEqual(scratch.filter((f) => f.startsWith(view)), [], 'no scratch file left behind');
    }

    test('log_entries over 5,000 days costs the two hours that hold data', async () => {
      const { p } = await newProcess([0, 5]);
      const counter = { n: 0 };
      const lake: Lake = { sql: countingSql(t.server.lake.sql, counter), objects: t.server.lake.objects };
      const lh = createLakehouse({ lake, dataDir: t.dir });

      const long = await lh.resolve('log_entries', p.process_id, LONG);
      const built = counter.n;
      assert.equal(long.objectKeys.length, 2, 'one partition per hour with data');
      // a build is about 15 statements; walking the range hour by hour took 5 per hour: 600,000
      assert.ok(built <= 50, `building over 5,000 days took ${built} statements`);

      counter.n = 0;
      const again = await lh.resolve('log_entries', p.process_id, LONG);
      assert.deepEqual(again.objectKeys, long.objectKeys, 'cached');
      assert.ok(counter.n <= 15, `checking the cache over 5,000 days took ${counter.n} statements`);

      const exact = await lh.resolve('log_entries', p.process_id, { begin: T0, end: T0 + 6n * HOUR });
      assert.deepEqual(exact.objectKeys, long.objectKeys);
      const rows = await logRows(long);
      assert.equal(rows.length, 2 * 2 * 10);
      assert.deepEqual(rows, await logRows(exact));

      counter.n = 0;
      const none = await lh.resolve('log_entries', p.process_id, { begin: T0 - 5000n * DAY, end: T0 - DAY });
      assert.deepEqual(none.objectKeys, []);
      assert.ok(counter.n <= 2, `an empty 5,000-day range took ${counter.n} statements`);
    });

    test('a block spanning hours, and one inside it: each hour built once, each row once', async () => {
      const { p, log } = await newProcess([]);
      const wide = logBlockAt(log, 0n, [0n, HOUR + 1n, 2n * HOUR + 2n, 3n * HOUR + 3n], 3n * HOUR + 4n);
      const inner = logBlockAt(log, HOUR + 10n, [0n, 5n], 6n);
      await post(t.server, 'insert_block', wide.body);
      await post(t.server, 'insert_block', inner.body);
      const lh = createLakehouse({ lake: t.server.lake, dataDir: t.dir });
      const long = await lh.resolve('log_entries', p.process_id, LONG);
      const rows = await logRows(long);
      assert.equal(rows.length, 6);
      assert.equal(new Set(rows.map((r) => `${r.msg}`)).size, 6, 'no row twice');
      // T0 sits 1,600 s into its hour, so the wide block's 3 h 4 ns reach into a fourth hour (with no event)
      const parts = await listPartitions(t.server.lake.sql, { viewSet: 'log_entries', instance: p.process_id });
      assert.equal(parts.length, 4, 'one segment per hour the blocks span');
      const exact = await lh.resolve('log_entries', p.process_id, { begin: T0, end: T0 + 4n * HOUR });
      assert.deepEqual(await logRows(exact), rows);
    });

    test('a block claiming to span 4,000 days costs the hours of its events', async () => {
      // a millisecond clock, so ticks 4,000 days apart stay exact
      const { p, log } = await newProcess([], 0, 1000);
      // an event stamped 4,000 days ago next to one of now, as a client with a broken clock sends them
      const span = 4000n * DAY;
      const liar = logBlockAt(log, -span, [0n, span + 1_000_000n], span + 2_000_000n, 1e6);
      await post(t.server, 'insert_block', liar.body);
      const counter = { n: 0 };
      const lake: Lake = { sql: countingSql(t.server.lake.sql, counter), objects: t.server.lake.objects };
      const lh = createLakehouse({ lake, dataDir: t.dir });
      const long = await lh.resolve('log_entries', p.process_id, LONG);
      assert.ok(counter.n <= 50, `the block took ${counter.n} statements`);
      assert.equal(long.objectKeys.length, 2, 'the two hours with an event');
      const rows = await logRows(long);
      assert.equal(rows.length, 2);
      // a range of the first hour only sees its event
      const early = await lh.resolve('log_entries', p.process_id, { begin: T0 - span, end: T0 - span + 1000n });
      assert.deepEqual((await logRows(early)).map((r) => r.msg), [rows[0]!.msg]);
    });

    test('thread_spans over 5,000 days: the rows of the exact range, a handful of statements', async () => {
      const { cpu } = await newProcess([], 3);
      const counter = { n: 0 };
      const lh = createLakehouse({ lake: { sql: countingSql(t.server.lake.sql, counter), objects: t.server.lake.objects }, dataDir: t.dir });
      const long = await lh.resolve('thread_spans', cpu.stream_id, LONG);
      assert.ok(counter.n <= 25, `thread_spans over 5,000 days took ${counter.n} statements`);
      const exact = await lh.resolve('thread_spans', cpu.stream_id, { begin: T0, end: T0 + HOUR });
      const cols = 'id, parent, depth, "begin", "end", name';
      const rows = await readParquetRows(paths(long), cols, 'id');
      assert.equal(rows.length, 3 * FRAMES * 2);
      assert.deepEqual(rows, await readParquetRows(paths(exact), cols, 'id'));
    });

    test('an already aborted signal: rejects with its reason before any statement', async () => {
      const { p } = await newProcess([0]);
      const counter = { n: 0 };
      const lh = createLakehouse({ lake: { sql: countingSql(t.server.lake.sql, counter), objects: t.server.lake.objects }, dataDir: t.dir });
      const signal = AbortSignal.abort();
      await assert.rejects(lh.resolve('log_entries', p.process_id, LONG, { signal }), { name: 'AbortError' });
      await assert.rejects(lh.resolve('log_entries', 'global', LONG, { signal }), { name: 'AbortError' });
      assert.equal(counter.n, 0);
      assert.deepEqual(await listPartitions(t.server.lake.sql, { viewSet: 'log_entries', instance: p.process_id }), []);
    });

    test('aborted after the first segment: stops there, the first partition whole, nothing half-written', async () => {
      const { p } = await newProcess([0, 1, 2, 3]);
      const controller = new AbortController();
      const reason = new Error('the client went away');
      let puts = 0;
      const objects = hookedStore(t.server.lake.objects, {
        afterPut(key) {
          if (!key.startsWith('views/log_entries/')) return;
          puts++;
          controller.abort(reason);
        },
      });
      const lake: Lake = { sql: t.server.lake.sql, objects };
      const lh = createLakehouse({ lake, dataDir: t.dir });
      await assert.rejects(within(lh.resolve('log_entries', p.process_id, LONG, { signal: controller.signal }), 20_000, 'the aborted resolve'), (err) => err === reason);
      await jitBuildsSettled(lake);
      assert.equal(puts, 1, 'no segment after the first was built');
      const parts = await listPartitions(t.server.lake.sql, { viewSet: 'log_entries', instance: p.process_id });
      assert.equal(parts.length, 1, 'the uploaded segment was committed whole');
      await assertConsistent('log_entries', p.process_id);
      // and the next query picks up where this one stopped
      const next = await createLakehouse({ lake: t.server.lake, dataDir: t.dir }).resolve('log_entries', p.process_id, LONG);
      assert.equal(next.objectKeys.length, 4);
      assert.ok(next.objectKeys.includes(parts[0]!.file_path));
    });

    test('aborted while a block fetch hangs: rejects at once, and the build stops before writing', async () => {
      const { p } = await newProcess([0]);
      const controller = new AbortController();
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      let fetching!: () => void;
      const fetched = new Promise<void>((r) => (fetching = r));
      let puts = 0;
      const objects = hookedStore(t.server.lake.objects, {
        async beforeGet(key) {
          if (!key.startsWith(`blobs/${p.process_id}/`)) return;
          fetching();
          await gate;
        },
        afterPut(key) {
          if (key.startsWith('views/')) puts++;
        },
      });
      const lake: Lake = { sql: t.server.lake.sql, objects };
      const resolving = createLakehouse({ lake, dataDir: t.dir }).resolve('log_entries', p.process_id, LONG, { signal: controller.signal });
      resolving.catch(() => {});
      try {
        await reachedFirst(fetched, resolving, 'the build reaching its block fetch');
        controller.abort();
        await assert.rejects(within(resolving, 5_000, 'the aborted resolve'), { name: 'AbortError' });
      } finally {
        release();
      }
      await jitBuildsSettled(lake);
      assert.equal(puts, 0, 'nothing written after the abort');
      assert.deepEqual(await listPartitions(t.server.lake.sql, { viewSet: 'log_entries', instance: p.process_id }), []);
      await assertConsistent('log_entries', p.process_id);
    });

    test('through the query engine: a query whose view build hangs ends at its time budget and frees its slot', async () => {
      const { p } = await newProcess([0]);
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      const objects = hookedStore(t.server.lake.objects, {
        async beforeGet(key) {
          if (key.startsWith(`blobs/${p.process_id}/`)) await gate;
        },
      });
      const lake: Lake = { sql: t.server.lake.sql, objects };
      // one query slot: the second query runs only if the first gave its slot back
      const engine = await createQueryEngine({
        lake, lakehouse: createLakehouse({ lake, dataDir: t.dir }), cacheDir: join(t.dir, 'engine-cache'), limits: { timeoutMs: 500, maxConcurrent: 1 },
      });
      try {
        await assert.rejects(
          within(engine.query(`SELECT count(*) AS n FROM view_instance('log_entries', '${p.process_id}')`, LONG), 10_000, 'the hung query'),
          (e: QueryError) => e.code === 'timeout',
        );
        // its own generous budget: on a loaded machine planning over the long range alone can take 500 ms
        const next = await within(engine.query('SELECT 42 AS answer', LONG, { timeoutMs: 30_000 }), 10_000, 'the next query');
        assert.equal(Number(next.table.getChild('answer')!.get(0)), 42);
      } finally {
        release();
        await engine.close();
      }
      await jitBuildsSettled(lake);
    });

    test('one of two queries sharing a build is cancelled: the other still gets it', async () => {
      const { p } = await newProcess([0]);
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      let fetching!: () => void;
      const fetched = new Promise<void>((r) => (fetching = r));
      const objects = hookedStore(t.server.lake.objects, {
        async beforeGet(key) {
          if (!key.startsWith(`blobs/${p.process_id}/`)) return;
          fetching();
          await gate;
        },
      });
      const lh = createLakehouse({ lake: { sql: t.server.lake.sql, objects }, dataDir: t.dir });
      const cancelled = new AbortController();
      const a = lh.resolve('log_entries', p.process_id, LONG, { signal: cancelled.signal });
      a.catch(() => {});
      const b = lh.resolve('log_entries', p.process_id, LONG, { signal: new AbortController().signal });
      b.catch(() => {});
      try {
        await reachedFirst(fetched, Promise.all([a, b]), 'the shared build reaching its block fetch');
        cancelled.abort();
        await assert.rejects(within(a, 5_000, 'the cancelled resolve'), { name: 'AbortError' });
      } finally {
        release();
      }
      const src = await within(b, 20_000, 'the other resolve');
      assert.equal(src.objectKeys.length, 1);
      assert.equal((await logRows(src)).length, 2 * 10);
    });

    test('the event loop keeps turning during a long-range resolve', { skip: backend.name !== 'pglite' && 'PGlite only: a server runs queries off the event loop' }, async () => {
      const { p } = await newProcess(Array.from({ length: 24 }, (_, i) => i * 3));
      const lh = createLakehouse({ lake: t.server.lake, dataDir: t.dir });
      for (const pass of ['build', 'cached']) {
        const probe = eventLoopStallProbe();
        let src: ViewSource;
        let stall = 0;
        try {
          src = await lh.resolve('log_entries', p.process_id, { begin: LONG.begin, end: T0 + 4n * DAY });
        } finally {
          stall = await probe.stop();
        }
        assert.equal(src.objectKeys.length, 24);
        assert.ok(stall < 1000, `${pass}: the event loop stalled for ${stall.toFixed(0)} ms`);
      }
    });
  });
}
