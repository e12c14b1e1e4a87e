/**
 * Just-in-time views: partitions of one instance (a process or a stream) built on the first query that needs
 * them and cached in `lakehouse_partitions`, keyed by a digest of their source blocks. A cached partition whose
 * blocks changed (new blocks arrived) is rebuilt and replaces the old one in one commit (see `resolveSegment`).
 *
 * `log_entries`/`measures` per process are cut into fixed event-time segments (one hour): a segment's rows
 * are the events of the blocks overlapping it whose time falls inside it, so segments never share a row.
 * Only the hours that have blocks (or a partition) are visited, found in one statement: a query over years
 * of a process that ran for an hour builds one segment, not one per hour of its range.
 * The span views (`thread_spans` per stream, `async_events` and `process_spans` per process, span-views.ts) are
 * cut into one-minute segments rebuilt from the blocks around them (span-segments.ts). A span segment has a
 * second output, the spans open at its start (begun in earlier segments): when it has rows it is committed with the segment as a
 * partition row whose `end_insert_time` equals its `begin_insert_time`, and read only by a query whose range
 * begins in that segment. For JIT partitions `begin/end_insert_time` hold the segment bounds.
 *
 * A resolve takes the query's AbortSignal: it is checked between segments and between the steps of a build,
 * and the event loop gets a turn between segments (see abort.ts).
 */
import { nowNs } from '../clock.js';
import { HOUR, floorTo } from './block-view-materializer.js';
import { checkAborted, raceAbort, yieldTurn } from './abort.js';
import { asyncEventsView, processSpansView, threadSpansView } from './span-views.js';
import { writeParquet } from './parquet-writer.js';
import { isSpanTable, writeSpanParquet } from './span-table.js';
import { fileStats, partitionKey, type FileStats, removeFile, scratchPath, uploadPartition, discardPartitionObjects } from './partition-files.js';
import { insertPartition, lock, retirePartitions, toPartitionRecord, type PartitionRecord } from './partition-repository.js';
import { blocksByEventTime, blocksHash, loadAllColumns, type BlockColumns, type SourceBlock } from './source-blocks.js';
import { schemaHash } from './view-columns.js';
import { logEntriesView, measuresView, type BlockViewDefinition } from './view-definitions.js';
import type { ColumnSpec, RowBatch } from './row-batch.js';
import type { TimeRange } from './lakehouse.js';
import type { Lake } from '../lake/lake.js';
import type { ObjectStore } from '../lake/object-store.js';
import type { SqlClient } from '../lake/sql-client.js';

/** A span segment's rows: those it owns, and the spans open at its start (owned by earlier segments). */
export interface SegmentRows {
  owned: RowBatch;
  open: RowBatch;
}

export interface JitView {
  name: string;
  columns: readonly ColumnSpec[];
  /** column compared with the query range */
  timeColumn: string;
  /** column holding the latest time of a row, when rows are intervals */
  timeEndColumn?: string;
  /**
   * The segments of [begin, end) this view is cut into that have source blocks or a partition (one to build,
   * check or retire), oldest first. Segments without either have no rows and are skipped.
   */
  segments(lake: Lake, instance: string, range: TimeRange, signal?: AbortSignal): Promise<Iterable<TimeRange>>;
  /** the source blocks of one segment */
  blocks(sql: SqlClient, instance: string, segment: TimeRange): Promise<SourceBlock[]>;
  /**
   * The segment's outputs when already built from its current blocks, found in one statement without a
   * transaction or lock (undefined: build or check under the lock); a view without it always takes the lock.
   */
  cached?(sql: SqlClient, instance: string, segment: TimeRange): Promise<Built | undefined>;
  /** the rows of one segment; no block fetch starts once `signal` is aborted */
  rows(objects: ObjectStore, blocks: SourceBlock[], segment: TimeRange, signal?: AbortSignal): Promise<RowBatch | SegmentRows>;
}

/** A block spanning more of the range than this is placed by the hours of its events, not by its bounds. */
const WIDE = HOUR;

/**
 * The hours of `range` that hold a block of the process or a partition row of the view, from one statement (plus
 * one per wide block). A block counts in the hours its [begin_time, end_time] overlaps (as `blocksByEventTime`
 * selects a segment's blocks), as runs of hours enumerated lazily, as the resolve reaches them. A wide block
 * counts only in the hours its events fall in: its bounds are the client's word, and a block claiming to span
 * years (an event stamped 1970 next to one of today) would otherwise make a segment of every hour in between.
 */
