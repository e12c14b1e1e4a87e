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

export function logWhere(f: LogFilter): string {
  const parts: string[] = [];
  if (f.processId) parts.push(`process_id = ${lit(f.processId)}`);
  if (f.maxLevel < 6) parts.push(`level <= ${Math.max(1, Math.floor(f.maxLevel))}`);
  if (f.search) parts.push(`msg ILIKE ${likeContains(f.search)} ESCAPE '\\'`);
  if (f.target) parts.push(`target ILIKE ${likeContains(f.target)} ESCAPE '\\'`);
  return parts.length ? `WHERE ${parts.join(' AND ')}` : '';
}

export function logCountSql(f: LogFilter): string {
  return `SELECT count(*) AS n FROM log_entries ${logWhere(f)}`;
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
