/**
 * One minute of thread spans inside streams of 10 min, 1 h and 6 h at 50,000 spans/s: the first query (segments
 * built from blocks) and the same query again (cached partitions), through the query engine, with the same
 * minute in the middle of each stream. Target: < 1 s first, flat as the stream grows; < 100 ms repeated.
 *
 * The lake is made directly, not by a live process: a block row for every second of the stream (real
 * metadata, in PostgreSQL or PGlite), and a payload object only for the blocks within 2 minutes of the queried
 * minute (one encoded second of frames, 100,000 events, reused: event times are relative to their block, so the
 * same payload is correct at any block position). The object store counts every block it is asked for, and the
 * run fails if a query asks for a block outside the minute and its reach: a block without a payload would
 * otherwise be skipped (and logged) rather than slow the query down, and the figures would flatter.
 * Runs alone: `node --conditions=sirius-source --import tsx bench/src/trace-range.ts [minutes…]`.
 * PostgreSQL when SIRIUS_BENCH_PG (or SIRIUS_TEST_PG) is set, else PGlite.
 */
import { DuckDBInstance } from '@duckdb/node-api';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openLake } from '../../packages/server/src/lake/open-lake.js';
import type { ObjectStore } from '../../packages/server/src/lake/object-store.js';
import { createLakehouse } from '../../packages/server/src/lakehouse/index.js';
import { SPAN_REACH } from '../../packages/server/src/lakehouse/span-segments.js';
import { createQueryEngine } from '../../packages/server/src/analytics/query-engine.js';
import { createDatabase } from './ingestion-server.js';
import { GAME_T0 as T0, secondOfFrames, writeGameStream } from './game-second.js';

const SPANS_PER_SECOND = 50_000;
const SEC = 1_000_000_000n;
const WITH_PAYLOAD = 120n * SEC;