async function hoursWithData(
  lake: Lake,
  view: BlockViewDefinition,
  processId: string,
  range: TimeRange,
  signal: AbortSignal | undefined,
): Promise<Iterable<TimeRange>> {
  if (range.end <= range.begin) return [];
  const first = floorTo(range.begin, HOUR);
  const end = floorTo(range.end - 1n, HOUR) + HOUR;
  const rows = await lake.sql.query<{ kind: string; a: string | null; b: string | null; block_id: string | null; at: string | null }>(
    `WITH spans AS (
       SELECT b.block_id, b.begin_time, greatest(b.begin_time, $3::bigint) AS lo, least(b.end_time, $4::bigint - 1) AS hi
       FROM blocks b JOIN streams s ON s.stream_id = b.stream_id
       WHERE b.process_id = $2 AND b.begin_time < $4::bigint AND b.end_time >= $3::bigint AND $1 = ANY(s.tags)
     )
     SELECT 'r' AS kind, a, max(b) AS b, NULL AS block_id, NULL::bigint AS at FROM (
       SELECT lo - ((lo % $5::bigint + $5::bigint) % $5::bigint) AS a, hi - ((hi % $5::bigint + $5::bigint) % $5::bigint) AS b
       FROM spans WHERE hi - lo <= $7::bigint
       UNION ALL
       SELECT begin_insert_time, begin_insert_time FROM lakehouse_partitions
       WHERE view_set = $6 AND view_instance = $2 AND begin_insert_time >= $3::bigint AND begin_insert_time < $4::bigint
     ) runs GROUP BY a
     UNION ALL
     SELECT 'w', lo, hi, block_id, begin_time FROM spans WHERE hi - lo > $7::bigint`,
    [view.tag, processId, first, end, HOUR, view.name, WIDE],
  );
  const runs: { first: bigint; last: bigint }[] = [];
  for (const r of rows) {
    if (r.kind === 'r') runs.push({ first: BigInt(r.a!), last: BigInt(r.b!) });
  }
  for (const r of rows) {
    if (r.kind !== 'w') continue;
    await yieldTurn(signal);
    const at = BigInt(r.at!);
    const [block] = (await blocksByEventTime(lake.sql, view.tag, 'process', processId, at, at + 1n)).filter((b) => b.block_id === r.block_id);
    if (!block) continue; // expired meanwhile
    // the hours the block overlaps, as in the narrow case; an event outside them is in no segment of the block
    const lo = floorTo(BigInt(r.a!), HOUR);
    const hi = floorTo(BigInt(r.b!), HOUR);
    const batch = view.rows([block], await loadColumnsUntilAborted(lake.objects, [block], signal));
    const times = batch.values[batch.columns.findIndex((c) => c.name === view.timeColumn)] as bigint[];
    const hours = new Set<bigint>();
    for (let i = 0; i < batch.length; i++) {
      const h = floorTo(times[i]!, HOUR);
      if (h >= lo && h <= hi) hours.add(h);
    }
    for (const h of hours) runs.push({ first: h, last: h });
  }
  runs.sort((x, y) => (x.first < y.first ? -1 : x.first > y.first ? 1 : 0));
  return hourRuns(runs);
}

/** Each hour of the runs (sorted by first hour; they may overlap) once, in order. */
function* hourRuns(runs: readonly { first: bigint; last: bigint }[]): Generator<TimeRange> {
  let next: bigint | null = null;
  for (const r of runs) {
    for (let t = next !== null && next > r.first ? next : r.first; t <= r.last; t += HOUR) yield { begin: t, end: t + HOUR };
    if (next === null || r.last + HOUR > next) next = r.last + HOUR;
  }
}

function perProcess(view: BlockViewDefinition): JitView {
  return {
    name: view.name,
    columns: view.columns,
    timeColumn: view.timeColumn,
    segments: (lake, processId, range, signal) => hoursWithData(lake, view, processId, range, signal),
    blocks: (sql, processId, seg) => blocksByEventTime(sql, view.tag, 'process', processId, seg.begin, seg.end),
    async rows(objects, blocks, seg, signal) {
      const all = view.rows(blocks, await loadColumnsUntilAborted(objects, blocks, signal));
      return filterRows(all, all.columns.findIndex((c) => c.name === view.timeColumn), seg);
    },
  };
}

/**
 * `loadAllColumns` (a bad block yields null), eight fetches at a time, starting no fetch once `signal` is
 * aborted: a query over many blocks stops within a fetch of its cancellation.
 */
export function loadColumnsUntilAborted(objects: ObjectStore, blocks: readonly SourceBlock[], signal: AbortSignal | undefined): Promise<(BlockColumns | null)[]> {
  return loadAllColumns(objects, blocks, 8, signal);
}

/** Keeps the rows whose time is in [begin, end). */
function filterRows(batch: RowBatch, timeIndex: number, seg: TimeRange): RowBatch {
  const times = batch.values[timeIndex] as bigint[];
  const keep: number[] = [];
  for (let i = 0; i < batch.length; i++) if (times[i]! >= seg.begin && times[i]! < seg.end) keep.push(i);
  if (keep.length === batch.length) return batch;
  return { columns: batch.columns, values: batch.values.map((col) => keep.map((i) => col[i])), length: keep.length };
}

