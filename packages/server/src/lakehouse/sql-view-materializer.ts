/**
 * Keeps a SQL-defined view up to date: each source partition committed past the view's watermark is run
 * through the view's SQL into a partition with the same insert-time range, and the watermark moves past it.
 * The source's watermark is read before its partitions, so a source partition committed meanwhile is simply
 * left for the next step.
 *
 * Like `materializeBlockView`, a step is a short planning transaction (watermarks and pending source
 * partitions, under the view's advisory lock), then the DuckDB runs and uploads outside any transaction, then
 * a short commit transaction under the same lock that checks the view's watermark is unchanged and the source
 * partitions are still live (compaction or retention may have replaced them) before inserting the new rows
 * and moving the watermark together. When the plan went stale, the uploaded objects are deleted and the step
 * reports 'busy'.
 */
import { nowNs } from '../clock.js';
import { ObjectNotFoundError } from '../lake/object-store.js';
import { crashPoint } from './crash-points.js';
import { sqlString, withConnection } from './duckdb-engine.js';
import { PARQUET_OPTIONS } from './parquet-writer.js';
import { fileStats, localCopy, partitionKey, readParquetSql, removeFile, scratchPath, uploadPartition, discardPartitionObjects } from './partition-files.js';
import {
  getWatermark, insertPartition, listPartitions, livePartitionPaths, lock, setWatermark, tryLock, type PartitionRecord,
} from './partition-repository.js';
import { schemaHash } from './view-columns.js';
import type { SqlViewDefinition } from './view-definitions.js';
import type { StepOptions, StepResult } from './block-view-materializer.js';
import type { Lake } from '../lake/lake.js';
import type { SqlClient } from '../lake/sql-client.js';

/** most source partitions handled in one step */
const MAX_PER_STEP = 16;

/** What the planning transaction found: the source partitions to run, the watermark then stored, and where it goes. */
interface SqlPlan {
  stored: bigint | null;
  pending: PartitionRecord[];
  done: bigint;
}

export async function materializeSqlView(lake: Lake, view: SqlViewDefinition, opts: StepOptions): Promise<StepResult> {
  const lockKey = `view:${view.name}`;
  const plan = await lake.sql.transaction((tx) => planSqlStep(tx, view));
  if (typeof plan === 'string') return plan;
  await crashPoint('planned');
  const current = async (tx: SqlClient) =>
    (await getWatermark(tx, view.name, 'global')) === plan.stored &&
    (await livePartitionPaths(tx, plan.pending.map((p) => p.file_path))).size === plan.pending.length;
  const records: PartitionRecord[] = [];
  try {
    for (const src of plan.pending) {
      const record = await runOne(lake, view, src, opts.dataDir);
      if (record) records.push(record);
    }
  } catch (err) {
    await discardPartitionObjects(lake, records.map((r) => r.file_path));
    // a source partition compacted and purged by another daemon since the plan: replan next time
    if (err instanceof ObjectNotFoundError && !(await lake.sql.transaction(current))) return 'busy';
    throw err;
  }
  const committed = await lake.sql.transaction(async (tx) => {
    await lock(tx, lockKey);
    if (!(await current(tx))) return false;
    for (const r of records) await insertPartition(tx, { ...r, created_time: nowNs() });
    await setWatermark(tx, view.name, 'global', plan.done);
    await crashPoint('before-commit');
    return true;
  });
  // Only a definite "the plan went stale" discards the objects: after a failed COMMIT the rows may exist.
  if (!committed) {
    await discardPartitionObjects(lake, records.map((r) => r.file_path));
    return 'busy';
  }
  return 'progress';
}

/** Planning, inside a short transaction. With no source partition to run, the watermark simply catches up here. */
async function planSqlStep(tx: SqlClient, view: SqlViewDefinition): Promise<StepResult | SqlPlan> {
  if (!(await tryLock(tx, `view:${view.name}`))) return 'busy';
  const srcWm = await getWatermark(tx, view.source, 'global');
  if (srcWm === null) return 'idle';
  const stored = await getWatermark(tx, view.name, 'global');
  const wm = stored ?? -(1n << 62n);
  if (wm >= srcWm) return 'idle';
  const pending = (await listPartitions(tx, { viewSet: view.source, instance: 'global', endInsertBefore: srcWm }))
    .filter((p) => p.begin_insert_time >= wm)
    .slice(0, MAX_PER_STEP);
  const done = pending.length === MAX_PER_STEP ? pending[pending.length - 1]!.end_insert_time : srcWm;
  if (pending.length > 0) return { stored, pending, done };
  await setWatermark(tx, view.name, 'global', done);
  await crashPoint('before-commit');
  return 'progress';
}

/** Runs the view over one source partition and uploads the result: its partition row, or null when it has no rows. */
async function runOne(lake: Lake, view: SqlViewDefinition, src: PartitionRecord, dataDir: string): Promise<PartitionRecord | null> {
  const out = scratchPath(dataDir, view.name);
  const input = await localCopy(lake.objects, src.file_path, dataDir);
  try {
    await runViewSql(view.sql, 'source', [input.path], out);
    const stats = await fileStats(out, view.timeColumn);
    if (stats.numRows === 0) return null;
    const key = partitionKey(view.name, 'global', src.begin_insert_time, src.end_insert_time);
    await uploadPartition(lake, out, key);
    await crashPoint('uploaded');
    return {
      view_set: view.name,
      view_instance: 'global',
      begin_insert_time: src.begin_insert_time,
      end_insert_time: src.end_insert_time,
      min_event_time: stats.minTime!,
      max_event_time: stats.maxTime!,
      file_path: key,
      file_size: stats.fileSize,
      num_rows: stats.numRows,
      file_schema_hash: schemaHash(view.columns),
      source_data_hash: src.file_path,
      created_time: 0n,
    };
  } finally {
    await input.release();
    await removeFile(out);
  }
}

/** Runs view SQL with `table` bound to the given Parquet files, writing the result to `out`. */
export async function runViewSql(sql: string, table: string, inputs: readonly string[], out: string): Promise<void> {
  await withConnection(async (c) => {
    await c.run(`CREATE TEMP VIEW ${table} AS SELECT * FROM ${readParquetSql(inputs)}`);
    try {
      await c.run(`COPY (${sql}) TO ${sqlString(out)} (${PARQUET_OPTIONS})`);
    } finally {
      await c.run(`DROP VIEW IF EXISTS ${table}`);
    }
  });
}
