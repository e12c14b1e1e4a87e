/**
 * Just-in-time views: partitions of one instance (a process or a stream) built on the first query that needs
 * them and cached in `lakehouse_partitions`, keyed by a digest of their source blocks. A cached partition whose
 * blocks changed (new blocks arrived) is rebuilt and replaces the old one in one commit (see `resolveSegment`).
 *
 * `log_entries`/`measures` per process are cut into fixed event-time segments (one hour): a segment's rows
 * are the events of the blocks overlapping it whose time falls inside it, so segments never share a row.
 * `thread_spans` (per stream) and `async_events` (per process) are one segment covering all time, because
 * span ids and depths depend on every earlier event. For JIT partitions `begin/end_insert_time` hold the
 * segment bounds.
 */
import { decodeBlock } from '@sirius/transit';
import { nowNs } from '../clock.js';
import { transitCodecs } from '../lake/lz4-codec.js';
import { blobKey } from '../lake/object-store.js';
import { HOUR, floorTo } from './block-view-materializer.js';
import { asyncEventsRows, ASYNC_EVENTS_COLUMNS } from './async-events.js';
import { threadSpansRows, THREAD_SPANS_COLUMNS } from './thread-spans.js';
import { writeParquet } from './parquet-writer.js';
import { fileStats, partitionKey, removeFile, scratchPath, uploadPartition, discardPartitionObjects } from './partition-files.js';
import { insertPartition, lock, retirePartitions, toPartitionRecord, type PartitionRecord } from './partition-repository.js';
import { blocksByEventTime, blocksHash, loadAllColumns, type SourceBlock } from './source-blocks.js';
import { schemaHash } from './view-columns.js';
import { logEntriesView, measuresView, type BlockViewDefinition } from './view-definitions.js';
import type { ColumnSpec, RowBatch } from './row-batch.js';
import type { DecodedBlock } from './span-blocks.js';
import type { TimeRange } from './lakehouse.js';
import type { Lake } from '../lake/lake.js';
import type { ObjectStore } from '../lake/object-store.js';
import type { SqlClient } from '../lake/sql-client.js';

const ALL_TIME: TimeRange = { begin: -(1n << 62n), end: 1n << 62n };

export interface JitView {
  name: string;
  columns: readonly ColumnSpec[];
  /** column compared with the query range */
  timeColumn: string;
  /** column holding the latest time of a row, when rows are intervals */
  timeEndColumn?: string;
  /** the segments of [begin, end) this view is cut into */
  segments(range: TimeRange): TimeRange[];
  /** the source blocks of one segment */
  blocks(sql: SqlClient, instance: string, segment: TimeRange): Promise<SourceBlock[]>;
  /** the rows of one segment */
  rows(objects: ObjectStore, blocks: SourceBlock[], segment: TimeRange): Promise<RowBatch>;
}

function hourSegments(range: TimeRange): TimeRange[] {
  const out: TimeRange[] = [];
  for (let t = floorTo(range.begin, HOUR); t < range.end; t += HOUR) out.push({ begin: t, end: t + HOUR });
  return out;
}

function perProcess(view: BlockViewDefinition): JitView {
  return {
    name: view.name,
    columns: view.columns,
    timeColumn: view.timeColumn,
    segments: hourSegments,
    blocks: (sql, processId, seg) => blocksByEventTime(sql, view.tag, 'process', processId, seg.begin, seg.end),
    async rows(objects, blocks, seg) {
      const all = view.rows(blocks, await loadAllColumns(objects, blocks));
      return filterRows(all, all.columns.findIndex((c) => c.name === view.timeColumn), seg);
    },
  };
}

/** Keeps the rows whose time is in [begin, end). */
function filterRows(batch: RowBatch, timeIndex: number, seg: TimeRange): RowBatch {
  const times = batch.values[timeIndex] as bigint[];
  const keep: number[] = [];
  for (let i = 0; i < batch.length; i++) if (times[i]! >= seg.begin && times[i]! < seg.end) keep.push(i);
  if (keep.length === batch.length) return batch;
  return { columns: batch.columns, values: batch.values.map((col) => keep.map((i) => col[i])), length: keep.length };
}

