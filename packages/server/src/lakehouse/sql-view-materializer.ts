/**
 * Keeps a SQL-defined view up to date: each source partition committed past the view's watermark is run
 * through the view's SQL into a partition with the same insert-time range, and the watermark moves past it,
 * in one transaction. The source's watermark is read before its partitions, so a source partition committed
 * meanwhile is simply left for the next step.
 */
import { nowNs } from '../clock.js';
import { crashPoint } from './crash-points.js';
import { sqlString, withConnection } from './duckdb-engine.js';
import { PARQUET_OPTIONS } from './parquet-writer.js';
import { fileStats, localCopy, partitionKey, readParquetSql, removeFile, scratchPath, uploadFile } from './partition-files.js';
import { getWatermark, insertPartition, listPartitions, setWatermark, tryLock } from './partition-repository.js';
import { schemaHash } from './view-columns.js';
import type { SqlViewDefinition } from './view-definitions.js';
import type { StepOptions, StepResult } from './block-view-materializer.js';
import type { Lake } from '../lake/lake.js';

/** most source partitions handled in one transaction */
const MAX_PER_STEP = 16;

export async function materializeSqlView(lake: Lake, view: SqlViewDefinition, opts: StepOptions): Promise<StepResult> {
  return lake.sql.transaction(async (tx) => {
    if (!(await tryLock(tx, `view:${view.name}`))) return 'busy';
    const srcWm = await getWatermark(tx, view.source, 'global');
    if (srcWm === null) return 'idle';
    const wm = (await getWatermark(tx, view.name, 'global')) ?? -(1n << 62n);
    if (wm >= srcWm) return 'idle';
    const pending = (await listPartitions(tx, { viewSet: view.source, instance: 'global', endInsertBefore: srcWm }))
      .filter((p) => p.begin_insert_time >= wm)
      .slice(0, MAX_PER_STEP);
    for (const src of pending) {
      const out = scratchPath(opts.dataDir, view.name);
      const input = await localCopy(lake.objects, src.file_path, opts.dataDir);
      try {
        await runViewSql(view.sql, 'source', [input.path], out);
        const stats = await fileStats(out, view.timeColumn);
        if (stats.numRows > 0) {
          const key = partitionKey(view.name, 'global', src.begin_insert_time, src.end_insert_time);
          await uploadFile(lake.objects, out, key);
          await crashPoint('uploaded');
          await insertPartition(tx, {
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
            created_time: nowNs(),
          });
        }
      } finally {
        await input.release();
        await removeFile(out);
      }
    }
    const done = pending.length === MAX_PER_STEP ? pending[pending.length - 1]!.end_insert_time : srcWm;
    await setWatermark(tx, view.name, 'global', done);
    await crashPoint('before-commit');
    return 'progress';
  });
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
