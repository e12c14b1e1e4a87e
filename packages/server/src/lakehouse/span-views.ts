/**
 * The just-in-time span views, cut into one-minute segments of event time (span-segments.ts):
 * - `thread_spans` per stream: a segment holds the spans beginning in it, plus (a second output) the spans
 *   open at its start, read only when a query's range starts in that segment;
 * - `async_events` per process: a segment holds the events whose time is in it; depths count the parents
 *   whose begin lies in the segment or the SPAN_REACH before it;
 * - `process_spans` per process: the thread spans of every CPU stream of the process (with `stream_id` and
 *   the stream's `thread_name` property) and its async spans (begin and end events paired by span id), owned
 *   by segment like thread spans; `kind` says which.
 */
import { decodeBlock } from '@sirius/transit';
import { transitCodecs } from '../lake/lz4-codec.js';
import { blobKey, ObjectNotFoundError, type ObjectStore } from '../lake/object-store.js';
import { createLog } from '../log.js';
import { mapLimit } from './abort.js';
import { asyncEventsRows, ASYNC_EVENTS_COLUMNS } from './async-events.js';
import { blocksByEventTime, loadAllColumns, type SourceBlock } from './source-blocks.js';
import { pickRows, SPAN_REACH, SPAN_SEGMENT, spanSegmentOf, spanWindow, threadSegmentRows, type SpanBlock } from './span-segments.js';
import { concatSpanTables, PROCESS_SPANS_COLUMNS, spanTable, tagSpanTable, type SpanTable } from './span-table.js';
import { CallSiteTable } from './span-hash.js';
import { THREAD_SPANS_COLUMNS } from './thread-spans.js';
import { builtFrom, type Built, type JitView, type SegmentRows } from './jit-views.js';
import { blocksHash } from './source-blocks.js';
import { schemaHash } from './view-columns.js';
import type { SqlClient } from '../lake/sql-client.js';
import type { RowBatch } from './row-batch.js';
import type { DecodedBlock } from './span-blocks.js';
import type { TimeRange } from './lakehouse.js';
import type { Lake } from '../lake/lake.js';

const log = createLog('lakehouse');

/** A block claiming to span more than this counts only in the segments of its two ends (its bounds are the client's word). */
const WIDE = 3_600_000_000_000n;

export { PROCESS_SPANS_COLUMNS };

/**
 * The segments of `range` a span view visits: the one holding range.begin when any block overlaps it or the
 * reach before it (its spans open at range.begin), then every later one a block of the instance overlaps,
 * plus those with a partition row (to retire when their blocks are gone). One statement.
 */
async function spanSegments(lake: Lake, view: string, by: 'stream' | 'process', instance: string, range: TimeRange): Promise<TimeRange[]> {
  if (range.end <= range.begin) return [];
  const first = spanSegmentOf(range.begin).begin;
  const last = spanSegmentOf(range.end - 1n).begin;
  const rows = await lake.sql.query<{ k: string; a: string; b: string }>(
    `SELECT 'b' AS k, b.begin_time AS a, b.end_time AS b FROM blocks b JOIN streams s ON s.stream_id = b.stream_id
     WHERE b.${by}_id = $1 AND b.begin_time < $3 AND b.end_time >= $2 AND 'cpu' = ANY(s.tags)
     UNION ALL
     SELECT 'p', begin_insert_time, begin_insert_time FROM lakehouse_partitions
     WHERE view_set = $4 AND view_instance = $1 AND begin_insert_time >= $5 AND begin_insert_time < $3`,
    [instance, first - SPAN_REACH, last + SPAN_SEGMENT, view, first],
  );
  const starts = new Set<bigint>();
  const add = (t: bigint) => {
    const s = spanSegmentOf(t).begin;
    if (s >= first && s <= last) starts.add(s);
  };
  for (const r of rows) {
    const a = BigInt(r.a);
    const b = BigInt(r.b);
    if (r.k === 'p') starts.add(a);
    else if (b < first) starts.add(first); // in the reach before the first segment only
    else if (b - a > WIDE) (add(a), add(b));
    else {
      const lo = a < first ? first : spanSegmentOf(a).begin;
      for (let s = lo; s <= b && s <= last; s += SPAN_SEGMENT) starts.add(s);
    }
  }
  return [...starts].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0)).map((begin) => ({ begin, end: begin + SPAN_SEGMENT }));
}

