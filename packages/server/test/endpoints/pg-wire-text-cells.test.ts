/**
 * The direct text writers (text-cells.ts) must put exactly the bytes the general `cell()` path puts in a
 * DataRow, for every value shape DuckDB hands over: nulls, signs, 64-bit integers past 2^53, integral and
 * fractional doubles, -0, NaN and infinities, multi-byte strings, timestamps before 1970 and with every
 * fraction length, several Arrow chunks read in order and out of order.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Table } from 'apache-arrow';
import { startEngine, type EngineFixture } from '../analytics/engine-fixture.js';
import { arrowRows } from '../../src/endpoints/pg-wire/row-source.js';
import { DataRowWriter } from '../../src/endpoints/pg-wire/backend-messages.js';

let fx: EngineFixture;
const range = { begin: '2024-01-01T00:00:00Z', end: '2024-01-02T00:00:00Z' };

before(async () => {
  fx = await startEngine();
});
after(async () => {
  await fx.close();
});

/** the DataRow bytes of rows `order`, written with the direct writers and with `cell()` only */
async function bothWays(sql: string, order?: number[], times = 1): Promise<{ direct: Buffer; general: Buffer; directColumns: number }> {
  const out = await fx.engine.query(sql, range);
  // the same result `times` over, as one table of several chunks (record batches)
  const table = new Table(Array.from({ length: times }, () => out.table.batches).flat());
  const src = arrowRows(table, out.sqlTypes);
  assert.equal(table.batches.length >= times, true, 'the result spans several Arrow chunks');
  const rows = order ?? Array.from({ length: src.rowCount }, (_, i) => i);
  const write = (encoders: Parameters<DataRowWriter['row']>[0]) => {
    const w = new DataRowWriter();
    for (const r of rows) w.row(encoders, r);
    return Buffer.concat(w.take());
  };
  const encoders = src.encoders(src.columns.map(() => 'text'));
  const direct = write(encoders);
  // the batch writer (rows()) as the session drives it: stopping at a byte limit, taken, resumed
  if (order === undefined) {
    const w = new DataRowWriter();
    const parts: Buffer[] = [];
    const batchEncoders = src.encoders(src.columns.map(() => 'text'));
    for (let r = 0; r < src.rowCount; ) {
      const next = w.rows(batchEncoders, r, src.rowCount, 300);
      assert.ok(next > r, 'rows() makes progress');
      r = next;
      parts.push(...w.take());
    }
    assert.deepEqual(Buffer.concat(parts), direct, 'rows() writes what row() writes');
  }
  // fresh encoders: the direct writers keep a position in the chunks
  const general = write(src.encoders(src.columns.map(() => 'text')).map((e) => ({ cell: e.cell })));
  return { direct, general, directColumns: encoders.filter((e) => e.direct !== undefined).length };
}

test('integers, doubles, strings, booleans: the same bytes as the general path', async () => {
  const sql = `SELECT * FROM (VALUES
      (0::BIGINT, 0::INTEGER, 0.0::DOUBLE, ''::VARCHAR, true, 1::SMALLINT, 1.5::FLOAT),
      (-1, -2147483648, -0.0, 'é漢字🙂', false, -32768, -0.1::FLOAT),
      (9007199254740993, 2147483647, 1e300, 'x', NULL, NULL, 3.4e38::FLOAT),
      (-9223372036854775808, NULL, 'NaN'::DOUBLE, NULL, true, 7, 'inf'::FLOAT),
      (NULL, 5, '-inf'::DOUBLE, repeat('long ', 40), false, 0, 0::FLOAT),
      (9223372036854775807, 12345, 0.1 + 0.2, 'tab\there', true, 12, 2.0::FLOAT),
      (123456789012, -7, 2.0, 'row', false, -1, NULL),
      (9007199254740991, 1, -123456789.125, 'a', true, 2, 1e-7::FLOAT),
      (-9007199254740991, 2, 1e21, 'b', false, 3, 16777217::FLOAT),
      (4294967296, 3, 5e-324, 'c', true, 4, -0.0::FLOAT)
    ) t(i8, i4, f8, s, b, i2, f4)`;
  const r = await bothWays(sql);
  assert.equal(r.directColumns, 7, 'every column of these types has a direct writer');
  assert.ok(r.direct.length > 0);
  assert.deepEqual(r.direct, r.general);
});

test('fractional doubles of every decimal count and sign, near the fast path\'s edges: the same bytes', async () => {
  // the direct writer prints doubles of up to six decimals below 2^31 itself, the rest through String():
  // thirds and sevenths (17 digits), halves to millionths, values either side of 2^31, tiny and huge ones
  const sql = `SELECT i / 3.0 AS thirds, -i / 7.0 AS sevenths, i / 2.0 AS halves, i * 0.001 AS milli, i * 1e-6 AS micro,
      round(i * 1.37, 3) AS rounded, (i - 500) * 0.1 AS tenths, 2147483648.0 - i / 4.0 AS near_two31,
      i * 1234567.891 AS big, i * 1e-9 AS tiny, (i / 1e6)::FLOAT AS single
    FROM range(2000) r(i)`;
  const r = await bothWays(sql);
  assert.equal(r.directColumns, 11);
  assert.deepEqual(r.direct, r.general);
});

test('timestamps with and without zone, ns and µs, before 1970 and far out: the same bytes', async () => {
  const sql = `SELECT t::TIMESTAMPTZ AS tz, t AS ts_us, t::TIMESTAMP_NS AS ns, make_timestamp_ns(n) AS ns2 FROM (VALUES
      (TIMESTAMP '2024-05-01 00:00:00', 0::BIGINT),
      (TIMESTAMP '2024-05-01 12:34:56.5', 1714566896500000001),
      (TIMESTAMP '2024-05-01 23:59:59.999999', -1),
      (TIMESTAMP '1969-12-31 23:59:59.000001', -1000),
      (TIMESTAMP '1900-02-28 01:02:03.12', -2208988800123456789),
      (TIMESTAMP '2255-06-05 23:47:34.740992', 9000000000000000001),
      (TIMESTAMP '1685-01-01 00:12:44', -8999999999999999999),
      (NULL, NULL),
      (TIMESTAMP '2024-05-02 00:00:00.01', 1714608000010000000),
      (TIMESTAMP '2000-01-01 00:00:00.000100', 946684800000100000)
    ) v(t, n)`;
  const r = await bothWays(sql);
  assert.equal(r.directColumns, 4);
  assert.deepEqual(r.direct, r.general);
});

test('a result of many chunks, read in order and out of order (cursor windows): the same bytes', async () => {
  const sql = `SELECT i AS id, i / 3 AS value, 'row ' || i AS label, make_timestamp(1714521600000000 + i * 1001)::TIMESTAMPTZ AS time,
      CASE WHEN i % 7 = 0 THEN NULL ELSE i * -1 END AS maybe FROM range(10000) r(i)`;
  const inOrder = await bothWays(sql, undefined, 3);
  assert.deepEqual(inOrder.direct, inOrder.general);
  const jumpy = [29999, 0, 15000, 10000, 9999, 20001, 2047, 2048, 1, 29998, 4096, 3];
  const r = await bothWays(sql, jumpy, 3);
  assert.deepEqual(r.direct, r.general);
});
