/**
 * The timeline reads only what it shows. The thread's extent comes from its blocks' metadata; after that each
 * view (pan, zoom) asks for its visible window alone. When the window holds more spans
 * than `DETAIL_LIMIT`, the server answers per-pixel aggregates instead of spans (one row per depth and pixel:
 * count, first begin, last end, longest duration, most frequent name), so an hour at 60 fps costs as many rows
 * as the canvas has pixels per lane; zoomed in to `DETAIL_LIMIT` spans or fewer, it answers the spans
 * themselves. Both come back in one shape (`begin, end, depth, name, n, longest, total`) from one query.
 *
 * The lakehouse keeps a span by its begin, so the query's time range starts `slackNs` before the window: spans
 * that began up to that long before it and still run into it are drawn too.
 */
import { lit } from './sql.js';

/** the most spans a window loads one by one; more, and it loads per-pixel aggregates */
export const DETAIL_LIMIT = 100_000;

/**
 * Extent of a thread's trace from its blocks' metadata (no span is decoded for it): epoch ns as text (exact),
 * and how many blocks; null bounds when the thread sent nothing in the range.
 */
export function extentSql(streamId: string): string {
  return `SELECT CAST(epoch_ns(min(begin_time)) AS VARCHAR) AS b, CAST(epoch_ns(max(end_time)) AS VARCHAR) AS e, count(*) AS n
FROM blocks WHERE stream_id = ${lit(streamId)}`;
}

export interface WindowRequest {
  /** the window, epoch ns */
  begin: bigint;
  end: bigint;
  /** canvas width, px: the aggregate's resolution */
  widthPx: number;
  limit?: number;
}

/** ns per aggregate bucket for a window drawn on `widthPx` pixels (at least 1) */
export function nsPerPixel(begin: bigint, end: bigint, widthPx: number): bigint {
  const px = BigInt(Math.max(1, Math.floor(widthPx)));
  const w = (end - begin) / px;
  return w > 0n ? w : 1n;
}

/**
 * The spans of the window, or per-pixel aggregates of them when there are more than `limit`. Columns: begin,
 * end (timestamps), depth, name, n (spans in the row: 1 for a span), longest (ns), total (spans in the window).
 */
export function windowSql(streamId: string, r: WindowRequest): string {
  const limit = Math.floor(r.limit ?? DETAIL_LIMIT);
  const px = nsPerPixel(r.begin, r.end, r.widthPx);
  // materialized: the window is read once, not once per reference (about 2× faster for aggregates here)
  return `WITH w AS MATERIALIZED (
  SELECT "begin", "end", depth, name, epoch_ns("end") - epoch_ns("begin") AS d
  FROM view_instance('thread_spans', ${lit(streamId)})
  WHERE "end" > make_timestamp_ns(${r.begin}::BIGINT) AND "begin" < make_timestamp_ns(${r.end}::BIGINT)
), c AS (SELECT count(*) AS total FROM w)
SELECT "begin", "end", depth, name, 1::BIGINT AS n, d AS longest, (SELECT total FROM c) AS total
FROM w WHERE (SELECT total FROM c) <= ${limit}
UNION ALL
SELECT min("begin"), max("end"), depth, mode(name), count(*)::BIGINT, max(d), any_value((SELECT total FROM c))
FROM w WHERE (SELECT total FROM c) > ${limit}
GROUP BY depth, (greatest(epoch_ns("begin"), ${r.begin}::BIGINT) - ${r.begin}::BIGINT) // ${px}
ORDER BY 1, 3`;
}

/** The window a view asks for: the view plus half its width on each side (small pans need no new query), within the extent. */
export function paddedWindow(view: { begin: number; end: number }, extent: { begin: number; end: number }): { begin: number; end: number } {
  const w = view.end - view.begin;
  return { begin: Math.max(extent.begin, view.begin - w / 2), end: Math.min(extent.end, view.end + w / 2) };
}

export interface Loaded {
  /** the window loaded, in the view's units */
  begin: number;
  end: number;
  /** whether it holds every span of the window (else aggregates) */
  detail: boolean;
  /** the view width it was loaded for */
  viewWidth: number;
}

/**
 * Whether a new view needs a new query: it leaves the loaded window, or the loaded rows are aggregates at
 * another zoom level (more than 1.5× off). Spans loaded one by one serve every zoom inside their window.
 */
export function needsReload(view: { begin: number; end: number }, loaded: Loaded | null): boolean {
  if (!loaded) return true;
  const eps = (loaded.end - loaded.begin) * 1e-9;
  if (view.begin < loaded.begin - eps || view.end > loaded.end + eps) return true;
  if (loaded.detail) return false;
  const ratio = (view.end - view.begin) / loaded.viewWidth;
  return ratio < 1 / 1.5 || ratio > 1.5;
}

/** how long before the window the query's range starts: spans that began that long before still show */
export function slackNs(windowNs: bigint): bigint {
  const s = 1_000_000_000n;
  return windowNs > s ? windowNs : s;
}