/**
 * The segment's outputs when a partition row was built from exactly the blocks its window holds now: block ids
 * and partition rows in one statement (what `segmentState` compares under the lock, without the lock).
 */
async function cachedSegment(sql: SqlClient, view: JitView, by: 'stream' | 'process', instance: string, seg: TimeRange, window: TimeRange): Promise<Built | undefined> {
  const rows = await sql.query<{ k: string; v: string; h: string | null; sh: string | null; b: string | null; e: string | null }>(
    `SELECT 'b' AS k, b.block_id AS v, NULL AS h, NULL AS sh, NULL::bigint AS b, NULL::bigint AS e
     FROM blocks b JOIN streams s ON s.stream_id = b.stream_id
     WHERE b.${by}_id = $1 AND b.begin_time < $3 AND b.end_time >= $2 AND 'cpu' = ANY(s.tags)
     UNION ALL
     SELECT 'p', file_path, source_data_hash, file_schema_hash, begin_insert_time, end_insert_time FROM lakehouse_partitions
     WHERE view_set = $4 AND view_instance = $1 AND begin_insert_time = $5`,
    [instance, window.begin, window.end, view.name, seg.begin],
  );
  const ids = rows.filter((r) => r.k === 'b').map((r) => ({ block_id: r.v }) as SourceBlock);
  if (ids.length === 0) return undefined;
  const hash = blocksHash(ids);
  const schema = schemaHash(view.columns);
  return builtFrom(
    rows
      .filter((r) => r.k === 'p' && r.h === hash && r.sh === schema)
      .map((r) => ({ file_path: r.v, begin_insert_time: BigInt(r.b!), end_insert_time: BigInt(r.e!) })),
  );
}

/** Decodes blocks, 16 fetches at a time; a block that cannot be read (object gone, corrupt) is skipped and logged. */
async function decoded(objects: ObjectStore, blocks: readonly SourceBlock[], signal: AbortSignal | undefined): Promise<DecodedBlock[]> {
  const out = await mapLimit(
    blocks,
    16,
    async (b) => {
      try {
        return decodeBlock(await objects.get(blobKey(b.process_id, b.stream_id, b.block_id)), transitCodecs);
      } catch (err) {
        if (!(err instanceof ObjectNotFoundError) && (err as Error)?.name !== 'TransitError') throw err;
        log.error(`skipping block ${b.block_id}: ${(err as Error).message}`);
        return null;
      }
    },
    signal,
  );
  return out.filter((b): b is DecodedBlock => b !== null);
}

function spanProcess(b: SourceBlock) {
  return { tsc_frequency: b.tsc_frequency, start_time: b.start_time, start_ticks: b.start_ticks };
}

/** Blocks with their decoded columns, eight fetches at a time; an unreadable block is skipped (logged once). */
async function spanBlocks(objects: ObjectStore, blocks: readonly SourceBlock[], signal: AbortSignal | undefined): Promise<SpanBlock[]> {
  const cols = await loadAllColumns(objects, blocks, 8, signal);
  return blocks.map((b, i) => ({ block_id: b.block_id, begin_time: b.begin_time, begin_ticks: b.begin_ticks, end_time: b.end_time, columns: cols[i] ?? null }));
}

/** The thread spans of one stream's segment; the blocks after the segment are decoded a few at a time, only while needed. */
async function streamSegment(objects: ObjectStore, blocks: readonly SourceBlock[], seg: TimeRange, signal: AbortSignal | undefined, ready?: Map<string, SpanBlock>) {
  const before = blocks.filter((b) => b.begin_time < seg.end);
  const after = blocks.filter((b) => b.begin_time >= seg.end);
  const load = async (list: readonly SourceBlock[]) => {
    if (ready) return list.map((b) => ready.get(b.block_id)).filter((b): b is SpanBlock => b !== undefined);
    return spanBlocks(objects, list, signal);
  };
  let next = 0;
  return threadSegmentRows(
    await load(before),
    async () => {
      const batch = after.slice(next, next + 4);
      next += batch.length;
      return load(batch);
    },
    seg,
    spanProcess(blocks[0]!),
  );
}