/** The object store, counting the block payloads asked for. */
function counting(objects: ObjectStore, asked: string[]): ObjectStore {
  return new Proxy(objects, {
    get(target, prop, receiver) {
      if (prop === 'get') {
        return (key: string) => {
          if (key.startsWith('blobs/')) asked.push(key);
          return target.get(key);
        };
      }
      const v = Reflect.get(target, prop, receiver);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
}

const ms = (t: number) => Math.round(t * 10) / 10;

export async function run(lengthsMin: number[] = [10, 60, 360]): Promise<Record<string, number | string>> {
  const base = process.env.SIRIUS_BENCH_PG ?? process.env.SIRIUS_TEST_PG;
  const db = base ? await createDatabase(base) : undefined;
  const dir = await mkdtemp(join(tmpdir(), 'sirius-bench-trace-range-'));
  const lake = await openLake({ sqlConnectionString: db?.url, dataDir: dir, objectStoreUri: `file://${join(dir, 'objects')}` });
  const asked: string[] = [];
  const counted = { sql: lake.sql, objects: counting(lake.objects, asked) };
  const out: Record<string, number | string> = { metadata: db ? 'PostgreSQL' : 'PGlite', 'spans per second': SPANS_PER_SECOND };
  try {
    out['events per 1 s block'] = secondOfFrames(SPANS_PER_SECOND).events;
    const lakehouse = createLakehouse({ lake: counted, dataDir: dir });
    const engine = await createQueryEngine({ lake: counted, lakehouse, cacheDir: join(dir, 'cache'), limits: { timeoutMs: 600_000 } });
    const firsts: number[] = [];
    try {
      for (const minutes of lengthsMin) {
        const seconds = minutes * 60;
        // the queried minute: in the middle, not on a segment edge
        const q = { begin: T0 + BigInt(Math.floor(seconds / 2)) * SEC + 17n * SEC, end: 0n };
        q.end = q.begin + 60n * SEC;
        const genStart = performance.now();
        const { streamId, objects } = await writeGameStream(lake, seconds, SPANS_PER_SECOND, (b, e) => e > q.begin - WITH_PAYLOAD && b < q.end + WITH_PAYLOAD);
        out[`${minutes} min: blocks (rows / with payload)`] = `${seconds} / ${objects}`;
        out[`${minutes} min: lake made in (s)`] = ms((performance.now() - genStart) / 1000);
        const sql = `SELECT count(*) AS n, max(depth) AS d FROM view_instance('thread_spans', '${streamId}')`;
        asked.length = 0;
        const cpu0 = process.cpuUsage();
        let t = performance.now();
        const first = await engine.query(sql, q);
        const firstMs = performance.now() - t;
        const cpu = process.cpuUsage(cpu0);
        const spans = Number(first.table.getChild('n')!.get(0));
        const reach = SPAN_REACH + SEC;
        const outside: string[] = [];
        // every block asked for must be within the minute and its reach (blocks are one second each, in order)
        const blockTimes = new Map<string, bigint>();
        const rows = await lake.sql.query<{ block_id: string; begin_time: string }>(
          `SELECT block_id, begin_time FROM blocks WHERE stream_id = $1 AND begin_time >= $2 AND begin_time < $3`,
          [streamId, q.begin - WITH_PAYLOAD, q.end + WITH_PAYLOAD],
        );
        for (const r of rows) blockTimes.set(r.block_id, BigInt(r.begin_time));
        for (const key of asked) {
          const at = blockTimes.get(key.split('/').pop()!);
          if (at === undefined || at < q.begin - SEC * 60n - reach || at >= q.end + SEC * 60n + reach) outside.push(key);
        }
        if (outside.length > 0) throw new Error(`${minutes} min: the first query asked for ${outside.length} blocks far from its minute`);
        out[`${minutes} min: spans in the minute`] = spans;
        out[`${minutes} min: blocks read by the first query`] = asked.length;
        out[`${minutes} min: first query (ms)`] = ms(firstMs);
        // on a shared host the wall clock waits for other processes: this process's CPU time (DuckDB's threads
        // and, with PGlite, the metadata store included) is the steadier figure
        out[`${minutes} min: first query, CPU time of this process (ms)`] = ms((cpu.user + cpu.system) / 1000);
        firsts.push(firstMs);
        const again: number[] = [];
        const againCpu: number[] = [];
        const resolveOnly: number[] = [];
        for (let i = 0; i < 5; i++) {
          const c0 = process.cpuUsage();
          t = performance.now();
          await engine.query(sql, q);
          again.push(performance.now() - t);
          const c = process.cpuUsage(c0);
          againCpu.push((c.user + c.system) / 1000);
          t = performance.now();
          await (await lakehouse.resolve('thread_spans', streamId, q)).release();
          resolveOnly.push(performance.now() - t);
        }
        const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[2]!;
        out[`${minutes} min: same query again, median of 5 (ms)`] = ms(median(again));
        out[`${minutes} min: same query again, CPU time (ms)`] = ms(median(againCpu));
        out[`${minutes} min: of which finding the cached segments (lakehouse resolve, ms)`] = ms(median(resolveOnly));
        // the peers: an empty query through the engine (its fixed cost), and DuckDB alone counting the same
        // rows in the same partition files (what a cached query cannot beat)
        t = performance.now();
        await engine.query(`SELECT count(*) FROM (SELECT 1) x`, q);
        out[`${minutes} min: peer, an empty query through the engine (ms)`] = ms(performance.now() - t);
        const src = await lakehouse.resolve('thread_spans', streamId, q);
        const files = src.objectKeys.map((k) => lake.objects.localPath(k)!);
        await src.release();
        const duck = await DuckDBInstance.create(':memory:');
        const conn = await duck.connect();
        const list = files.map((f) => `'${f}'`).join(', ');
        const b = `make_timestamp_ns(${q.begin}::BIGINT)`;
        const e = `make_timestamp_ns(${q.end}::BIGINT)`;
        const direct = `SELECT count(*) FROM read_parquet([${list}]) WHERE "begin" < ${e} AND "end" >= ${b} AND ("begin" >= ${b} OR "end" > ${b})`;
        await conn.runAndReadAll(direct);
        const peer: number[] = [];
        for (let i = 0; i < 5; i++) {
          t = performance.now();
          const r = await conn.runAndReadAll(direct);
          peer.push(performance.now() - t);
          if (Number(r.getRows()[0]![0]) !== spans) throw new Error('DuckDB alone counts other rows');
        }
        conn.closeSync();
        duck.closeSync();
        out[`${minutes} min: peer, DuckDB alone on the same files, median of 5 (ms)`] = ms(median(peer));
      }
    } finally {
      await engine.close();
    }
    if (firsts.length > 1) out['first query wall time: longest stream / shortest stream (ratio)'] = Math.round((firsts[firsts.length - 1]! / firsts[0]!) * 100) / 100;
    return out;
  } finally {
    await lake.close();
    await db?.drop();
    await rm(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const lengths = process.argv.slice(2).map(Number).filter((n) => n > 0);
  console.log(await run(lengths.length > 0 ? lengths : undefined));
}
