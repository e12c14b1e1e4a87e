/**
 * The Processes page's SQL: processes active in the range with their log, error and warning counts, counted
 * as every page counts log lines (`logCountRowsSql`), so the Logs tab shows the same number for that range.
 */
import { logCountRowsSql, type MsRange } from './log-query.js';

export function processesSql(range: MsRange): string {
  const counts = logCountRowsSql(range, { maxLevel: 6, search: '', target: '' }, ['process_id', 'level']);
  return `
SELECT p.process_id, p.exe, p.computer, p.username, p.start_time, p.last_update_time, p.properties,
       coalesce(s.errors, 0) AS errors, coalesce(s.warnings, 0) AS warnings, coalesce(s.logs, 0) AS logs
FROM processes p
LEFT JOIN (
  SELECT process_id,
         sum(n) FILTER (WHERE level <= 2)::BIGINT AS errors,
         sum(n) FILTER (WHERE level = 3)::BIGINT AS warnings,
         sum(n)::BIGINT AS logs
  FROM (${counts}) counted GROUP BY process_id
) s ON s.process_id = p.process_id
ORDER BY p.last_update_time DESC NULLS LAST
LIMIT 5000`;
}