async function decodedBlocks(objects: ObjectStore, blocks: readonly SourceBlock[]): Promise<DecodedBlock[]> {
  return Promise.all(
    blocks.map(async (b) => decodeBlock(await objects.get(blobKey(b.process_id, b.stream_id, b.block_id)), transitCodecs)),
  );
}

function spanProcess(b: SourceBlock) {
  return { tsc_frequency: b.tsc_frequency, start_time: b.start_time, start_ticks: b.start_ticks };
}

const threadSpansView: JitView = {
  name: 'thread_spans',
  columns: THREAD_SPANS_COLUMNS,
  timeColumn: 'begin',
  timeEndColumn: 'end',
  segments: () => [ALL_TIME],
  blocks: (sql, streamId) => blocksByEventTime(sql, 'cpu', 'stream', streamId, ALL_TIME.begin, ALL_TIME.end),
  async rows(objects, blocks) {
    return threadSpansRows(await decodedBlocks(objects, blocks), spanProcess(blocks[0]!));
  },
};

const asyncEventsView: JitView = {
  name: 'async_events',
  columns: ASYNC_EVENTS_COLUMNS,
  timeColumn: 'time',
  segments: () => [ALL_TIME],
  blocks: (sql, processId) => blocksByEventTime(sql, 'cpu', 'process', processId, ALL_TIME.begin, ALL_TIME.end),
  async rows(objects, blocks) {
    const byStream = new Map<string, SourceBlock[]>();
    for (const b of blocks) byStream.set(b.stream_id, [...(byStream.get(b.stream_id) ?? []), b]);
    const streams = await Promise.all(
      [...byStream].map(async ([stream_id, bs]) => ({ stream_id, blocks: await decodedBlocks(objects, bs) })),
    );
    return asyncEventsRows(streams, spanProcess(blocks[0]!));
  },
};

export const jitViews: readonly JitView[] = [perProcess(logEntriesView), perProcess(measuresView), threadSpansView, asyncEventsView];

export function findJitView(name: string): JitView | undefined {
  return jitViews.find((v) => v.name === name);
}

/** A segment's partition rows as one resolver saw them, and whether one is built from `hash`. */
interface SegmentState {
  blocks: SourceBlock[];
  hash: string;
  existing: PartitionRecord[];
  current: PartitionRecord | undefined;
}

async function segmentState(tx: SqlClient, view: JitView, instance: string, seg: TimeRange): Promise<SegmentState> {
  const blocks = await view.blocks(tx, instance, seg);
  const existing = (
    await tx.query<Record<string, unknown>>(
      `SELECT * FROM lakehouse_partitions WHERE view_set = $1 AND view_instance = $2 AND begin_insert_time = $3 ORDER BY file_path`,
      [view.name, instance, seg.begin],
    )
  ).map(toPartitionRecord);
  const hash = blocksHash(blocks);
  const current = existing.find((p) => p.source_data_hash === hash && p.file_schema_hash === schemaHash(view.columns));
  return { blocks, hash, existing, current };
}

function samePaths(a: readonly PartitionRecord[], b: readonly PartitionRecord[]): boolean {
  return a.length === b.length && a.every((p, i) => p.file_path === b[i]!.file_path);
}

/** How many times a resolver rebuilds a segment another resolver replaced meanwhile before it wins regardless. */
const ATTEMPTS = 3;

/**
 * Builds of one segment under way in this process, per lake: a second query for the same segment joins the
 * first build instead of decoding the same blocks again. Resolvers in other processes are sorted out at commit.
 */
const inFlight = new WeakMap<Lake, Map<string, Promise<string | null>>>();

/**
 * The object keys of an instance's partitions covering `range`, building or rebuilding the segments whose
 * source blocks are not yet materialized.
 */