export const threadSpansView: JitView = {
  name: 'thread_spans',
  columns: THREAD_SPANS_COLUMNS,
  timeColumn: 'begin',
  timeEndColumn: 'end',
  segments: (lake, streamId, range) => spanSegments(lake, 'thread_spans', 'stream', streamId, range),
  blocks: (sql, streamId, seg) => {
    const w = spanWindow(seg);
    return blocksByEventTime(sql, 'cpu', 'stream', streamId, w.begin, w.end);
  },
  cached: (sql, streamId, seg) => cachedSegment(sql, threadSpansView, 'stream', streamId, seg, spanWindow(seg)),
  async rows(objects, blocks, seg, signal): Promise<SegmentRows> {
    return streamSegment(objects, blocks, seg, signal);
  },
};

export const asyncEventsView: JitView = {
  name: 'async_events',
  columns: ASYNC_EVENTS_COLUMNS,
  timeColumn: 'time',
  segments: (lake, processId, range) => spanSegments(lake, 'async_events', 'process', processId, range),
  // the reach before the segment, for the parents' begins; nothing after it is needed
  blocks: (sql, processId, seg) => blocksByEventTime(sql, 'cpu', 'process', processId, seg.begin - SPAN_REACH, seg.end),
  cached: (sql, processId, seg) => cachedSegment(sql, asyncEventsView, 'process', processId, seg, { begin: seg.begin - SPAN_REACH, end: seg.end }),
  async rows(objects, blocks, seg, signal) {
    const all = await processAsyncRows(objects, blocks, signal);
    const times = all.values[ASYNC_EVENTS_COLUMNS.findIndex((c) => c.name === 'time')] as bigint[];
    const keep: number[] = [];
    for (let i = 0; i < all.length; i++) if (times[i]! >= seg.begin && times[i]! < seg.end) keep.push(i);
    return pickRows(all, keep);
  },
};

async function processAsyncRows(objects: ObjectStore, blocks: readonly SourceBlock[], signal: AbortSignal | undefined, ready?: Map<string, DecodedBlock>): Promise<RowBatch> {
  const list = ready ? blocks.map((b) => ready.get(b.block_id)).filter((b): b is DecodedBlock => b !== undefined) : await decoded(objects, blocks, signal);
  const byStream = new Map<string, DecodedBlock[]>();
  for (const d of list) {
    const l = byStream.get(d.meta.stream_id);
    if (l) l.push(d);
    else byStream.set(d.meta.stream_id, [d]);
  }
  return asyncEventsRows([...byStream].map(([stream_id, bs]) => ({ stream_id, blocks: bs })), spanProcess(blocks[0]!));
}

export const processSpansView: JitView = {
  name: 'process_spans',
  columns: PROCESS_SPANS_COLUMNS,
  timeColumn: 'begin',
  timeEndColumn: 'end',
  segments: (lake, processId, range) => spanSegments(lake, 'process_spans', 'process', processId, range),
  blocks: (sql, processId, seg) => {
    const w = spanWindow(seg);
    return blocksByEventTime(sql, 'cpu', 'process', processId, w.begin, w.end);
  },
  cached: (sql, processId, seg) => cachedSegment(sql, processSpansView, 'process', processId, seg, spanWindow(seg)),
  async rows(objects, blocks, seg, signal): Promise<SegmentRows> {
    const columns = await spanBlocks(objects, blocks, signal);
    const ready = new Map(columns.map((d) => [d.block_id, d]));
    const byStream = new Map<string, SourceBlock[]>();
    for (const b of blocks) {
      const l = byStream.get(b.stream_id);
      if (l) l.push(b);
      else byStream.set(b.stream_id, [b]);
    }
    const owned: SpanTable[] = [];
    const open: SpanTable[] = [];
    for (const [streamId, list] of byStream) {
      const thread = list[0]!.thread_name ?? '';
      const r = await streamSegment(objects, list, seg, signal, ready);
      owned.push(tagSpanTable(r.owned, streamId, thread, 'thread'));
      open.push(tagSpanTable(r.open, streamId, thread, 'thread'));
    }
    const threadNames = new Map([...byStream].map(([id, l]) => [id, l[0]!.thread_name ?? '']));
    const spans = asyncSpans(await processAsyncRows(objects, blocks, signal), blocks, threadNames, seg);
    owned.push(spans.owned);
    open.push(spans.open);
    return { owned: concatSpanTables(seg.begin, owned), open: concatSpanTables(seg.begin, open) };
  },
};

