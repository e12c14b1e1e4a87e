/**
 * Time columns (TIMESTAMP_NS) compared with zoned timestamps: the rewrite that casts the other side
 * (time-instant-compare.ts) on real DuckDB, and the engine using it only when DuckDB refuses the query as
 * written, keeping the original error otherwise.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { castInstantComparisons, isInstantMismatch } from '../../src/analytics/time-instant-compare.js';
import { startEngine, type EngineFixture } from './engine-fixture.js';
import { QueryError } from '../../src/analytics/query-error.js';

describe('castInstantComparisons', () => {
  let duck: DuckDBInstance;
  let conn: DuckDBConnection;
  before(async () => {
    duck = await DuckDBInstance.create(':memory:');
    conn = await duck.connect();
    await conn.run(`SET TimeZone = 'UTC'`);
    await conn.run(`CREATE TABLE log_entries AS SELECT make_timestamp_ns(1714521600000000123) AS time, 'a' AS msg, 3 AS level,
      make_timestamp_ns(1714521600000000000) AS insert_time`);
  });
  after(() => {
    conn?.closeSync();
    duck?.closeSync();
  });

  const SHAPES: [string, number][] = [
    [`SELECT count(*) FROM log_entries WHERE time >= now() - INTERVAL '100 years'`, 1],
    [`SELECT count(*) FROM log_entries WHERE current_timestamp > time`, 1],
    [`SELECT count(*) FROM log_entries l WHERE l.time BETWEEN '2024-05-01 02:00:00+02'::timestamptz AND TIMESTAMPTZ '2024-05-01 00:00:01Z'`, 1],
    [`SELECT count(*) FROM log_entries WHERE time > to_timestamp(1714521600) AND insert_time <= to_timestamp(1714521600) AND level = 3`, 1],
    [`WITH w AS (SELECT * FROM log_entries WHERE time < now()) SELECT count(*) FROM w WHERE msg = 'a'`, 1],
    // floating-point constants with integral values (1e6, 2.0) survive DuckDB's JSON round trip
    [`SELECT count(*) * 1e6 / 1e6 / 2.0 * 2.0 - 0.0 FROM log_entries WHERE time >= now() - INTERVAL '100 years'`, 1],
  ];
  for (const [sql, n] of SHAPES) {
    test(`refused as written, runs cast: ${sql.slice(0, 90)}`, async () => {
      await assert.rejects(conn.run(sql), (err: Error) => isInstantMismatch(err.message));
      const rewritten = await castInstantComparisons(conn, sql);
      assert.ok(rewritten, 'rewritten');
      assert.match(rewritten, /TIMESTAMP_NS/);
      const rows = (await conn.runAndReadAll(rewritten)).getRows();
      assert.equal(Number(rows[0]![0]), n);
    });
  }

  test('IN lists are cast too (DuckDB itself accepts them)', async () => {
    const rewritten = await castInstantComparisons(conn, `SELECT count(*) FROM log_entries WHERE time IN ('2024-05-01T00:00:00Z'::timestamptz, now())`);
    assert.match(rewritten!, /IN \(CAST\(/);
    assert.equal(Number((await conn.runAndReadAll(rewritten!)).getRows()[0]![0]), 0);
  });

  test('nothing to cast: other columns, text literals, columns on both sides', async () => {
    assert.equal(await castInstantComparisons(conn, `SELECT * FROM log_entries WHERE level > 2 AND msg = 'x'`), undefined);
    assert.equal(await castInstantComparisons(conn, `SELECT * FROM log_entries WHERE time > '2024-05-01' AND time < insert_time`), undefined);
  });

  test('a literal too large for a JS number is never rendered back', async () => {
    assert.equal(await castInstantComparisons(conn, `SELECT * FROM log_entries WHERE time > now() AND level <> 123456789012345678901`), undefined);
  });
});

describe('the engine and zoned comparisons', () => {
  let f: EngineFixture;
  before(async () => {
    f = await startEngine();
  });
  after(async () => f?.close());
  const range = { begin: '2024-05-01T00:00:00Z', end: '2024-05-02T00:00:00Z' };

  test('a query with a zoned comparison runs; other errors keep their message, and their position when it is the user\'s text', async () => {
    const ok = await f.engine.query(`SELECT count(*) AS n FROM log_entries WHERE time >= '2024-05-01 02:00:00+02'::timestamptz`, range);
    assert.equal(ok.table.getChild('n')!.get(0), 0n);
    // found only once the comparison is cast: named, with no position in text the user did not write
    await assert.rejects(f.engine.query(`SELECT nope FROM log_entries WHERE time >= now()`, range), (err: QueryError) => {
      assert.equal(err.code, 'sql');
      assert.match(err.message, /"nope"/);
      assert.equal(err.position, undefined);
      return true;
    });
    // found before: the original error, with its position
    const sql = `SELECT count(*) FROM log_entries WHERE nope >= now()`;
    await assert.rejects(f.engine.query(sql, range), (err: QueryError) => {
      assert.match(err.message, /"nope"/);
      assert.equal(err.position, sql.indexOf('nope') + 1);
      return true;
    });
  });
});
