/**
 * The `Lakehouse` the analytics engine queries. Global views resolve to their committed partitions overlapping
 * the range plus, for data the daemon has not materialized yet, ephemeral local Parquet files built from the
 * blocks past the view's watermark — so a query sees events about a second after they are ingested. The
 * partitions and the watermark are read in one statement (one snapshot): a partition committed concurrently
 * is either listed or its blocks are in the tail, never both, never neither.
 * Per-instance views are just-in-time (see jit-views.ts).
 * An aborted `signal` stops the resolve between steps; the ephemeral files made so far are removed.
 *
 * @example
 *   const lakehouse = createLakehouse({ lake, dataDir: '.sirius' });
 *   const src = await lakehouse.resolve('log_entries', 'global', { begin, end });
 *   try { … read src.objectKeys and src.localFiles … } finally { await src.release(); }
 */
import { writeParquet } from './parquet-writer.js';
import { FRESH_PARTITION } from './block-view-materializer.js';
import { localCopies, removeFile, scratchPath } from './partition-files.js';
import { blocksByInsertTime, blocksHash, type SourceBlock } from './source-blocks.js';
import { runViewSql } from './sql-view-materializer.js';
import { columnsDdl } from './view-columns.js';
import { findView, globalViews, type BlockViewDefinition, type SqlViewDefinition } from './view-definitions.js';
import { findJitView, jitViews, loadColumnsUntilAborted, resolveJit } from './jit-views.js';
import { checkAborted } from './abort.js';
import type { Lakehouse, TimeRange, ViewSource } from './lakehouse.js';
import type { Lake } from '../lake/lake.js';
import type { SqlClient } from '../lake/sql-client.js';
import { overlapSql } from '../lake/event-range.js';

export class UnknownViewError extends Error {
  override readonly name = 'UnknownViewError';
  constructor(
    readonly view: string,
    readonly instance: string,
  ) {
    super(instance === 'global' ? `unknown view ${view}` : `view ${view} has no instances (asked for ${instance})`);
  }
}

export interface CreateLakehouseOptions {
  lake: Lake;
  dataDir: string;
}

export function createLakehouse({ lake, dataDir }: CreateLakehouseOptions): Lakehouse {
  return {
    viewNames() {
      return [...new Set([...globalViews.map((v) => v.name), ...jitViews.map((v) => v.name)])];
    },
    async resolve(view, instance, range, opts = {}) {
      const { signal } = opts;
      checkAborted(signal);
      if (instance === 'global') {
        const def = findView(view);
        if (!def) throw new UnknownViewError(view, instance);
        return def.kind === 'blocks' ? resolveBlockView(lake, dataDir, def, range, signal) : resolveSqlView(lake, dataDir, def, range, signal);
      }
      const jit = findJitView(view);
      if (!jit) throw new UnknownViewError(view, instance);
      const objectKeys = await resolveJit(lake, dataDir, jit, instance, range, signal);
      return { ...source(objectKeys, [], columnsDdl(jit.columns), jit.timeColumn), timeEndColumn: jit.timeEndColumn };
    },
  };
}

function source(objectKeys: string[], localFiles: string[], columns: string, timeColumn: string | null): ViewSource {
  return {
    objectKeys,
    localFiles,
    columns,
    timeColumn,
    async release() {
      await Promise.all(localFiles.map(removeFile));
    },
  };
}

interface Snapshot {
  /** partitions of the view overlapping the range */
  keys: string[];
  watermark: bigint | null;
  /** for a SQL view: source partitions past the view's watermark, overlapping the widened range */
  sourceKeys: string[];
  sourceWatermark: bigint | null;
}

const FAR_PAST = -(1n << 62n);

/**
 * Partitions overlapping the range and watermarks, read in one statement so they come from one snapshot.
 * With `sourceView`, also the source partitions the view has not consumed yet and the source's watermark.
 */