/**
 * Async spans from the time-ordered async events of the window: a span begins at its begin event and ends at
 * its first end event after it (or at the window's last known time when none is in the window); a span whose
 * begin is not in the window is left to the segment that has it. Its stream is the one of its begin event.
 */
function asyncSpans(events: RowBatch, blocks: readonly SourceBlock[], threadNames: Map<string, string>, seg: TimeRange): { owned: SpanTable; open: SpanTable } {
  const col = (name: string) => events.values[ASYNC_EVENTS_COLUMNS.findIndex((c) => c.name === name)]!;
  const [stream, time, type, span, parentSpan, depth, name, filename, target, line] = [
    'stream_id', 'time', 'event_type', 'span_id', 'parent_span_id', 'depth', 'name', 'filename', 'target', 'line',
  ].map(col) as [string[], bigint[], string[], bigint[], bigint[], number[], string[], string[], string[], number[]];
  let lastTime = seg.begin;
  for (const b of blocks) if (b.end_time > lastTime) lastTime = b.end_time;
  const beginAt = new Map<bigint, number>();
  const endOf = new Map<bigint, bigint>();
  for (let i = 0; i < events.length; i++) {
    if (type[i] === 'begin') {
      if (!beginAt.has(span[i]!)) beginAt.set(span[i]!, i);
    } else if (beginAt.has(span[i]!) && !endOf.has(span[i]!)) endOf.set(span[i]!, time[i]!);
  }
  const sites = new CallSiteTable();
  const make = () => ({ rows: [] as number[], ends: [] as bigint[] });
  const owned = make();
  const open = make();
  for (const [id, i] of beginAt) {
    const b = time[i]!;
    let e = endOf.get(id) ?? lastTime;
    if (e < b) e = b;
    const into = b >= seg.begin && b < seg.end ? owned : b < seg.begin && e >= seg.begin ? open : null;
    if (!into) continue;
    into.rows.push(i);
    into.ends.push(e);
  }
  const table = (part: ReturnType<typeof make>): SpanTable => {
    const n = part.rows.length;
    const cols = {
      idHi: new Int32Array(n), idLo: new Int32Array(n), parentHi: new Int32Array(n), parentLo: new Int32Array(n),
      depth: new Int32Array(n), begin: new Float64Array(n), end: new Float64Array(n), site: new Int32Array(n),
    };
    const dictionary: string[] = [];
    const dictIndex = new Map<string, number>();
    const tag = (s: string) => {
      let k = dictIndex.get(s);
      if (k === undefined) dictIndex.set(s, (k = dictionary.push(s) - 1));
      return k;
    };
    const tags = { dictionary, stream: new Int32Array(n), thread: new Int32Array(n), kind: new Int32Array(n) };
    part.rows.forEach((i, r) => {
      const words = (v: bigint) => [Number(BigInt.asIntN(32, v >> 32n)), Number(BigInt.asIntN(32, v))] as const;
      [cols.idHi[r], cols.idLo[r]] = words(span[i]!);
      [cols.parentHi[r], cols.parentLo[r]] = words(parentSpan[i]!);
      cols.depth[r] = depth[i]!;
      cols.begin[r] = Number(time[i]! - seg.begin);
      cols.end[r] = Number(part.ends[r]! - seg.begin);
      cols.site[r] = sites.intern(name[i]!, target[i]!, filename[i]!, line[i]!);
      tags.stream[r] = tag(stream[i]!);
      tags.thread[r] = tag(threadNames.get(stream[i]!) ?? '');
      tags.kind[r] = tag('async');
    });
    return spanTable(seg.begin, sites.sites, cols, tags);
  };
  return { owned: table(owned), open: table(open) };
}
