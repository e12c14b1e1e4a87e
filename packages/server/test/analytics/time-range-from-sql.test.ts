/**
 * The range a query bounds itself to, derived from its predicates on time (time-range-from-sql.ts), and
 * the precedence explicit > derived > default (time-range-resolver.ts). Real DuckDB parses every shape.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTimeRangeResolver, type TimeRangeResolver } from '../../src/analytics/time-range-resolver.js';

const NS = (iso: string) => BigInt(Date.parse(iso)) * 1_000_000n;
const D1 = NS('2024-05-01T00:00:00Z');
const D2 = NS('2024-05-02T00:00:00Z');
const HOUR = 3_600_000_000_000n;
const NOW = Date.parse('2024-06-01T00:00:00Z'); // anchors explicit and default ranges (not DuckDB's now())

let r: TimeRangeResolver;
before(async () => {
  r = await createTimeRangeResolver({ defaultRange: '24h' });
});
after(() => r.close());

async function derived(sql: string) {
  const out = await r.resolve(sql, {}, NOW);
  return { begin: out.source.begin === 'query' ? out.begin : undefined, end: out.source.end === 'query' ? out.end : undefined, out };
}

const BOTH: [string, bigint, bigint][] = [
  [`SELECT * FROM log_entries WHERE time BETWEEN '2024-05-01T00:00:00Z' AND '2024-05-02T00:00:00Z'`, D1, D2 + 1n],
  [`SELECT * FROM log_entries WHERE time >= '2024-05-01' AND time < '2024-05-02'`, D1, D2],
  [`SELECT * FROM log_entries WHERE time > '2024-05-01T00:00:00Z' AND time <= '2024-05-02T00:00:00Z'`, D1 + 1n, D2 + 1n],
  [`SELECT * FROM log_entries WHERE '2024-05-02T00:00:00Z' > time AND '2024-05-01T00:00:00Z' <= time`, D1, D2],
  // literals with a zone offset, casts, typed literals
  [`SELECT * FROM log_entries WHERE time >= '2024-05-01 02:00:00+02'::timestamptz AND time < TIMESTAMPTZ '2024-05-02 00:00:00Z'`, D1, D2],
  [`SELECT * FROM log_entries WHERE time >= CAST('2024-05-01' AS TIMESTAMP) AND time < '2024-05-02'::TIMESTAMP_NS`, D1, D2],
  [`SELECT * FROM log_entries WHERE time >= to_timestamp(${Number(D1 / 1_000_000_000n)}) AND time < to_timestamp(${Number(D2 / 1_000_000_000n)})`, D1, D2],
  [`SELECT * FROM log_entries WHERE time = '2024-05-01T00:00:00.000000005Z'`, D1 + 5n, D1 + 6n],
  // nanoseconds in the literal are kept
  [`SELECT * FROM log_entries WHERE time >= '2024-05-01T00:00:00.000000123Z' AND time < '2024-05-02'`, D1 + 123n, D2],
  // qualified, aliased, quoted; intersection of several bounds; other conjuncts ignored
  [`SELECT l.msg FROM log_entries AS l WHERE l.level <= 3 AND l."time" >= '2024-04-01' AND l.time >= '2024-05-01' AND l.time < '2024-05-02' AND l.target = 'x'`, D1, D2],
  // Grafana's $__timeFilter(time) for PostgreSQL
  [`SELECT $$x$$ AS a, count(*) FROM log_entries WHERE time BETWEEN '2024-05-01T00:00:00Z' AND '2024-05-02T00:00:00Z' GROUP BY 1`, D1, D2 + 1n],
  // interval arithmetic on literals, date_trunc
  [`SELECT * FROM measures WHERE time >= TIMESTAMP '2024-05-02' - INTERVAL '1 day' AND time < date_trunc('day', TIMESTAMPTZ '2024-05-02 13:00:00Z')`, D1, D2],
  // the hull of a UNION, subqueries and CTEs each bound
  [`SELECT * FROM log_entries WHERE time >= '2024-05-01T12:00:00Z' AND time < '2024-05-02' UNION ALL SELECT * FROM log_entries WHERE time BETWEEN '2024-05-01' AND '2024-05-01T06:00:00Z'`, D1, D2],
  [`WITH w AS (SELECT * FROM log_entries WHERE time >= '2024-05-01' AND time < '2024-05-02') SELECT count(*) FROM w`, D1, D2],
  [`SELECT count(*) FROM (SELECT * FROM measures WHERE time >= '2024-05-01' AND time < '2024-05-02') m JOIN processes p USING (process_id)`, D1, D2],
  // a join: each view bound by its own alias; metadata views follow the range
  [`SELECT * FROM log_entries l JOIN measures m ON l.process_id = m.process_id WHERE l.time >= '2024-05-01' AND m.time >= '2024-05-01T01:00:00Z' AND l.time < '2024-05-02' AND m.time < '2024-05-01T02:00:00Z'`, D1, D2],
  [`SELECT * FROM log_entries l JOIN processes p USING (process_id) WHERE time >= '2024-05-01' AND time < '2024-05-02'`, D1, D2],
  // view_instance and the views' own time columns
  [`SELECT * FROM view_instance('thread_spans', 'p1') WHERE "begin" >= '2024-05-01' AND "begin" < '2024-05-02'`, D1, D2],
  [`SELECT * FROM view_instance('log_entries', 'p1') AS v WHERE v.time >= '2024-05-01' AND v.time < '2024-05-02'`, D1, D2],
  [`SELECT * FROM log_stats WHERE time_bin >= '2024-05-01' AND time_bin < '2024-05-02'`, D1, D2],
  // a metadata-only query bounded on its column
  [`SELECT * FROM processes WHERE start_time >= '2024-05-01' AND start_time < '2024-05-02'`, D1, D2],
  // DuckDB's parser turns NOT (time < x) into time >= x
  [`SELECT * FROM log_entries WHERE NOT (time < '2024-05-01') AND time < '2024-05-02'`, D1, D2],
  // a column cast to a coarser type widens by the cast's resolution
  [`SELECT * FROM log_entries WHERE time::DATE = '2024-05-01'`, D1 - 86_400_000_000_000n, D1 + 1n + 86_400_000_000_000n],
];

for (const [sql, begin, end] of BOTH) {
  test(`derives [begin, end) from: ${sql.slice(0, 110)}`, async () => {
    const d = await derived(sql);
    assert.equal(d.begin, begin);
    assert.equal(d.end, end);
  });
}

const NOTHING = [
  `SELECT * FROM log_entries`,
  `SELECT * FROM log_entries WHERE level <= 2`,
  // OR: conservative, no bound
  `SELECT * FROM log_entries WHERE time >= '2024-05-01' OR level = 1`,
  `SELECT * FROM log_entries WHERE (time >= '2024-05-01' AND time < '2024-05-02') OR target = 'x'`,
  `SELECT * FROM log_entries WHERE NOT (time < '2024-05-01' AND level = 1)`,
  `SELECT * FROM log_entries WHERE time NOT BETWEEN '2024-05-01' AND '2024-05-02'`,
  // the bound is outside the SELECT that reads the view
  `SELECT * FROM (SELECT * FROM log_entries) s WHERE time >= '2024-05-01'`,
  `WITH w AS (SELECT * FROM log_entries) SELECT * FROM w WHERE time >= '2024-05-01'`,
  // one SELECT of a UNION is unbounded
  `SELECT msg FROM log_entries WHERE time >= '2024-05-01' UNION ALL SELECT msg FROM log_entries`,
  // not constants: columns, subqueries, parameters, functions with effects
  `SELECT * FROM log_entries WHERE time >= insert_time`,
  `SELECT * FROM log_entries WHERE time >= (SELECT max(time) FROM measures)`,
  `SELECT * FROM log_entries WHERE time >= $1`,
  `SELECT * FROM log_entries WHERE time >= random()::TIMESTAMP`,
  // another table's column, or another column
  `SELECT * FROM log_entries l JOIN measures m USING (process_id) WHERE m.time >= '2024-05-01'`,
  `SELECT * FROM log_entries WHERE insert_time >= '2024-05-01'`,
  // not a SELECT DuckDB can serialize, or not SQL at all
  `EXPLAIN SELECT * FROM log_entries WHERE time >= '2024-05-01'`,
  `SELEC oops`,
  `SELECT * FROM log_entries WHERE time >= 'not a time'`,
];

for (const sql of NOTHING) {
  test(`derives nothing from: ${sql.slice(0, 110)}`, async () => {
    const d = await derived(sql);
    assert.equal(d.begin, undefined);
    assert.equal(d.end, undefined);
    // …so the default applies: the last 24 h before the caller's now
    assert.equal(d.out.source.begin, 'default');
    assert.equal(d.out.end, BigInt(NOW) * 1_000_000n);
    assert.equal(d.out.begin, d.out.end - 24n * HOUR);
  });
}

test('now() and current_timestamp with intervals bound the range around the clock', async () => {
  const before = BigInt(Date.now()) * 1_000_000n;
  const d = await derived(`SELECT * FROM log_entries WHERE time >= now() - INTERVAL '7 days' AND time < current_timestamp + INTERVAL 1 HOUR`);
  const after = BigInt(Date.now()) * 1_000_000n;
  const week = 7n * 24n * HOUR;
  assert.ok(d.begin! >= before - week - 1_000_000n && d.begin! <= after - week, `begin ${d.begin}`);
  assert.ok(d.end! >= before + HOUR - 1_000_000n && d.end! <= after + HOUR, `end ${d.end}`);
});

test('one side bounded: the other is now (lower bound) or the epoch (upper bound)', async () => {
  const lower = await r.resolve(`SELECT * FROM log_entries WHERE time >= '2024-05-01'`, {}, NOW);
  assert.deepEqual([lower.begin, lower.end, lower.source], [D1, BigInt(NOW) * 1_000_000n, { begin: 'query', end: 'default' }]);
  const upper = await r.resolve(`SELECT * FROM log_entries WHERE time < '2024-05-01'`, {}, NOW);
  assert.deepEqual([upper.begin, upper.end, upper.source], [0n, D1, { begin: 'query', end: 'query' }]);
});

test('explicit sides win over the query; the query fills what is not given', async () => {
  const sql = `SELECT * FROM log_entries WHERE time BETWEEN '2024-05-01T00:00:00Z' AND '2024-05-02T00:00:00Z'`;
  const both = await r.resolve(sql, { begin: '2024-04-01T00:00:00Z', end: '2024-04-02T00:00:00Z' }, NOW);
  assert.deepEqual([both.begin, both.end], [NS('2024-04-01T00:00:00Z'), NS('2024-04-02T00:00:00Z')]);
  const half = await r.resolve(sql, { begin: '2024-04-01T00:00:00Z' }, NOW);
  assert.deepEqual([half.begin, half.end, half.source], [NS('2024-04-01T00:00:00Z'), D2 + 1n, { begin: 'explicit', end: 'query' }]);
  const relative = await r.resolve(`SELECT 1`, { begin: '1h' }, NOW);
  assert.deepEqual([relative.begin, relative.end], [BigInt(NOW) * 1_000_000n - HOUR, BigInt(NOW) * 1_000_000n]);
});

test('an empty explicit range is refused; a query bounding itself to nothing reads a 1 ns range', async () => {
  await assert.rejects(r.resolve('SELECT 1', { begin: '2024-05-02T00:00:00Z', end: '2024-05-01T00:00:00Z' }, NOW), /time range is empty/);
  const empty = await r.resolve(`SELECT * FROM log_entries WHERE time >= '2024-05-02' AND time < '2024-05-01'`, {}, NOW);
  assert.equal(empty.end - empty.begin, 1n);
});

test('the default range is configurable and checked', async () => {
  const week = await createTimeRangeResolver({ defaultRange: '7d' });
  try {
    const out = await week.resolve('SELECT * FROM log_entries', {}, NOW);
    assert.equal(out.end - out.begin, 7n * 24n * HOUR);
  } finally {
    week.close();
  }
  await assert.rejects(createTimeRangeResolver({ defaultRange: 'yesterday' }), /default query range "yesterday"/);
});