export const jitViews: readonly JitView[] = [perProcess(logEntriesView), perProcess(measuresView), threadSpansView, asyncEventsView, processSpansView];

export function findJitView(name: string): JitView | undefined {
  return jitViews.find((v) => v.name === name);
}

/** A segment's partition rows as one resolver saw them, and whether one is built from `hash`. */
interface SegmentState {
  blocks: SourceBlock[];
  hash: string;
  existing: PartitionRecord[];
  /** the segment's outputs already built from `hash`, if any */
  current: Built | undefined;
}

/** The object keys of a built segment: its rows, and for span views the spans open at its start. */
export interface Built {
  owned: string;
  open: string | null;
}

/** A partition row holding the spans open at a segment's start has an empty insert range. */
function isOpenRow(p: Pick<PartitionRecord, 'begin_insert_time' | 'end_insert_time'>): boolean {
  return p.end_insert_time === p.begin_insert_time;
}

export function builtFrom(records: readonly Pick<PartitionRecord, 'file_path' | 'begin_insert_time' | 'end_insert_time'>[]): Built | undefined {
  const owned = records.find((p) => !isOpenRow(p));
  if (!owned) return undefined;
  return { owned: owned.file_path, open: records.find(isOpenRow)?.file_path ?? null };
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
  const current = builtFrom(existing.filter((p) => p.source_data_hash === hash && p.file_schema_hash === schemaHash(view.columns)));
  return { blocks, hash, existing, current };
}

function samePaths(a: readonly PartitionRecord[], b: readonly PartitionRecord[]): boolean {
  return a.length === b.length && a.every((p, i) => p.file_path === b[i]!.file_path);
}

/** How many times a resolver rebuilds a segment another resolver replaced meanwhile before it wins regardless. */
const ATTEMPTS = 3;

/** A build of one segment under way, shared by the queries waiting for it. */
interface Build {
  done: Promise<Built | null>;
  /** aborts the build once every query waiting for it has been cancelled */
  controller: AbortController;
  waiters: number;
}

/**
 * Builds of one segment under way in this process, per lake: a second query for the same segment joins the
 * first build instead of decoding the same blocks again. Resolvers in other processes are sorted out at commit.
 */
const inFlight = new WeakMap<Lake, Map<string, Build>>();

/** Every build still running per lake, those being stopped included (no longer in `inFlight`). */
const running = new WeakMap<Lake, Set<Promise<unknown>>>();

/**
 * The object keys of an instance's partitions covering `range`, building or rebuilding the segments whose
 * source blocks are not yet materialized. For span views: every segment's own rows, and the spans open at the
 * start of the segment holding `range.begin` (none begins later in the range: they are in earlier segments). Rejects with `signal.reason` once it is aborted, within one step
 * of one segment's work.
 */
export async function resolveJit(
  lake: Lake,
  dataDir: string,
  view: JitView,
  instance: string,
  range: TimeRange,
  signal?: AbortSignal,
): Promise<string[]> {
  checkAborted(signal);
  let builds = inFlight.get(lake);
  if (!builds) inFlight.set(lake, (builds = new Map()));
  let all = running.get(lake);
  if (!all) running.set(lake, (all = new Set()));
  const tracked = all;
  const keys: string[] = [];
  for (const seg of await view.segments(lake, instance, range, signal)) {
    await yieldTurn(signal);
    const id = `${view.name}:${instance}:${seg.begin}`;
    const start = (s: AbortSignal) => {
      const p = resolveSegment(lake, dataDir, view, instance, seg, s);
      const settled: Promise<unknown> = p.then(
        () => tracked.delete(settled),
        () => tracked.delete(settled),
      );
      tracked.add(settled);
      return p;
    };
    const built = await joinBuild(builds, id, start, signal);
    if (built === null) continue;
    keys.push(built.owned);
    if (built.open !== null && seg.begin <= range.begin) keys.push(built.open);
  }
  return keys;
}

/**
 * Waits for the build `id`, starting it unless one is under way. A cancelled query stops waiting at once; the
 * build goes on for the other queries waiting for it, and stops (at its next step) when none is left.
 */
async function joinBuild(
  builds: Map<string, Build>,
  id: string,
  start: (signal: AbortSignal) => Promise<Built | null>,
  signal: AbortSignal | undefined,
): Promise<Built | null> {
  let build = builds.get(id);
  if (!build) {
    const controller = new AbortController();
    const b: Build = {
      controller,
      waiters: 0,
      done: start(controller.signal).finally(() => {
        if (builds.get(id) === b) builds.delete(id);
      }),
    };
    // its waiters see the outcome; a build they all left has no one to report to
    b.done.catch(() => {});
    builds.set(id, (build = b));
  }
  const joined = build;
  joined.waiters++;
  try {
    return await raceAbort(joined.done, signal);
  } finally {
    joined.waiters--;
    if (joined.waiters === 0 && signal?.aborted) {
      // a query arriving now must start a build of its own, not join one being stopped
      if (builds.get(id) === joined) builds.delete(id);
      joined.controller.abort(signal.reason);
    }
  }
}

