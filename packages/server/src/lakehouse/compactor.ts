/**
 * Merges small partitions of a global view into bigger ones: the partitions of a finished minute into one,
 * then those of a finished hour into one. The merged partition's row is inserted and the replaced rows are
 * deleted in the same transaction, so a query sees either the old files or the new one, never both and never
 * neither; the replaced objects are deleted later (see `purgeRetiredObjects`) so running queries can finish.
 *
 * A source view is only compacted up to what the SQL views fed by it have consumed, since those read the
 * source partition by partition.
 *
 * The merge itself runs outside any transaction: a short transaction under the view's compaction lock picks
 * the window and its partitions, DuckDB merges them and the result is uploaded, then a short transaction
 * under the same lock checks that exactly the same partitions are still live in the window before swapping
 * them for the merged one. When they changed (another daemon compacted them, retention expired some), the
 * merged object is deleted and the step reports 'busy'.
 */
import { nowNs } from '../clock.js';
import { ObjectNotFoundError } from '../lake/object-store.js';
import { crashPoint } from './crash-points.js';
import { COMPACTION_SPANS, floorTo, minBig, type StepOptions, type StepResult } from './block-view-materializer.js';
import { fileStats, localCopies, partitionKey, removeFile, scratchPath, uploadPartition, discardPartitionObjects } from './partition-files.js';
import { getWatermark, insertPartition, lock, retirePartitions, toPartitionRecord, tryLock, unscheduleDeletions, type PartitionRecord } from './partition-repository.js';
import { runViewSql } from './sql-view-materializer.js';
import { quoteIdent, schemaHash } from './view-columns.js';
import { dependentsOf, type ViewDefinition } from './view-definitions.js';
import type { Lake } from '../lake/lake.js';
import type { SqlClient } from '../lake/sql-client.js';

export { COMPACTION_SPANS };

export function mergeSqlOf(view: ViewDefinition): string {
  return view.kind === 'sql' ? view.mergeSql : `SELECT * FROM partitions ORDER BY ${quoteIdent(view.timeColumn)}`;
}

/** A window [begin, end) and the partitions it held when planned. */
interface MergePlan {
  begin: bigint;
  end: bigint;
  parts: PartitionRecord[];
}

export async function compactView(lake: Lake, view: ViewDefinition, opts: StepOptions): Promise<StepResult> {
  const lockKey = `compact:${view.name}`;
  const plan = await lake.sql.transaction((tx) => planMerge(tx, view));
  if (typeof plan === 'string') return plan;
  await crashPoint('merge-planned');
  const { begin, end, parts } = plan;
  const unchanged = async (tx: SqlClient) => {
    const live = (await partitionsIn(tx, view.name, begin, end)).map((p) => p.file_path);
    return live.length === parts.length && parts.every((p, i) => p.file_path === live[i]);
  };
  const out = scratchPath(opts.dataDir, `${view.name}-merged`);
  try {
    let inputs;
    try {
      inputs = await localCopies(lake.objects, parts.map((p) => p.file_path), opts.dataDir);
    } catch (err) {
      // a partition compacted and purged by another daemon since the plan: replan next time
      if (err instanceof ObjectNotFoundError && !(await lake.sql.transaction(unchanged))) return 'busy';
      throw err;
    }
    try {
      await runViewSql(mergeSqlOf(view), 'partitions', inputs.paths, out);
    } finally {
      await inputs.release();
    }
    const stats = await fileStats(out, view.timeColumn);
    const key = partitionKey(view.name, 'global', begin, end);
    await uploadPartition(lake, out, key);
    await crashPoint('merged-uploaded');
    const committed = await lake.sql.transaction(async (tx) => {
      await lock(tx, lockKey);
      if (!(await unchanged(tx))) return false;
      const now = nowNs();
      await insertPartition(tx, {
        view_set: view.name,
        view_instance: 'global',
        begin_insert_time: begin,
        end_insert_time: end,
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
      return true;
    });
    // Only a definite "the partitions changed" discards the object: after a failed COMMIT the row may exist.
    if (!committed) {
      await discardPartitionObjects(lake, [key]);
      return 'busy';
    }
    return 'progress';
  } finally {
    await removeFile(out);
  }
}

/**
 * Planning, inside a short transaction: the first window of the smallest span that is finished (behind the
 * view's and its dependents' watermarks) and still made of smaller partitions. A window already held by one
 * partition only has its bounds widened, right here.
 */
async function planMerge(tx: SqlClient, view: ViewDefinition): Promise<StepResult | MergePlan> {
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
    const begin = floorTo(BigInt(cand.begin_insert_time as string), span);
    const parts = await partitionsIn(tx, view.name, begin, begin + span);
    if (parts.length === 1) {
      // one partition already holds the whole window: widen its bounds instead of rewriting it
      await tx.query('UPDATE lakehouse_partitions SET begin_insert_time = $2, end_insert_time = $3 WHERE file_path = $1', [
        parts[0]!.file_path, begin, begin + span,
      ]);
      return 'progress';
    }
    return { begin, end: begin + span, parts };
  }
  return 'idle';
}

/** The live global partitions of `viewSet` lying inside [begin, end), in a stable order. */
async function partitionsIn(sql: SqlClient, viewSet: string, begin: bigint, end: bigint): Promise<PartitionRecord[]> {
  const rows = await sql.query<Record<string, unknown>>(
    `SELECT * FROM lakehouse_partitions WHERE view_set = $1 AND view_instance = 'global'
     AND begin_insert_time >= $2 AND end_insert_time <= $3 ORDER BY begin_insert_time, file_path`,
    [viewSet, begin, end],
  );
  return rows.map(toPartitionRecord);
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
  await unscheduleDeletions(lake.sql, keys);
  return keys.length;
}

