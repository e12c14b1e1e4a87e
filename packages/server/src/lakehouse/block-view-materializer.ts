/**
 * One materialization step of a block view (`log_entries`, `measures`): the blocks inserted in
 * [watermark, end) become one partition, and the watermark moves to `end`, in one commit.
 *
 * `end` stops `lagNs` before now, because a block's `insert_time` is stamped by its INSERT statement a moment
 * before the row commits: waiting a little lets those commits land before their window is read. Windows never
 * cross a minute boundary, so compaction can merge whole minutes.
 *
 * The step is three phases, so no transaction spans the slow part (on PGlite a transaction holds the only
 * session, and every ingestion INSERT would wait for it):
 *   1. a short transaction under the view's advisory lock reads the watermark and lists the window's blocks;
 *   2. outside any transaction, the blocks are decoded, written to Parquet and uploaded under a fresh key;
 *   3. a short transaction under the same lock checks the watermark has not moved, then inserts the partition
 *      row and advances the watermark together. If it moved (another daemon did this window meanwhile), the
 *      uploaded object is deleted and the step reports 'busy'.
 * A daemon killed anywhere leaves at most an unreferenced object behind: nothing is visible until phase 3
 * commits, and the row and the watermark commit together.
 */
import { nowNs } from '../clock.js';
import { dbNowNs } from '../lake/block-repository.js';
import { crashPoint } from './crash-points.js';
import { fileStats, partitionKey, removeFile, scratchPath, uploadPartition, discardPartitionObjects } from './partition-files.js';
import { getWatermark, insertPartition, lock, setWatermark, tryLock } from './partition-repository.js';
import { blocksByInsertTime, blocksHash, loadAllColumns, type SourceBlock } from './source-blocks.js';
import { writeParquet, type WriteParquetOptions } from './parquet-writer.js';
import { schemaHash } from './view-columns.js';
import type { BlockViewDefinition } from './view-definitions.js';
import type { Lake } from '../lake/lake.js';
import type { SqlClient } from '../lake/sql-client.js';

export const SECOND = 1_000_000_000n;
export const MINUTE = 60n * SECOND;
export const HOUR = 60n * MINUTE;

/**
 * The compaction spans, smallest first: a minute and an hour. SIRIUS_LAKEHOUSE_TEST_SPANS_MS ("2000,6000")
 * shrinks them so crash tests exercise compaction within seconds; never set in production.
 */
export const COMPACTION_SPANS: readonly bigint[] = process.env.SIRIUS_LAKEHOUSE_TEST_SPANS_MS
  ? process.env.SIRIUS_LAKEHOUSE_TEST_SPANS_MS.split(',').map((ms) => BigInt(ms) * 1_000_000n)
  : [MINUTE, HOUR];

export interface StepOptions {
  dataDir: string;
  /** how far behind the clock windows stop, ns (default 2 s) */
  lagNs?: bigint;
  now?: bigint;
}

export type StepResult = 'busy' | 'idle' | 'progress';

/**
 * How a block view's fresh partition (and a query's unmaterialized tail) is written: rows in block order, each
 * block's rows in its own (time) order, not sorted across blocks. Sorting a second of data buys no pruning — the
 * partition's time range is its index — and where streams overlap, as they do whenever several processes
 * report, it cost more than half of the ETL: every column gathered again, and messages compressed again
 * instead of reusing the client's LZ4 blocks. Compaction sorts by time when it merges partitions.
 */
export const FRESH_PARTITION: WriteParquetOptions = {};

export function floorTo(t: bigint, unit: bigint): bigint {
  const r = t % unit;
  return r < 0n ? t - r - unit : t - r;
}

/** What phase 1 found to do: the window [wm, end) and its blocks, and the watermark as stored then. */
interface BlockWindow {
  stored: bigint | null;
  wm: bigint;
  end: bigint;
  blocks: SourceBlock[];
}