/** Settles once every build under way for `lake` has ended (tests: a cancelled build winds down in the background). */
export async function jitBuildsSettled(lake: Lake): Promise<void> {
  for (;;) {
    const pending = [...(running.get(lake) ?? [])];
    if (pending.length === 0) return;
    await Promise.all(pending);
  }
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
 * Nothing is visible until phase 3 commits, so a crash leaves at most an unreferenced object behind, and an
 * abort (checked before each step of phase 2) leaves the rows as they were.
 */
async function resolveSegment(
  lake: Lake,
  dataDir: string,
  view: JitView,
  instance: string,
  seg: TimeRange,
  signal: AbortSignal,
): Promise<Built | null> {
  const lockKey = `jit:${view.name}:${instance}:${seg.begin}`;
  // a segment queried again: one statement, no lock (a repeated query, or one window of a chunked export)
  const hit = await view.cached?.(lake.sql, instance, seg);
  if (hit) return hit;
  for (let attempt = 1; ; attempt++) {
    checkAborted(signal);
    const plan = await lake.sql.transaction(async (tx) => {
      await lock(tx, lockKey);
      const state = await segmentState(tx, view, instance, seg);
      if (state.current) return state.current;
      if (state.blocks.length === 0) {
        await retirePartitions(tx, state.existing.map((p) => p.file_path), nowNs());
        return null;
      }
      return state;
    });
    if (plan === null || !('blocks' in plan)) return plan;
    const made: { rows: RowBatch; range: TimeRange; path: string; key?: string; stats?: FileStats }[] = [];
    try {
      const out = await view.rows(lake.objects, plan.blocks, seg, signal);
      // no object for an empty open-spans output: most segments begin between spans
      const parts = 'owned' in out ? (out.open.length > 0 ? [out.owned, out.open] : [out.owned]) : [out];
      // the open spans' output has an empty insert range, which tells it from the segment's own (isOpenRow)
      parts.forEach((rows, i) => made.push({ rows, range: i === 0 ? seg : { begin: seg.begin, end: seg.begin }, path: scratchPath(dataDir, view.name) }));
      for (const m of made) {
        checkAborted(signal);
        // span tables come in begin order and write themselves from typed columns
        if (isSpanTable(m.rows)) await writeSpanParquet(m.rows, m.path);
        else await writeParquet(m.rows, m.path, { orderBy: `"${view.timeColumn}"` });
        checkAborted(signal);
        m.stats = await fileStats(m.path, view.timeColumn, view.timeEndColumn);
        checkAborted(signal);
        const key = partitionKey(view.name, instance, m.range.begin, m.range.end);
        await uploadPartition(lake, m.path, key);
        m.key = key;
      }
      const keys = made.map((m) => m.key!);
      const mine: Built = { owned: keys[0]!, open: keys[1] ?? null };
      // not checked from here: once uploaded, committing is one short transaction and spares the next query the build
      const winner = await lake.sql.transaction(async (tx): Promise<Built | undefined> => {
        await lock(tx, lockKey);
        const now = await segmentState(tx, view, instance, seg);
        const theirs = builtFrom(now.existing.filter((p) => p.source_data_hash === plan.hash && p.file_schema_hash === schemaHash(view.columns)));
        if (theirs) return theirs;
        if (!samePaths(now.existing, plan.existing) && attempt < ATTEMPTS) return undefined;
        const created = nowNs();
        await retirePartitions(tx, now.existing.map((p) => p.file_path), created);
        for (const m of made) {
          await insertPartition(tx, {
            view_set: view.name,
            view_instance: instance,
            begin_insert_time: m.range.begin,
            end_insert_time: m.range.end,
            min_event_time: m.stats!.minTime ?? seg.begin,
            max_event_time: m.stats!.maxTime ?? seg.begin,
            file_path: m.key!,
            file_size: m.stats!.fileSize,
            num_rows: m.stats!.numRows,
            file_schema_hash: schemaHash(view.columns),
            source_data_hash: plan.hash,
            created_time: created,
          });
        }
        return mine;
      });
      if (winner === mine) return mine;
      // only a definite "someone else committed" discards the objects: after a failed COMMIT the rows may exist
      await discardPartitionObjects(lake, keys);
      if (winner !== undefined) return winner;
    } finally {
      await Promise.all(made.map((m) => removeFile(m.path)));
    }
  }
}