export async function resolveJit(lake: Lake, dataDir: string, view: JitView, instance: string, range: TimeRange): Promise<string[]> {
  let builds = inFlight.get(lake);
  if (!builds) inFlight.set(lake, (builds = new Map()));
  const keys: string[] = [];
  for (const seg of view.segments(range)) {
    const id = `${view.name}:${instance}:${seg.begin}`;
    let build = builds.get(id);
    if (!build) {
      const started = resolveSegment(lake, dataDir, view, instance, seg).finally(() => builds.delete(id));
      builds.set(id, (build = started));
    }
    const key = await build;
    if (key !== null) keys.push(key);
  }
  return keys;
}

/**
 * One segment, in the three phases of the daemon's steps so no transaction spans the slow part (on PGlite a
 * transaction holds the only session, and every ingestion INSERT would wait for it):
 *   1. a short transaction under the segment's advisory lock lists its blocks and partition rows: a row built
 *      from exactly these blocks is the answer (the cache);
 *   2. outside any transaction, the blocks are decoded, written to Parquet and uploaded under a fresh key;
 *   3. a short transaction under the same lock checks the rows are still those of phase 1, then replaces them
 *      with the new one. Blocks that arrived meanwhile do not void the build (it answers the query as asked;
 *      the next query extends it). If another resolver committed meanwhile, the object is deleted and its row
 *      is the answer when built from the same blocks; otherwise the segment is planned again.
 * Nothing is visible until phase 3 commits, so a crash leaves at most an unreferenced object behind.
 */
async function resolveSegment(lake: Lake, dataDir: string, view: JitView, instance: string, seg: TimeRange): Promise<string | null> {
  const lockKey = `jit:${view.name}:${instance}:${seg.begin}`;
  for (let attempt = 1; ; attempt++) {
    const plan = await lake.sql.transaction(async (tx) => {
      await lock(tx, lockKey);
      const state = await segmentState(tx, view, instance, seg);
      if (state.current) return state.current.file_path;
      if (state.blocks.length === 0) {
        await retirePartitions(tx, state.existing.map((p) => p.file_path), nowNs());
        return null;
      }
      return state;
    });
    if (plan === null || typeof plan === 'string') return plan;
    const path = scratchPath(dataDir, view.name);
    try {
      const rows = await view.rows(lake.objects, plan.blocks, seg);
      await writeParquet(rows, path, { orderBy: `"${view.timeColumn}"` });
      const stats = await fileStats(path, view.timeColumn, view.timeEndColumn);
      const objectKey = partitionKey(view.name, instance, seg.begin, seg.end);
      await uploadPartition(lake, path, objectKey);
      const winner = await lake.sql.transaction(async (tx): Promise<string | undefined> => {
        await lock(tx, lockKey);
        const now = await segmentState(tx, view, instance, seg);
        const theirs = now.existing.find((p) => p.source_data_hash === plan.hash && p.file_schema_hash === schemaHash(view.columns));
        if (theirs) return theirs.file_path;
        if (!samePaths(now.existing, plan.existing) && attempt < ATTEMPTS) return undefined;
        const created = nowNs();
        await retirePartitions(tx, now.existing.map((p) => p.file_path), created);
        await insertPartition(tx, {
          view_set: view.name,
          view_instance: instance,
          begin_insert_time: seg.begin,
          end_insert_time: seg.end,
          min_event_time: stats.minTime ?? seg.begin,
          max_event_time: stats.maxTime ?? seg.begin,
          file_path: objectKey,
          file_size: stats.fileSize,
          num_rows: stats.numRows,
          file_schema_hash: schemaHash(view.columns),
          source_data_hash: plan.hash,
          created_time: created,
        });
        return objectKey;
      });
      if (winner === objectKey) return objectKey;
      // only a definite "someone else committed" discards the object: after a failed COMMIT the row may exist
      await discardPartitionObjects(lake, [objectKey]);
      if (winner !== undefined) return winner;
    } finally {
      await removeFile(path);
    }
  }
}