export async function materializeBlockView(lake: Lake, view: BlockViewDefinition, opts: StepOptions): Promise<StepResult> {
  const lockKey = `view:${view.name}`;
  const plan = await lake.sql.transaction((tx) => planWindow(tx, view, opts));
  if (typeof plan === 'string') return plan;
  await crashPoint('planned');
  const { stored, wm, end, blocks } = plan;
  const path = scratchPath(opts.dataDir, view.name);
  try {
    const decoded = await loadAllColumns(lake.objects, blocks);
    const batch = view.rows(blocks, decoded);
    await writeParquet(batch, path, FRESH_PARTITION);
    const stats = await fileStats(path, view.timeColumn);
    const key = partitionKey(view.name, 'global', wm, end);
    await uploadPartition(lake, path, key);
    await crashPoint('uploaded');
    const committed = await lake.sql.transaction(async (tx) => {
      await lock(tx, lockKey);
      if ((await getWatermark(tx, view.name, 'global')) !== stored) return false;
      await insertPartition(tx, {
        view_set: view.name,
        view_instance: 'global',
        begin_insert_time: wm,
        end_insert_time: end,
        min_event_time: stats.minTime ?? blocks[0]!.begin_time,
        max_event_time: stats.maxTime ?? blocks[0]!.begin_time,
        file_path: key,
        file_size: stats.fileSize,
        num_rows: stats.numRows,
        file_schema_hash: schemaHash(view.columns),
        source_data_hash: blocksHash(blocks),
        created_time: nowNs(),
      });
      await setWatermark(tx, view.name, 'global', end);
      await crashPoint('before-commit');
      return true;
    });
    // Only a definite "the watermark moved" discards the object: after a failed COMMIT the row may exist.
    if (!committed) {
      await discardPartitionObjects(lake, [key]);
      return 'busy';
    }
    return 'progress';
  } finally {
    await removeFile(path);
  }
}

/**
 * Phase 1, inside a short transaction: the next window and its blocks. A window without blocks needs no file,
 * so the watermark jumps over the empty stretch right here and the step is done.
 */
async function planWindow(tx: SqlClient, view: BlockViewDefinition, opts: StepOptions): Promise<StepResult | BlockWindow> {
  if (!(await tryLock(tx, `view:${view.name}`))) return 'busy';
  // The database clock, because it also stamps blocks.insert_time (a JS clock could drift from it).
  const limit = floorTo((opts.now ?? (await dbNowNs(tx))) - (opts.lagNs ?? 2n * SECOND), SECOND);
  const stored = await getWatermark(tx, view.name, 'global');
  let wm = stored;
  if (wm === null) {
    const first = await nextInsertTime(tx, view.tag, -1n);
    wm = first === null ? limit : floorTo(first, SECOND);
  }
  if (wm >= limit) return 'idle';
  const span = COMPACTION_SPANS[0]!;
  const end = minBig(limit, floorTo(wm, span) + span);
  const blocks = await blocksByInsertTime(tx, view.tag, wm, end);
  if (blocks.length > 0) return { stored, wm, end, blocks };
  // nothing in this window: jump over the empty stretch, staying on second boundaries
  const first = await nextInsertTime(tx, view.tag, end);
  let next = first === null ? limit : minBig(limit, floorTo(first, SECOND));
  if (next < end) next = end;
  await setWatermark(tx, view.name, 'global', next);
  await crashPoint('before-commit');
  return 'progress';
}

/** The smallest insert_time >= `from` among blocks of streams tagged `tag`, or null. */
async function nextInsertTime(sql: SqlClient, tag: string, from: bigint): Promise<bigint | null> {
  const [r] = await sql.query<{ t: string | null }>(
    `SELECT min(b.insert_time) AS t FROM blocks b JOIN streams s ON s.stream_id = b.stream_id
     WHERE b.insert_time >= $2 AND $1 = ANY(s.tags)`,
    [tag, from],
  );
  return r?.t == null ? null : BigInt(r.t);
}

export function minBig(a: bigint, b: bigint): bigint {
  return a < b ? a : b;
}
