import { test } from 'node:test';
import assert from 'node:assert/strict';
import { logWhere, logCountSql, logTotalSql, logPageSql, levelName } from '../src/lib/log-query.js';

const base = { processId: 'p-1', maxLevel: 6, search: '', target: '' };

test('filters become one WHERE clause; user text is quoted and its wildcards escaped', () => {
  assert.equal(logWhere({ ...base, processId: undefined }), '');
  assert.equal(logWhere(base), "WHERE process_id = 'p-1'");
  assert.equal(
    logWhere({ processId: "it's", maxLevel: 3, search: "50%_off'", target: 'net\\http' }),
    "WHERE process_id = 'it''s' AND level <= 3 AND msg ILIKE '%50\\%\\_off''%' ESCAPE '\\' AND target ILIKE '%net\\\\http%' ESCAPE '\\'",
  );
  assert.equal(logCountSql(base), "SELECT count(*) AS n FROM log_entries WHERE process_id = 'p-1'");
  const range = { begin: Date.UTC(2024, 4, 1, 10, 0, 30), end: Date.UTC(2024, 4, 1, 10, 5, 15) };
  const whole = (sql: string) => /time_bin >= make_timestamp_ns\((\d+)::BIGINT\) AND time_bin < make_timestamp_ns\((\d+)::BIGINT\)/.exec(sql)?.slice(1);
  // whole minutes 10:01 to 10:05 from log_stats; the rest (10:00:30-10:01, 10:05-10:05:15) from log_entries
  assert.deepEqual(whole(logTotalSql(base, range)), [`${Date.UTC(2024, 4, 1, 10, 1)}000000`, `${Date.UTC(2024, 4, 1, 10, 5)}000000`]);
  assert.match(logTotalSql(base, range), /FROM log_entries WHERE \(time < .* OR time >= .*\) AND process_id = 'p-1'/);
  // a message search is answered by log_entries alone
  assert.equal(logTotalSql({ ...base, search: 'x' }, range),
    "SELECT coalesce(sum(n), 0)::BIGINT AS n FROM (SELECT count(*) AS n FROM log_entries WHERE process_id = 'p-1' AND msg ILIKE '%x%' ESCAPE '\\') counted");
  assert.equal(levelName(2), 'error');
  assert.equal(levelName(9), '9');
});

test('pages in the first half read forward; in the second half backwards from the end', () => {
  const head = logPageSql(base, 2, 500, 1_000_000);
  assert.equal(head.reversed, false);
  assert.match(head.sql, /ORDER BY time, target, msg LIMIT 500 OFFSET 1000$/);
  const tail = logPageSql(base, 1999, 500, 1_000_000); // rows 999500..999999
  assert.equal(tail.reversed, true);
  assert.match(tail.sql, /ORDER BY time DESC, target DESC, msg DESC LIMIT 500 OFFSET 0$/);
  const partial = logPageSql(base, 2, 500, 1_234); // rows 1000..1233
  assert.match(partial.sql, /LIMIT 234 OFFSET 0$/);
  const mid = logPageSql(base, 1, 500, 1_234); // rows 500..999, second half starts at 617
  assert.equal(mid.reversed, false);
  assert.equal(logPageSql(base, 3, 500).reversed, false, 'unknown total: forward');
});
