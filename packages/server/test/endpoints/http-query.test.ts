/**
 * `POST /api/query` over real HTTP: JSON and Arrow answers, stats header, error bodies with positions,
 * the time budget, big integers as strings, and the @sirius/client against it.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { tableFromIPC } from 'apache-arrow';
import { connect, QueryError } from '@sirius/client';
import { startQueryServer, type QueryServer } from './query-server.js';

const BEGIN = '2024-05-01T00:00:00Z';
const END = '2024-05-01T01:00:00Z';

describe('POST /api/query', () => {
  let s: QueryServer;
  before(async () => {
    s = await startQueryServer({ timeoutMs: 20_000 });
  });
  after(async () => s?.close());

  const post = (body: unknown, accept?: string) =>
    fetch(`${s.url}/api/query`, { method: 'POST', headers: { 'content-type': 'application/json', ...(accept ? { accept } : {}) }, body: JSON.stringify(body) });

  test('JSON: columns with SQL types, rows with ISO ns timestamps, big integers as strings, stats', async () => {
    const r = await post({ sql: `SELECT time, level, msg, property_get(properties, 'i') AS i, 9007199254740993::BIGINT AS big, 42::BIGINT AS small
      FROM log_entries WHERE level <= 2 ORDER BY time`, begin: BEGIN, end: END });
    assert.equal(r.status, 200);
    const body = (await r.json()) as { columns: unknown; rows: unknown; stats: { filesRead: number; rows: number } };
    assert.deepEqual(body.columns, [
      { name: 'time', type: 'TIMESTAMP_NS' }, { name: 'level', type: 'INTEGER' }, { name: 'msg', type: 'VARCHAR' },
      { name: 'i', type: 'VARCHAR' }, { name: 'big', type: 'BIGINT' }, { name: 'small', type: 'BIGINT' },
    ]);
    assert.deepEqual(body.rows, [
      { time: '2024-05-01T00:00:00.000000123Z', level: 1, msg: 'm0', i: '0', big: '9007199254740993', small: 42 },
      { time: '2024-05-01T00:00:01.000000123Z', level: 2, msg: 'm1', i: '1', big: '9007199254740993', small: 42 },
      { time: '2024-05-01T00:00:06.000000123Z', level: 1, msg: 'm6', i: '6', big: '9007199254740993', small: 42 },
      { time: '2024-05-01T00:00:07.000000123Z', level: 2, msg: 'm7', i: '7', big: '9007199254740993', small: 42 },
    ]);
    assert.equal(body.stats.filesRead, 1);
    assert.equal(body.stats.rows, 4);
    const header = JSON.parse(r.headers.get('x-sirius-query-stats')!) as { files: string[] };
    assert.equal(header.files.length, 1);
    assert.match(header.files[0]!, /^views\/log_entries\/global\//);
  });

  test('Arrow IPC stream when asked, with nanosecond timestamps intact', async () => {
    const r = await post({ sql: `SELECT time, msg FROM log_entries ORDER BY time LIMIT 2`, begin: BEGIN, end: 'now' }, 'application/vnd.apache.arrow.stream');
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('content-type'), 'application/vnd.apache.arrow.stream');
    const t = tableFromIPC(new Uint8Array(await r.arrayBuffer()));
    assert.equal(t.numRows, 2);
    assert.deepEqual(t.getChild('msg')!.toArray(), ['m0', 'm1']);
    const raw = t.getChild('time')!.data[0]!.values as unknown as BigInt64Array;
    assert.equal(raw[1], 1_714_521_601_000_000_123n);
  });

  test('SQL with characters beyond Latin-1 (in a view instance the stats header names): answered, the header ASCII JSON', async () => {
    const r = await post({ sql: `SELECT count(*) AS n FROM view_instance('log_entries', 'proc…ess 漢') WHERE msg <> '🙂'`, begin: BEGIN, end: 'now' });
    const body = (await r.json()) as { rows?: { n: number }[]; error?: string };
    assert.ok(r.status === 200 || r.status === 400, `status ${r.status}: ${JSON.stringify(body)}`);
    if (r.status === 200) {
      assert.deepEqual(body.rows, [{ n: 0 }]);
      const header = r.headers.get('x-sirius-query-stats')!;
      assert.match(header, /^[\x20-\x7e]*$/);
      assert.ok((JSON.parse(header) as { views: string[] }).views.some((v) => v.includes('proc…ess 漢')), header);
    }
  });

  test('relative begin ("1h") and end "now" are accepted', async () => {
    const r = await post({ sql: `SELECT count(*) AS n FROM log_entries`, begin: '1h', end: 'now' });
    assert.equal(r.status, 200);
    assert.deepEqual(((await r.json()) as { rows: unknown }).rows, [{ n: 0 }]);
  });

  test('errors: 400 with DuckDB’s message and the position; bad input; 408 past the time budget', async () => {
    let r = await post({ sql: `SELECT lvl FROM log_entries`, begin: BEGIN, end: END });
    assert.equal(r.status, 400);
    const e = (await r.json()) as { error: string; position: number; code: string };
    assert.match(e.error, /Referenced column "lvl" not found/);
    assert.equal(e.position, 8);
    assert.equal(e.code, 'sql');
    r = await post({ sql: 'SELECT 1' }, undefined);
    assert.equal(r.status, 400);
    assert.match(((await r.json()) as { error: string }).error, /"begin" is required/);
    r = await fetch(`${s.url}/api/query`, { method: 'POST', body: 'not json' });
    assert.equal(r.status, 400);
    r = await post({ sql: 'SELECT 1', begin: 'soon', end: 'now' });
    assert.equal(r.status, 400);
    assert.match(((await r.json()) as { error: string }).error, /cannot read time "soon"/);
  });

  test('the client returns Arrow tables and typed errors with the position', async () => {
    const client = connect(s.url);
    const t = await client.query(`SELECT level, count(*) AS n FROM log_entries GROUP BY level ORDER BY level`, new Date(BEGIN), END);
    assert.deepEqual(t.toArray().map((r) => [r.level, r.n]), [[1, 2n], [2, 2n], [3, 2n], [4, 2n], [5, 1n], [6, 1n]]);
    const withStats = await client.queryWithStats(`SELECT count(*) AS n FROM log_entries`, BEGIN, END);
    assert.equal(withStats.stats?.filesRead, 1);
    await assert.rejects(client.query(`SELECT * FROM log_entries WHERE`, BEGIN, END), (err: unknown) => {
      assert.ok(err instanceof QueryError);
      assert.equal(err.status, 400);
      assert.equal(err.code, 'sql');
      assert.equal(typeof err.position, 'number');
      return true;
    });
  });
});

describe('POST /api/query time budget', () => {
  let s: QueryServer;
  before(async () => {
    s = await startQueryServer({ timeoutMs: 300 });
  });
  after(async () => s?.close());

  test('a huge cross join is cancelled with 408 and a clear message', async () => {
    const r = await fetch(`${s.url}/api/query`, {
      method: 'POST',
      body: JSON.stringify({ sql: 'SELECT count(*) FROM range(1000000000) a, range(1000000000) b', begin: BEGIN, end: END }),
    });
    assert.equal(r.status, 408);
    const e = (await r.json()) as { error: string; code: string };
    assert.equal(e.code, 'timeout');
    assert.match(e.error, /time budget of 300 ms/);
  });
});
