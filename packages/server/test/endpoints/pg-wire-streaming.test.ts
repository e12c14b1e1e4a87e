/**
 * The gateway streams a query's rows as the engine produces them (row-stream.ts): a result far larger than
 * the engine's whole-result cap still arrives in full, a portal read in pages and abandoned gives its query
 * slot back, and a query that fails after rows were sent ends with an error the client sees, on a
 * connection that keeps working. Real `pg` and `postgres` (porsager) clients over loopback.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import postgres from 'postgres';
import { startEngine, type EngineFixture } from '../analytics/engine-fixture.js';
import { startPgGateway, type PgGateway } from '../../src/endpoints/pg-wire/index.js';

let fx: EngineFixture;
let gw: PgGateway;
const ROWS = 120_000;
// the whole-result path would refuse more than MAX_ROWS rows; one query slot, so a leaked stream blocks the next
const MAX_ROWS = 10_000;

before(async () => {
  fx = await startEngine({ limits: { maxRows: MAX_ROWS, maxConcurrent: 1, maxQueued: 4, timeoutMs: 120_000 } });
  gw = await startPgGateway({ engine: fx.engine, port: 0, defaultRange: { begin: '2024-05-01T00:00:00Z', end: '2024-05-02T00:00:00Z' } });
});
after(async () => {
  await gw.close();
  await fx.close();
});

const client = async () => {
  const c = new pg.Client({ host: '127.0.0.1', port: gw.port, user: 'sirius', database: 'sirius' });
  await c.connect();
  return c;
};

test('simple and extended protocol: a result 12x the whole-result row cap arrives in full, in order, with its count', async () => {
  const c = await client();
  try {
    const sql = `SELECT i AS id, 'row ' || i AS label, make_timestamp(1714521600000000 + i * 1000)::TIMESTAMPTZ AS time FROM range(${ROWS}) r(i)`;
    const simple = await c.query({ text: sql, rowMode: 'array' });
    assert.equal(simple.rowCount, ROWS, 'CommandComplete says SELECT <all rows>');
    assert.equal(simple.rows.length, ROWS);
    for (const k of [0, 1, 9_999, 10_000, 65_537, ROWS - 1]) {
      const [id, label, time] = simple.rows[k] as [string, string, Date];
      assert.equal(id, String(k));
      assert.equal(label, `row ${k}`);
      assert.equal(time.getTime(), 1714521600000 + k);
    }
    assert.deepEqual(simple.fields.map((f) => [f.name, f.dataTypeID]), [['id', 20], ['label', 25], ['time', 1184]]);
    const extended = await c.query({ text: `SELECT i FROM range($1::BIGINT) r(i) WHERE i % 2 = 0`, values: [ROWS], rowMode: 'array' });
    assert.equal(extended.rows.length, ROWS / 2);
    assert.equal(extended.rows.at(-1)![0], String(ROWS - 2));
    const empty = await c.query('SELECT i AS n FROM range(0) r(i)');
    assert.deepEqual([empty.rowCount, empty.fields.map((f) => [f.name, f.dataTypeID])], [0, [['n', 20]]]);
  } finally {
    await c.end();
  }
});

test('a portal read in pages and abandoned releases its query: the single slot serves the next query', async () => {
  const sql = postgres({ host: '127.0.0.1', port: gw.port, user: 'sirius', database: 'sirius', max: 1, fetch_types: false });
  try {
    const pages: number[] = [];
    for await (const rows of sql`SELECT i FROM range(${ROWS}::BIGINT) r(i)`.cursor(1000)) {
      pages.push(rows.length);
      if (pages.length === 3) break;
    }
    assert.deepEqual(pages, [1000, 1000, 1000]);
    // with one slot, a stream still held would make this wait until the query's time budget ran out
    const [{ n }] = await sql`SELECT count(*)::INTEGER AS n FROM range(5) r(i)`;
    assert.equal(n, 5);
  } finally {
    await sql.end();
  }
});

test('a query failing after rows were sent ends with its error, and the connection keeps working', async () => {
  const c = await client();
  try {
    await assert.rejects(
      c.query(`SELECT CASE WHEN i = ${ROWS - 10} THEN error('stopped at row ' || i) ELSE i END AS v FROM range(${ROWS}) r(i)`),
      (err: Error & { code?: string }) => /stopped at row/.test(err.message) && typeof err.code === 'string' && err.code.length === 5,
    );
    const r = await c.query('SELECT 41 + 1 AS answer');
    assert.equal(r.rows[0].answer, 42);
  } finally {
    await c.end();
  }
});
