/**
 * Sirius's SQL functions on known inputs, error positions, the time budget, read-only enforcement and
 * BigInt-safe Arrow conversion — through the real engine.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startEngine, rowsOf, type EngineFixture } from './engine-fixture.js';
import { QueryError } from '../../src/analytics/query-error.js';

const RANGE = { begin: '2024-05-01T00:00:00Z', end: '2024-05-02T00:00:00Z' };

describe('analytics functions', () => {
  let f: EngineFixture;
  before(async () => {
    f = await startEngine({ limits: { timeoutMs: 30_000 } });
  });
  after(async () => f?.close());
  const one = async (sql: string) => rowsOf((await f.engine.query(sql, RANGE)).table)[0]!;

  test('property_get reads a key of a MAP and gives NULL when absent', async () => {
    const r = await one(`SELECT property_get(MAP {'a': '1', 'b': 'x'}, 'b') AS b, property_get(MAP {'a': '1'}, 'zz') AS z`);
    assert.deepEqual(r, { b: 'x', z: null });
  });

  test('date_bin bins by INTERVAL or text stride, on the epoch or an origin, keeping nanoseconds', async () => {
    const out = await f.engine.query(
      `SELECT date_bin(INTERVAL '1 minute', TIMESTAMP_NS '2024-05-01 10:03:27.123456789') AS a,
              date_bin('15 seconds', TIMESTAMP '2024-05-01 10:03:27') AS b,
              date_bin('1 hour', TIMESTAMP '2024-05-01 10:03:27', TIMESTAMP '2000-01-01 00:30:00') AS c,
              date_bin('1 minute', TIMESTAMP '1969-12-31 23:59:30') AS d,
              date_bin('1 microsecond', TIMESTAMP_NS '2024-05-01 00:00:00.000001999') AS e`,
      RANGE,
    );
    assert.deepEqual(out.sqlTypes, ['TIMESTAMP_NS', 'TIMESTAMP_NS', 'TIMESTAMP_NS', 'TIMESTAMP_NS', 'TIMESTAMP_NS']);
    const raw = out.table.schema.fields.map((_, i) => (out.table.getChildAt(i)!.data[0]!.values as BigInt64Array)[0]);
    const ns = (iso: string, extra = 0n) => BigInt(Date.parse(iso)) * 1_000_000n + extra;
    assert.deepEqual(raw, [
      ns('2024-05-01T10:03:00Z'),
      ns('2024-05-01T10:03:15Z'),
      ns('2024-05-01T09:30:00Z'),
      ns('1969-12-31T23:59:00Z'),
      ns('2024-05-01T00:00:00Z', 1000n),
    ]);
  });

  test('make_histogram, sum_histograms, quantile_from_histogram and count_from_histogram', async () => {
    const r = await one(`
      WITH parts AS (SELECT x % 4 AS g, make_histogram(0, 100, 10, x) AS h FROM range(100) t(x) GROUP BY g),
           merged AS (SELECT sum_histograms(h) AS h FROM parts)
      SELECT h, count_from_histogram(h) AS n, quantile_from_histogram(h, 0.5) AS q50,
             quantile_from_histogram(h, 0.95) AS q95, quantile_from_histogram(h, 0) AS q0, quantile_from_histogram(h, 1) AS q1
      FROM merged`);
    const h = r.h as { toJSON(): Record<string, unknown> };
    const hj = h.toJSON();
    assert.equal(hj.start, 0);
    assert.equal(hj.end, 100);
    assert.equal(hj.min, 0);
    assert.equal(hj.max, 99);
    assert.equal(hj.sum, 4950);
    assert.equal(hj.sum_sq, 328350);
    assert.equal(hj.count, 100n);
    assert.deepEqual([...(hj.bins as Iterable<bigint>)], Array(10).fill(10n));
    assert.equal(r.n, 100n);
    assert.equal(r.q50, 50);
    assert.equal(r.q95, 95);
    assert.equal(r.q0, 0);
    assert.equal(r.q1, 99); // clamped to the largest value seen
  });

  test('make_histogram clamps out-of-range values into the edge bins', async () => {
    const r = await one(`SELECT make_histogram(0, 10, 2, v).bins AS bins FROM (VALUES (-5), (1), (7), (50)) t(v)`);
    assert.deepEqual([...(r.bins as Iterable<bigint>)], [2n, 2n]);
  });

  test('DuckDB functions are there: approx_quantile, time_bucket, JSON', async () => {
    const r = await one(`SELECT approx_quantile(x, 0.5)::INTEGER AS q, json_extract_string('{"a":{"b":"c"}}', '$.a.b') AS j,
                           time_bucket(INTERVAL '1 hour', TIMESTAMP '2024-05-01 10:03:00') AS tb FROM range(101) t(x)`);
    assert.equal(r.q, 50);
    assert.equal(r.j, 'c');
    assert.equal(r.tb, Date.parse('2024-05-01T10:00:00Z'));
  });

  test('64-bit integers stay exact; sum() results become Int64', async () => {
    const out = await f.engine.query(`SELECT 9007199254740993::BIGINT AS big, sum(x) AS s, (2::HUGEINT ** 70)::HUGEINT AS huge FROM range(3) t(x)`, RANGE);
    const r = rowsOf(out.table)[0]!;
    assert.equal(r.big, 9007199254740993n);
    assert.equal(r.s, 3n);
    assert.equal(r.huge, '1180591620717411303424');
  });

  test('a failing query gives DuckDB’s message and the 1-based position of the error', async () => {
    const sql = `SELECT name,\n  nosuch\nFROM view_instance('thread_spans', 'no-such-stream')`;
    await assert.rejects(f.engine.query(`SELECT * FORM log_entries`, RANGE), (e: unknown) => {
      assert.ok(e instanceof QueryError);
      assert.equal(e.code, 'sql');
      assert.match(e.message, /syntax error at or near "log_entries"/);
      assert.equal(e.position, 15);
      return true;
    });
    const where = `SELECT y FROM range(3) t(y) WHERE y > 0 AND nosuch = 1`;
    await assert.rejects(f.engine.query(where, RANGE), (e: unknown) => {
      assert.ok(e instanceof QueryError);
      assert.match(e.message, /nosuch/);
      assert.equal(e.position, where.indexOf('nosuch') + 1);
      return true;
    });
    // after a view_instance rewrite the position still points into the text the user wrote
    await assert.rejects(f.engine.query(sql, RANGE), (e: unknown) => {
      assert.ok(e instanceof QueryError);
      assert.equal(e.position, sql.indexOf('nosuch') + 1, e.message);
      return true;
    });
  });

  test('a query past its time budget is interrupted with a clear message', async () => {
    await assert.rejects(
      f.engine.query(`SELECT count(*) FROM range(1000000000) a, range(1000000000) b`, RANGE, { timeoutMs: 200 }),
      (e: unknown) => {
        assert.ok(e instanceof QueryError);
        assert.equal(e.code, 'timeout');
        assert.match(e.message, /time budget of 200 ms/);
        return true;
      },
    );
    // the engine still answers afterwards
    assert.deepEqual(await one(`SELECT 42 AS x`), { x: 42 });
  });

  test('only SELECT runs, one statement, and no reading of arbitrary files', async () => {
    await assert.rejects(f.engine.query(`DROP MACRO date_bin`, RANGE), /only SELECT/);
    await assert.rejects(f.engine.query(`SELECT 1; SELECT 2`, RANGE), /one statement/);
    await assert.rejects(f.engine.query(`SELECT * FROM read_csv('/etc/passwd')`, RANGE), /Permission Error/);
    await assert.rejects(f.engine.query(`SELECT 1`, { begin: '2024-05-02T00:00:00Z', end: '2024-05-01T00:00:00Z' }), /time range is empty/);
    await assert.rejects(f.engine.query(`SELECT 1`, { begin: 'yesterday-ish', end: 'now' }), /cannot read time/);
  });
});