async function snapshot(sql: SqlClient, view: string, range: TimeRange, sourceView = '', sourceRange = range): Promise<Snapshot> {
  const rows = await sql.query<{ kind: string; file_path: string | null; wm: string | null }>(
    `WITH w AS (SELECT view_set, watermark FROM lakehouse_watermarks WHERE view_instance = 'global' AND view_set IN ($1, $4))
     SELECT 'p' AS kind, file_path, NULL::bigint AS wm FROM lakehouse_partitions
       WHERE view_set = $1 AND view_instance = 'global' AND ${overlapSql('min_event_time', 'max_event_time', '$2', '$3')}
     UNION ALL
     SELECT 's', file_path, NULL FROM lakehouse_partitions
       WHERE view_set = $4 AND view_instance = 'global' AND ${overlapSql('min_event_time', 'max_event_time', '$5', '$6')}
         AND begin_insert_time >= coalesce((SELECT watermark FROM w WHERE view_set = $1), $7)
     UNION ALL
     SELECT CASE WHEN view_set = $1 THEN 'w' ELSE 'sw' END, NULL, watermark FROM w`,
    [view, range.begin, range.end, sourceView, sourceRange.begin, sourceRange.end, FAR_PAST],
  );
  const out: Snapshot = { keys: [], watermark: null, sourceKeys: [], sourceWatermark: null };
  for (const r of rows) {
    if (r.kind === 'p') out.keys.push(r.file_path!);
    else if (r.kind === 's') out.sourceKeys.push(r.file_path!);
    else if (r.kind === 'w') out.watermark = BigInt(r.wm!);
    else if (r.kind === 'sw') out.sourceWatermark = BigInt(r.wm!);
  }
  return out;
}

/** Blocks of the view's tag inserted at or after `watermark` and overlapping the range in event time. */
async function tailBlocks(sql: SqlClient, tag: string, watermark: bigint | null, range: TimeRange): Promise<SourceBlock[]> {
  const all = await blocksByInsertTime(sql, tag, watermark ?? FAR_PAST, 1n << 62n);
  return all.filter((b) => b.begin_time < range.end && b.end_time >= range.begin);
}

async function tailFile(lake: Lake, dataDir: string, def: BlockViewDefinition, blocks: SourceBlock[], signal?: AbortSignal): Promise<string[]> {
  if (blocks.length === 0) return [];
  const columns = await loadColumnsUntilAborted(lake.objects, blocks, signal);
  checkAborted(signal);
  const path = scratchPath(dataDir, `${def.name}-tail-${blocksHash(blocks).slice(0, 8)}`);
  try {
    await writeParquet(def.rows(blocks, columns), path, FRESH_PARTITION);
    checkAborted(signal);
  } catch (err) {
    await removeFile(path);
    throw err;
  }
  return [path];
}

async function resolveBlockView(lake: Lake, dataDir: string, def: BlockViewDefinition, range: TimeRange, signal?: AbortSignal): Promise<ViewSource> {
  const snap = await snapshot(lake.sql, def.name, range);
  checkAborted(signal);
  const tail = await tailBlocks(lake.sql, def.tag, snap.watermark, range);
  checkAborted(signal);
  const local = await tailFile(lake, dataDir, def, tail, signal);
  return source(snap.keys, local, columnsDdl(def.columns), def.timeColumn);
}

/**
 * A SQL view's committed partitions, plus its not-yet-materialized part computed on the fly: the view's SQL
 * over the source partitions past the view's watermark and over the source's own unmaterialized tail.
 */
async function resolveSqlView(lake: Lake, dataDir: string, def: SqlViewDefinition, range: TimeRange, signal?: AbortSignal): Promise<ViewSource> {
  const src = findView(def.source);
  if (!src || src.kind !== 'blocks') throw new Error(`SQL view ${def.name}: source ${def.source} is not a block view`);
  // the source range is widened by the view's own binning (one minute for log_stats)
  const widened = { begin: range.begin - 60_000_000_000n, end: range.end + 60_000_000_000n };
  const snap = await snapshot(lake.sql, def.name, range, def.source, widened);
  checkAborted(signal);
  const tail = await tailBlocks(lake.sql, src.tag, snap.sourceWatermark, widened);
  checkAborted(signal);
  const pendingKeys = snap.sourceKeys;
  const tailFiles = await tailFile(lake, dataDir, src, tail, signal);
  let copies: Awaited<ReturnType<typeof localCopies>> | undefined;
  const local: string[] = [];
  try {
    checkAborted(signal);
    copies = await localCopies(lake.objects, pendingKeys, dataDir);
    checkAborted(signal);
    const inputs = [...copies.paths, ...tailFiles];
    if (inputs.length > 0) {
      const out = scratchPath(dataDir, `${def.name}-tail`);
      try {
        await runViewSql(def.sql, 'source', inputs, out);
        checkAborted(signal);
      } catch (err) {
        await removeFile(out);
        throw err;
      }
      local.push(out);
    }
  } finally {
    await copies?.release();
    await Promise.all(tailFiles.map(removeFile));
  }
  return source(snap.keys, local, columnsDdl(def.columns), def.timeColumn);
}
