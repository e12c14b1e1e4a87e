/**
 * The Frames tab's SQL and the link from a slow frame to the timeline. Frame times come from the `frame_time`
 * measure (one per frame, every frame); the trace of a frame is the thread span named `frame`. With tail
 * sampling only slow frames and their neighbours keep spans, so a slow measure is linked to the kept span by
 * time: the `frame` span that contains the measure's instant (within a small tolerance, since the measure is
 * written just after the frame ends) and whose duration is closest to the measured value.
 */
import { lit } from './sql.js';

/** 1.5 frames at 60 fps: the default line between an ordinary and a slow frame */
export const DEFAULT_BUDGET_MS = 25;

/** how far (ms) a frame_time measure may sit outside its frame span and still be linked to it */
export const LINK_TOLERANCE_MS = 10;

/** A budget from the URL (`?budget=`): a positive number of ms, else the default. */
export function parseBudget(text: string | null | undefined): number {
  const v = Number(text);
  return text && Number.isFinite(v) && v > 0 && v < 3_600_000 ? v : DEFAULT_BUDGET_MS;
}

/** p50, p95 and max of frame_time per bucket, with the bucket's frame count and how many were over budget. */
export function frameStatsSql(processId: string, bucketSql: string, budgetMs: number): string {
  return `SELECT date_bin(${bucketSql}, time) AS t,
  quantile_cont(value, 0.5) AS p50, quantile_cont(value, 0.95) AS p95, max(value) AS vmax,
  count(*) AS n, count(*) FILTER (WHERE value > ${num(budgetMs)}) AS slow
FROM measures WHERE process_id = ${lit(processId)} AND name = 'frame_time'
GROUP BY t ORDER BY t`;
}

const NS_COLUMNS = `CAST(epoch_ns("begin") AS VARCHAR) AS begin_ns, CAST(epoch_ns("end") AS VARCHAR) AS end_ns`;

/** every `frame` span of the given CPU streams, tagged with its stream */
function frameSpansSql(streamIds: readonly string[]): string {
  return streamIds
    .map((s) => `SELECT ${lit(s)} AS stream_id, "begin", "end" FROM view_instance('thread_spans', ${lit(s)}) WHERE name = 'frame'`)
    .join('\nUNION ALL\n');
}

/**
 * The slowest frames over budget (from frame_time), each with the `frame` span it was linked to when one was
 * kept (stream_id, begin_ns and end_ns are null otherwise). Columns: time, ms, stream_id, begin_ns, end_ns
 * (the span's edges in epoch ns, as text: exact, where a double would round them).
 */
export function slowFramesSql(processId: string, streamIds: readonly string[], budgetMs: number, limit = 50): string {
  const m = `SELECT time, value FROM measures WHERE process_id = ${lit(processId)} AND name = 'frame_time' AND value > ${num(budgetMs)}
  ORDER BY value DESC, time LIMIT ${Math.floor(limit)}`;
  if (streamIds.length === 0) {
    return `SELECT time, value AS ms, NULL::VARCHAR AS stream_id, NULL::VARCHAR AS begin_ns, NULL::VARCHAR AS end_ns FROM (${m}) m ORDER BY ms DESC, time`;
  }
  const tol = `INTERVAL '${LINK_TOLERANCE_MS} milliseconds'`;
  // distance of the measure's instant to the nearer edge of the span, plus how far the durations disagree
  const score = `abs((epoch_ns(f."end") - epoch_ns(f."begin")) / 1e6 - m.value)
      + least(abs(epoch_ns(f."end") - epoch_ns(m.time)), abs(epoch_ns(f."begin") - epoch_ns(m.time))) / 1e6`;
  return `WITH m AS (${m}),
f AS (${frameSpansSql(streamIds)}),
j AS (
  SELECT m.time, m.value AS ms, f.stream_id, f."begin", f."end",
    row_number() OVER (PARTITION BY m.time, m.value ORDER BY ${score}) AS rk
  FROM m LEFT JOIN f ON f."begin" <= m.time + ${tol} AND f."end" >= m.time - ${tol}
)
SELECT time, ms, stream_id, ${NS_COLUMNS} FROM j WHERE rk = 1 ORDER BY ms DESC, time`;
}

/**
 * When a process records frame spans but no frame_time measure: its slowest `frame` spans over budget, in
 * the same columns as `slowFramesSql`.
 */
export function slowFrameSpansSql(streamIds: readonly string[], budgetMs: number, limit = 50): string {
  return `SELECT "begin" AS time, (epoch_ns("end") - epoch_ns("begin")) / 1e6 AS ms, stream_id, ${NS_COLUMNS}
FROM (${frameSpansSql(streamIds)}) f
WHERE epoch_ns("end") - epoch_ns("begin") > ${Math.round(budgetMs * 1e6)}
ORDER BY ms DESC, time LIMIT ${Math.floor(limit)}`;
}

function num(v: number): string {
  if (!Number.isFinite(v)) throw new Error(`not a number: ${v}`);
  return String(v);
}

/** A stretch of time in epoch nanoseconds (the timeline's `?zoom=` parameter). */
export interface NsWindow {
  begin: bigint;
  end: bigint;
}

/**
 * The window the timeline opens on for a frame: the frame plus a margin on each side (a quarter of the
 * frame, at least 2 ms), so the frames around it are in view too.
 */
export function frameWindow(beginNs: bigint, endNs: bigint): NsWindow {
  const d = endNs - beginNs;
  const margin = d / 4n > 2_000_000n ? d / 4n : 2_000_000n;
  return { begin: beginNs - margin, end: endNs + margin };
}

export function formatZoom(w: NsWindow): string {
  return `${w.begin}-${w.end}`;
}

/** `?zoom=<begin ns>-<end ns>`; null when absent or malformed. */
export function parseZoom(text: string | null | undefined): NsWindow | null {
  const m = /^(\d{1,20})-(\d{1,20})$/.exec(text ?? '');
  if (!m) return null;
  const begin = BigInt(m[1]!);
  const end = BigInt(m[2]!);
  return end > begin ? { begin, end } : null;
}
