/**
 * Query benchmark: a filtered aggregate over one day of log_entries (≥ 50 M rows in 24 hourly Parquet
 * partitions, generated with DuckDB SQL) through the Sirius query engine, and the same SQL run by DuckDB
 * directly on the same files, in the same run. Target: engine ≤ 1.5× DuckDB.
 *
 *   node --import tsx bench/src/query-vs-duckdb.ts [--rows 5000000]
 */
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DuckDBInstance } from '@duckdb/node-api';
import { openLake } from '../../packages/server/src/lake/open-lake.js';
import { createLakehouse } from '../../packages/server/src/lakehouse/index.js';
import { insertPartition, schedulePartitionObject } from '../../packages/server/src/lakehouse/partition-repository.js';
import { partitionKey } from '../../packages/server/src/lakehouse/partition-files.js';
import { createQueryEngine } from '../../packages/server/src/analytics/query-engine.js';

const DAY = 1_714_521_600_000_000_000n; // 2024-05-01T00:00:00Z
const HOUR = 3_600_000_000_000n;
const RUNS = 5;

function rowsArg(): number {
  const i = process.argv.indexOf('--rows');
  const v = i >= 0 ? Number(process.argv[i + 1]) : Number(process.env.SIRIUS_BENCH_QUERY_ROWS ?? 50_000_000);
  if (!Number.isFinite(v) || v < 24) throw new Error(`--rows wants a number ≥ 24, got ${process.argv[i + 1]}`);
  return Math.trunc(v);
}

const AGGREGATE = `SELECT target, level, count(*) AS n, count(DISTINCT process_id) AS processes
  FROM log_entries WHERE level <= 3 AND msg LIKE '%timeout%' GROUP BY ALL ORDER BY ALL`;

async function median(fn: () => Promise<unknown>): Promise<number> {
  await fn(); // warm (file cache, parquet metadata)
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t = performance.now();
    await fn();
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

export async function run(): Promise<Record<string, number | string>> {
  const rows = rowsArg();
  const perHour = Math.ceil(rows / 24);
  const dir = await mkdtemp(join(tmpdir(), 'sirius-bench-query-'));
  const lake = await openLake({ sqlConnectionString: 'memory://', dataDir: dir, objectStoreUri: `file://${join(dir, 'objects')}` });
  const duck = await DuckDBInstance.create(':memory:');
  const gen = await duck.connect();
  try {
    const paths: string[] = [];
    let bytes = 0;
    const genStart = performance.now();
    for (let h = 0n; h < 24n; h++) {
      const begin = DAY + h * HOUR;
      const key = partitionKey('log_entries', 'global', begin, begin + HOUR);
      const path = lake.objects.localPath(key)!;
      await (await import('node:fs/promises')).mkdir(join(path, '..'), { recursive: true });
      await schedulePartitionObject(lake.sql, key); // written in place below: insertPartition claims it
      const step = HOUR / BigInt(perHour);
      await gen.run(`COPY (SELECT 'proc-' || (i % 50) AS process_id, 'stream-' || (i % 200) AS stream_id, 'block-' || (i // 1000) AS block_id,
          make_timestamp_ns(${begin}::BIGINT) AS insert_time, 'game' AS exe, 'alice' AS username, 'box' AS computer,
          make_timestamp_ns(${begin}::BIGINT + i * ${step}::BIGINT) AS time, ['net', 'render', 'game', 'audio'][i % 4 + 1] AS target,
          (i % 6 + 1)::INTEGER AS level, CASE WHEN i % 97 = 0 THEN 'request timeout after ' || (i % 1000) || ' ms' ELSE 'frame ' || i END AS msg,
          NULL::MAP(VARCHAR, VARCHAR) AS properties, NULL::MAP(VARCHAR, VARCHAR) AS process_properties
        FROM range(${perHour}) r(i)) TO '${path}' (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 122880)`);
      const size = (await stat(path)).size;
      bytes += size;
      await insertPartition(lake.sql, {
        view_set: 'log_entries', view_instance: 'global', begin_insert_time: begin, end_insert_time: begin + HOUR,
        min_event_time: begin, max_event_time: begin + HOUR - 1n, file_path: key, file_size: size, num_rows: perHour,
        file_schema_hash: 'bench', source_data_hash: `h${h}`, created_time: begin,
      });
      paths.push(path);
    }
    const genMs = performance.now() - genStart;

    const engine = await createQueryEngine({ lake, lakehouse: createLakehouse({ lake, dataDir: dir }), cacheDir: join(dir, 'cache') });
    const direct = await duck.connect();
    const list = paths.map((p) => `'${p}'`).join(', ');
    await direct.run(`CREATE TEMP VIEW log_entries AS SELECT * FROM read_parquet([${list}])
      WHERE time >= make_timestamp_ns(${DAY}::BIGINT) AND time < make_timestamp_ns(${DAY + 24n * HOUR}::BIGINT)`);
    const range = { begin: DAY, end: DAY + 24n * HOUR };

    // same answer from both
    const a = await engine.query(AGGREGATE, range);
    const b = await direct.runAndReadAll(AGGREGATE);
    if (a.table.numRows !== b.currentRowCount) throw new Error(`engine and DuckDB disagree: ${a.table.numRows} vs ${b.currentRowCount} rows`);

    const engineMs = await median(() => engine.query(AGGREGATE, range));
    const duckdbMs = await median(() => direct.runAndReadAll(AGGREGATE));
    // what isolation costs a tiny query: a fresh DuckDB instance per query (taken from a pool kept ready)
    // against a statement on a connection that stays open
    const TINY = `SELECT count(*) AS n FROM log_entries WHERE time < make_timestamp_ns(${DAY + 60_000_000_000n}::BIGINT)`;
    const tinyEngineMs = await median(() => engine.query(TINY, range));
    const tinyDuckdbMs = await median(() => direct.runAndReadAll(TINY));
    direct.closeSync();
    await engine.close();
    return {
      rows: perHour * 24,
      partitions: 24,
      parquet_mb: Math.round(bytes / 1e5) / 10,
      generate_s: Math.round(genMs / 100) / 10,
      engine_ms: Math.round(engineMs),
      duckdb_ms: Math.round(duckdbMs),
      ratio: Math.round((engineMs / duckdbMs) * 100) / 100,
      target_ratio: '≤ 1.5',
      engine_rows_per_s_m: Math.round(((perHour * 24) / engineMs) * 1e3 / 1e4) / 100,
      tiny_query_engine_ms: Math.round(tinyEngineMs * 10) / 10,
      tiny_query_duckdb_ms: Math.round(tinyDuckdbMs * 10) / 10,
    };
  } finally {
    gen.closeSync();
    duck.closeSync();
    await lake.close();
    await rm(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.log(await run());
}
