/**
 * Merges small partitions of a global view into bigger ones: the partitions of a finished minute into one,
 * then those of a finished hour into one. The merged partition's row is inserted and the replaced rows are
 * deleted in the same transaction, so a query sees either the old files or the new one, never both and never
 * neither; the replaced objects are deleted later (see `purgeRetiredObjects`) so running queries can finish.
 *
 * A source view is only compacted up to what the SQL views fed by it have consumed, since those read the
 * source partition by partition.
 */
import { nowNs } from '../clock.js';
import { crashPoint } from './crash-points.js';
import { COMPACTION_SPANS, floorTo, minBig, type StepOptions, type StepResult } from './block-view-materializer.js';
import { fileStats, localCopies, partitionKey, removeFile, scratchPath, uploadFile } from './partition-files.js';
import { getWatermark, insertPartition, retirePartitions, toPartitionRecord, tryLock } from './partition-repository.js';
import { runViewSql } from './sql-view-materializer.js';
import { quoteIdent, schemaHash } from './view-columns.js';
import { dependentsOf, type ViewDefinition } from './view-definitions.js';
import type { Lake } from '../lake/lake.js';

export { COMPACTION_SPANS };

export function mergeSqlOf(view: ViewDefinition): string {
  return view.kind === 'sql' ? view.mergeSql : `SELECT * FROM partitions ORDER BY ${quoteIdent(view.timeColumn)}`;
}

export async function compactView(lake: Lake, view: ViewDefinition, opts: StepOptions): Promise<StepResult> {
  return lake.sql.transaction(async (tx) => {
    if (!(await tryLock(tx, `compact:${view.name}`))) return 'busy';
    let limit = await getWatermark(tx, view.name, 'global');
    if (limit === null) return 'idle';
    for (const dep of dependentsOf(view.name)) {
      const w = await getWatermark(tx, dep.name, 'global');
      if (w === null) return 'idle';
      limit = minBig(limit, w);
    }
    for (const span of COMPACTION_SPANS) {
      const [cand] = await tx.query<Record<string, unknown>>(
        `SELECT begin_insert_time FROM lakehouse_partitions
         WHERE view_set = $1 AND view_instance = 'global' AND end_insert_time - begin_insert_time < $2 AND end_insert_time <= $3
         ORDER BY begin_insert_time LIMIT 1`,
        [view.name, span, floorTo(limit, span)],
      );
      if (!cand) continue;
      const w = floorTo(BigInt(cand.begin_insert_time as string), span);
      const parts = (
        await tx.query<Record<string, unknown>>(
          `SELECT * FROM lakehouse_partitions WHERE view_set = $1 AND view_instance = 'global'
           AND begin_insert_time >= $2 AND end_insert_time <= $3 ORDER BY begin_insert_time`,
          [view.name, w, w + span],
        )
      ).map(toPartitionRecord);
      if (parts.length === 1) {
        // one partition already holds the whole window: widen its bounds instead of rewriting it
        await tx.query('UPDATE lakehouse_partitions SET begin_insert_time = $2, end_insert_time = $3 WHERE file_path = $1', [
          parts[0]!.file_path, w, w + span,
        ]);
        return 'progress';
      }
      const inputs = await localCopies(lake.objects, parts.map((p) => p.file_path), opts.dataDir);
      const out = scratchPath(opts.dataDir, `${view.name}-merged`);
      try {
        await runViewSql(mergeSqlOf(view), 'partitions', inputs.paths, out);
        const stats = await fileStats(out, view.timeColumn);
        const key = partitionKey(view.name, 'global', w, w + span);
        await uploadFile(lake.objects, out, key);
        await crashPoint('merged-uploaded');
        const now = nowNs();
        await insertPartition(tx, {
          view_set: view.name,
          view_instance: 'global',
          begin_insert_time: w,
          end_insert_time: w + span,
          min_event_time: stats.minTime ?? parts[0]!.min_event_time,
          max_event_time: stats.maxTime ?? parts[0]!.max_event_time,
          file_path: key,
          file_size: stats.fileSize,
          num_rows: stats.numRows,
          file_schema_hash: schemaHash(view.columns),
          source_data_hash: parts.map((p) => p.source_data_hash).join('+').slice(0, 1000),
          created_time: now,
        });
        await retirePartitions(tx, parts.map((p) => p.file_path), now);
        await crashPoint('merged-before-commit');
      } finally {
        await inputs.release();
        await removeFile(out);
      }
      return 'progress';
    }
    return 'idle';
  });
}

/**
 * Deletes objects of partitions retired more than `graceNs` ago (a query planned before the retirement may
 * still be reading them until then). Bounded per call.
 */
export async function purgeRetiredObjects(lake: Lake, graceNs: bigint, limit = 500): Promise<number> {
  const cutoff = nowNs() - graceNs;
  const rows = await lake.sql.query<{ file_path: string }>(
    'SELECT file_path FROM lakehouse_retired_objects WHERE retired_time <= $1 ORDER BY retired_time LIMIT $2',
    [cutoff, limit],
  );
  if (rows.length === 0) return 0;
  const keys = rows.map((r) => r.file_path);
  await lake.objects.delete(keys);
  await lake.sql.query('DELETE FROM lakehouse_retired_objects WHERE file_path = ANY($1::text[])', [keys]);
  return keys.length;
}

