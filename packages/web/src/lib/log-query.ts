/**
 * The log viewer's SQL: one WHERE clause from the filters, a count, and pages of rows by offset. Paging
 * keeps a million-line result in the engine; the browser only holds the pages near the viewport.
 *
 * ```ts
 * logPageSql({ processId: 'p1', maxLevel: 3, search: 'timeout', target: '' }, 2, 500);
 * ```
 */
import { lit, likeContains } from './sql.js';

export interface LogFilter {
  processId?: string;
  /** show levels 1..maxLevel (1 fatal … 6 trace) */
  maxLevel: number;
  search: string;
  target: string;
}

export const LEVELS = ['', 'fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const;

export function levelName(level: number): string {
  return LEVELS[level] ?? String(level);
}

/** the filter's conditions; `log_stats` has every column they name except `msg` */
function conditions(f: LogFilter): string[] {
  const parts: string[] = [];
  if (f.processId) parts.push(`process_id = ${lit(f.processId)}`);
  if (f.maxLevel < 6) parts.push(`level <= ${Math.max(1, Math.floor(f.maxLevel))}`);
  if (f.search) parts.push(`msg ILIKE ${likeContains(f.search)} ESCAPE '\\'`);
  if (f.target) parts.push(`target ILIKE ${likeContains(f.target)} ESCAPE '\\'`);
  return parts;
}

export function logWhere(f: LogFilter): string {
  const parts = conditions(f);
  return parts.length ? `WHERE ${parts.join(' AND ')}` : '';
}

/** the range a page queries, in epoch milliseconds, end excluded */
export interface MsRange {
  begin: number;
  end: number;
}

export type LogCountKey = 'process_id' | 'level' | 'target';

const MINUTE_MS = 60_000;
const nsLiteral = (ms: number) => `make_timestamp_ns(${Math.round(ms)}000000::BIGINT)`;

/**
 * Log lines in `range` matching `f`, as rows of the `groupBy` columns and `n`; summed, they equal
 * `count(*)` over `log_entries` for the same range, which is what the Logs tab counts (`logCountSql`): the
 * Processes page and the Overview go through here, so one range gives one count everywhere. `log_stats` is binned by minute and the engine keeps a bin when its
 * start is in range: alone it would drop a partly covered first minute and count all of a partly covered
 * last one. So whole minutes come from `log_stats` and the partly covered minutes at either edge from
 * `log_entries`. A message search can only be answered by `log_entries`.
 */
export function logCountRowsSql(range: MsRange, f: LogFilter, groupBy: readonly LogCountKey[] = []): string {
  const keys = groupBy.join(', ');
  const select = keys ? `${keys}, ` : '';
  const group = keys ? ` GROUP BY ${keys}` : '';
  if (f.search) return `SELECT ${select}count(*) AS n FROM log_entries ${logWhere(f)}${group}`;
  // [wholeFrom, wholeTo) is the whole minutes inside the range; empty (or reversed) when it spans none
  const wholeFrom = nsLiteral(Math.ceil(range.begin / MINUTE_MS) * MINUTE_MS);
  const wholeTo = nsLiteral(Math.floor(range.end / MINUTE_MS) * MINUTE_MS);
  const edges = [`(time < ${wholeFrom} OR time >= ${wholeTo})`, ...conditions(f)];
  const whole = [`time_bin >= ${wholeFrom}`, `time_bin < ${wholeTo}`, ...conditions(f)];
  return `SELECT ${select}count(*) AS n FROM log_entries WHERE ${edges.join(' AND ')}${group}
UNION ALL
SELECT ${select}sum(count) AS n FROM log_stats WHERE ${whole.join(' AND ')}${group}`;
}

/**
 * The Logs tab's count: `count(*)` over the very rows it pages through, the number every other page's
 * `logCountRowsSql` equals for the same range. (Counting the tab from `log_stats` too would be slower for a live
 * range, whose newest minutes `log_stats` computes on the fly, and would hold up the pages of rows.)
 */
export function logCountSql(f: LogFilter): string {
  return `SELECT count(*) AS n FROM log_entries ${logWhere(f)}`;
}

/** One row, `n`: the number of log lines in `range` matching `f`, counted as `logCountRowsSql` does. */
export function logTotalSql(f: LogFilter, range: MsRange): string {
  return `SELECT coalesce(sum(n), 0)::BIGINT AS n FROM (${logCountRowsSql(range, f)}) counted`;
}

/** One row: `total`, `errors` (levels 1-2) and `warnings` (level 3) in `range`, counted as `logCountRowsSql` does. */
export function logTotalsSql(range: MsRange): string {
  return `SELECT coalesce(sum(n), 0)::BIGINT AS total,
  coalesce(sum(n) FILTER (WHERE level <= 2), 0)::BIGINT AS errors, coalesce(sum(n) FILTER (WHERE level = 3), 0)::BIGINT AS warnings
FROM (${logCountRowsSql(range, { maxLevel: 6, search: '', target: '' }, ['level'])}) counted`;
}

/**
 * One page of rows in time order. Pages in the second half are read backwards from the end (a small top-N
 * instead of sorting past a huge offset), so the live tail of a million lines is as fast as the head;
 * `reversed` says the rows arrive newest first.
 */
export function logPageSql(f: LogFilter, page: number, pageSize: number, total = Infinity): { sql: string; reversed: boolean } {
  const first = page * pageSize;
  const cols = `SELECT time, level, target, msg FROM log_entries ${logWhere(f)}`;
  if (!Number.isFinite(total) || first < total / 2) {
    return { sql: `${cols} ORDER BY time, target, msg LIMIT ${pageSize} OFFSET ${first}`, reversed: false };
  }
  const last = Math.min(first + pageSize, total);
  return { sql: `${cols} ORDER BY time DESC, target DESC, msg DESC LIMIT ${Math.max(0, last - first)} OFFSET ${total - last}`, reversed: true };
}
