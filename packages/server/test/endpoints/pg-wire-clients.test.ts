/**
 * The PostgreSQL wire gateway with the clients people run: node `pg`, postgres.js, psql, and Python's
 * psycopg2 / pandas / SQLAlchemy. Each case is a failure users reported (issue 12): quoted client_encoding,
 * cursors and portal row limits, COPY TO STDOUT, pg_stat_activity and cancelling, PostgreSQL's column
 * names, 25006 for writes, time columns as timestamptz instants, and Grafana's metadata queries.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import postgres from 'postgres';
import { startQueryServer, type QueryServer } from './query-server.js';
import { startPgGateway, type PgGateway } from '../../src/endpoints/pg-wire/index.js';
import { catalogRelations } from '../../src/endpoints/pg-wire/catalog-relations.js';
import { grafanaColumns, grafanaSchemas, grafanaTables, grafanaTimescaleVersion, grafanaVersion } from './grafana-postgres-queries.js';
import { PYTHON, pythonSkip } from '../support/debian-python.js';

const PSQL = '/usr/bin/psql';
const PY_SCRIPT = fileURLToPath(new URL('./pg-wire-python-client.py', import.meta.url));

const run = (file: string, args: string[], env: Record<string, string> = {}) =>
  new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(file, args, { env: { ...process.env, PGCONNECT_TIMEOUT: '10', ...env }, timeout: 120_000, maxBuffer: 16 * 2 ** 20, encoding: 'latin1' }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });

/** waits until `check` returns a value, polling; fails after the deadline */
async function waitFor<T>(what: string, check: () => Promise<T | undefined>, deadlineMs = 30_000): Promise<T> {
  const end = Date.now() + deadlineMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const LONG_QUERY = 'SELECT count(*) FROM range(1000000000) a, range(1000000000) b';
const VIEWS = catalogRelations().map((r) => r.name).sort();

describe('PostgreSQL wire gateway with real clients', () => {
  let s: QueryServer;
  let gw: PgGateway;
  const clients: pg.Client[] = [];
  const connect = async (extra: Partial<pg.ClientConfig> & Record<string, unknown> = {}) => {
    const c = new pg.Client({ host: '127.0.0.1', port: gw.port, user: 'sirius', database: 'sirius', ...extra });
    clients.push(c);
    await c.connect();
    return c;
  };
  const psql = (args: string[], env: Record<string, string> = {}) => run(PSQL, ['-h', '127.0.0.1', '-p', String(gw.port), '-U', 'sirius', '-X', ...args], env);

  before(async () => {
    s = await startQueryServer({ timeoutMs: 30_000 });
    gw = await startPgGateway({ engine: s.engine.engine, port: 0, defaultRange: { begin: '2024-05-01T00:00:00Z', end: '2024-05-01T01:00:00Z' } });
  });
  after(async () => {
    for (const c of clients) await c.end().catch(() => undefined);
    await gw?.close();
    await s?.close();
  });

  test('client_encoding: quoted and other spellings of UTF8 are accepted, other encodings refused with 22023', async () => {
    // postgres.js sends `connection` entries in the startup packet, as asyncpg sends client_encoding='utf-8' (quotes included)
    const startup = (clientEncoding: string) =>
      postgres({ host: '127.0.0.1', port: gw.port, username: 'sirius', database: 'sirius', max: 1, onnotice: () => undefined, connection: { client_encoding: clientEncoding } });
    for (const spelling of ["'utf-8'", 'utf8', 'UTF-8', '"Utf_8"', 'unicode']) {
      const sql = startup(spelling);
      try {
        const [row] = await sql`SHOW client_encoding`;
        assert.equal(row!.client_encoding, 'UTF8', spelling);
      } finally {
        await sql.end();
      }
    }
    const latin = startup('LATIN1');
    try {
      await assert.rejects(latin`SELECT 1`, (err: { code?: string; message: string }) => err.code === '22023' && /client_encoding.*LATIN1.*UTF8/.test(err.message));
    } finally {
      await latin.end();
    }
    const c = await connect();
    for (const spelling of ["'utf-8'", "'UTF8'", 'utf8', "'Unicode'"]) {
      await c.query(`SET client_encoding TO ${spelling}`);
      assert.equal((await c.query('SHOW client_encoding')).rows[0].client_encoding, 'UTF8');
    }
    await assert.rejects(c.query(`SET client_encoding = 'SQL_ASCII'`), (err: pg.DatabaseError) => err.code === '22023');
  });

  test('cursors: DECLARE, FETCH, MOVE, CLOSE within a transaction; WITH HOLD outlives it (pg)', async () => {
    const c = await connect();
    await assert.rejects(c.query('DECLARE c CURSOR FOR SELECT 1'), (err: pg.DatabaseError) => err.code === '25P01');
    await c.query('BEGIN');
    const declared = await c.query('DECLARE c NO SCROLL CURSOR FOR SELECT msg FROM log_entries ORDER BY time');
    assert.equal(declared.command, 'DECLARE');
    const first = await c.query('FETCH FORWARD 3 FROM c');
    assert.deepEqual([first.command, first.rowCount, first.rows.map((r) => r.msg)], ['FETCH', 3, ['m0', 'm1', 'm2']]);
    assert.equal((await c.query('MOVE 2 IN c')).rowCount, 2);
    assert.deepEqual((await c.query('FETCH NEXT FROM c')).rows.map((r) => r.msg), ['m5']);
    assert.deepEqual((await c.query('FETCH ALL FROM c')).rows.map((r) => r.msg), ['m6', 'm7', 'm8', 'm9']);
    assert.equal((await c.query('FETCH 5 FROM c')).rowCount, 0);
    await assert.rejects(c.query('FETCH BACKWARD 1 FROM c'), (err: pg.DatabaseError) => err.code === '55000');
    await c.query('ROLLBACK');
    await c.query('BEGIN');
    await c.query('DECLARE "Kept" CURSOR WITH HOLD FOR SELECT level FROM log_entries ORDER BY time');
    await c.query('DECLARE gone CURSOR FOR SELECT 1 AS x');
    await assert.rejects(c.query('DECLARE gone CURSOR FOR SELECT 1'), (err: pg.DatabaseError) => err.code === '42P03');
    await c.query('ROLLBACK');
    await c.query('COMMIT');
    // a cursor parameterized through the extended protocol
    await c.query('BEGIN');
    assert.deepEqual((await c.query('FETCH 2 FROM "Kept"')).rows.map((r) => r.level), [1, 2]);
    await c.query('COMMIT');
    assert.deepEqual((await c.query('FETCH 1 FROM "Kept"')).rows.map((r) => r.level), [3]);
    await assert.rejects(c.query('FETCH 1 FROM gone'), (err: pg.DatabaseError) => err.code === '34000');
    assert.equal((await c.query('CLOSE "Kept"')).command, 'CLOSE');
    await assert.rejects(c.query('CLOSE "Kept"'), (err: pg.DatabaseError) => err.code === '34000');
    await c.query('BEGIN');
    await c.query({ text: 'DECLARE p CURSOR FOR SELECT msg FROM log_entries WHERE level = $1 ORDER BY time', values: [1] });
    assert.deepEqual((await c.query('FETCH ALL FROM p')).rows.map((r) => r.msg), ['m0', 'm6']);
    await c.query('CLOSE ALL');
    await c.query('COMMIT');
  });

  test('portal row limits: postgres.js cursor() reads a result in batches (Execute max rows, PortalSuspended)', async () => {
    const sql = postgres({ host: '127.0.0.1', port: gw.port, username: 'sirius', database: 'sirius', max: 1, onnotice: () => undefined });
    try {
      const batches: string[][] = [];
      for await (const rows of sql`SELECT msg FROM log_entries ORDER BY time`.cursor(4)) batches.push(rows.map((r) => r.msg as string));
      assert.deepEqual(batches, [['m0', 'm1', 'm2', 'm3'], ['m4', 'm5', 'm6', 'm7'], ['m8', 'm9']]);
      const [one] = await sql`SELECT count(*)::INTEGER AS n FROM log_entries WHERE level = ${2}`;
      assert.equal(one!.n, 2);
    } finally {
      await sql.end();
    }
  });

  test('COPY … TO STDOUT: text, CSV and binary through postgres.js; writes and files refused', async () => {
    const sql = postgres({ host: '127.0.0.1', port: gw.port, username: 'sirius', database: 'sirius', max: 1, onnotice: () => undefined });
    const read = async (query: string) => {
      const chunks: Buffer[] = [];
      for await (const chunk of await sql.unsafe(query).readable()) chunks.push(Buffer.from(chunk as Buffer));
      return Buffer.concat(chunks);
    };
    try {
      const text = await read(`COPY (SELECT msg, level, 'a' || chr(9) || 'b\\c' AS odd, NULL AS nothing, '' AS blank FROM log_entries ORDER BY time LIMIT 2) TO STDOUT`);
      assert.equal(text.toString(), 'm0\t1\ta\\tb\\\\c\t\\N\t\nm1\t2\ta\\tb\\\\c\t\\N\t\n');
      const csv = await read(`COPY (SELECT msg, 'x,y' AS comma, NULL AS nothing, '' AS blank, 'say "hi"' AS q FROM log_entries ORDER BY time LIMIT 1) TO STDOUT WITH (FORMAT csv, HEADER)`);
      assert.equal(csv.toString(), 'msg,comma,nothing,blank,q\nm0,"x,y",,"","say ""hi"""\n');
      const view = await read(`COPY log_entries (msg, level) TO STDOUT WITH CSV`);
      assert.equal(view.toString().split('\n').length, 11);
      const binary = await read(`COPY (SELECT level, msg FROM log_entries ORDER BY time LIMIT 1) TO STDOUT (FORMAT binary)`);
      assert.equal(binary.subarray(0, 11).toString('latin1'), 'PGCOPY\n\xff\r\n\0');
      // header (19 bytes), then one tuple: 2 fields, int4 1, text 'm0', then the -1 trailer
      const tuple = binary.subarray(19);
      assert.equal(tuple.readInt16BE(0), 2);
      assert.equal(tuple.readInt32BE(2), 4);
      assert.equal(tuple.readInt32BE(6), 1);
      assert.equal(tuple.readInt32BE(10), 2);
      assert.equal(tuple.subarray(14, 16).toString(), 'm0');
      assert.equal(tuple.readInt16BE(16), -1);
    } finally {
      await sql.end();
    }
    const c = await connect();
    await assert.rejects(c.query('COPY log_entries FROM STDIN'), (err: pg.DatabaseError) => err.code === '25006');
    await assert.rejects(c.query(`COPY (SELECT 1) TO '/tmp/sirius-copy-test'`), (err: pg.DatabaseError) => err.code === '42501');
    await assert.rejects(c.query(`COPY (SELECT 1) TO PROGRAM 'true'`), (err: pg.DatabaseError) => err.code === '42501');
    assert.equal(existsSync('/tmp/sirius-copy-test'), false);
  });

  test('psql: \\copy to stdout (text and CSV) and \\set FETCH_COUNT page through cursors', { skip: existsSync(PSQL) ? false : `${PSQL} is not installed` }, async () => {
    const copy = await psql(['-c', `\\copy (select msg, level from log_entries order by time limit 3) to stdout`]);
    assert.equal(copy.code, 0, copy.stderr);
    assert.equal(copy.stdout, 'm0\t1\nm1\t2\nm2\t3\n');
    const csv = await psql(['-c', `\\copy (select msg, level from log_entries where level = 1 order by time) to stdout with csv header`]);
    assert.equal(csv.code, 0, csv.stderr);
    assert.equal(csv.stdout, 'msg,level\nm0,1\nm6,1\n');
    // FETCH_COUNT makes psql run the query through BEGIN / DECLARE / FETCH FORWARD n / CLOSE / COMMIT
    const paged = await psql(['-At', '-v', 'FETCH_COUNT=3', '-c', 'select msg from log_entries order by time']);
    assert.equal(paged.code, 0, paged.stderr);
    assert.equal(paged.stdout, 'm0\nm1\nm2\nm3\nm4\nm5\nm6\nm7\nm8\nm9\n');
    const script = await psql(['-At', '-c', '\\set FETCH_COUNT 100', '-c', 'select count(*) from log_entries']);
    assert.equal(script.code, 0, script.stderr);
    assert.equal(script.stdout.trim(), '10');
    const enc = await psql(['-At', '-c', 'show client_encoding'], { PGCLIENTENCODING: 'utf-8' });
    assert.equal(enc.code, 0, enc.stderr);
    assert.equal(enc.stdout.trim(), 'UTF8');
  });

  test('pg_stat_activity lists the sessions; pg_cancel_backend and CancelRequest stop a running query with 57014', async () => {
    const victim = await connect({ application_name: 'victim-app' });
    const watcher = await connect({ application_name: 'watcher' });
    const victimPid = (victim as unknown as { processID: number }).processID;
    const watcherPid = (watcher as unknown as { processID: number }).processID;
    const all = await watcher.query('SELECT pid, datname, usename, application_name, client_addr, backend_start, state, query, query_start FROM pg_stat_activity ORDER BY pid');
    const me = all.rows.find((r) => r.pid === watcherPid);
    assert.ok(me, 'the session itself is listed');
    assert.deepEqual([me.datname, me.usename, me.application_name, me.client_addr, me.state], ['sirius', 'sirius', 'watcher', '127.0.0.1', 'active']);
    assert.match(me.query, /FROM pg_stat_activity/);
    assert.ok(me.backend_start instanceof Date && me.query_start instanceof Date);
    assert.ok(all.rows.some((r) => r.pid === victimPid && r.application_name === 'victim-app' && r.state === 'idle'));

    const activeQuery = async () => {
      const r = await watcher.query('SELECT state, query FROM pg_stat_activity WHERE pid = $1', [victimPid]);
      return r.rows[0]?.state === 'active' ? (r.rows[0].query as string) : undefined;
    };
    // pg_cancel_backend from another session of the same user
    let running = victim.query(LONG_QUERY);
    let failed = assert.rejects(running, (err: pg.DatabaseError) => err.code === '57014');
    assert.equal(await waitFor('the query to show as active', activeQuery), LONG_QUERY);
    const cancelled = await watcher.query('SELECT pg_cancel_backend($1)', [victimPid]);
    assert.deepEqual(cancelled.rows, [{ pg_cancel_backend: true }]);
    await failed;
    assert.equal((await victim.query('SELECT 1 AS x')).rows[0].x, 1);
    assert.equal((await watcher.query('SELECT pg_cancel_backend(1)')).rows[0].pg_cancel_backend, false);

    // a session of another user may not signal it
    const stranger = await connect({ user: 'someone-else' });
    await assert.rejects(stranger.query(`SELECT pg_cancel_backend(${victimPid})`), (err: pg.DatabaseError) => err.code === '42501');

    // the protocol's CancelRequest, sent by the driver with the pid and secret from BackendKeyData
    running = victim.query(LONG_QUERY);
    failed = assert.rejects(running, (err: pg.DatabaseError) => err.code === '57014');
    await waitFor('the query to show as active', activeQuery);
    const canceller = new pg.Client({ host: '127.0.0.1', port: gw.port, user: 'sirius' });
    (canceller as unknown as { cancel(target: pg.Client, query: unknown): void }).cancel(victim, (victim as unknown as { activeQuery: unknown }).activeQuery);
    await failed;
    assert.equal((await victim.query('SELECT 2 AS x')).rows[0].x, 2);

    // pg_terminate_backend ends the session
    const doomed = await connect();
    const doomedPid = (doomed as unknown as { processID: number }).processID;
    const ended = new Promise<void>((resolve) => doomed.on('error', () => resolve()).on('end', () => resolve()));
    assert.equal((await watcher.query(`SELECT pg_terminate_backend(${doomedPid}) AS t`)).rows[0].t, true);
    await ended;
    await waitFor('the terminated session to leave pg_stat_activity', async () =>
      (await watcher.query('SELECT count(*)::INTEGER AS n FROM pg_stat_activity WHERE pid = $1', [doomedPid])).rows[0].n === 0 ? true : undefined);
  });

  test('result columns are named as PostgreSQL names them', async () => {
    const c = await connect();
    const r = await c.query(`SELECT count(*), sum(level), max(level), 1 + 1, upper(msg), level AS a, level AS a, msg, log_entries.target,
        CAST(level AS BIGINT), 7::INTEGER, CASE WHEN level > 1 THEN 'x' END, count(*) FILTER (WHERE level > 2), coalesce(msg, ''), now() IS NOT NULL
      FROM log_entries GROUP BY level, msg, target ORDER BY msg LIMIT 1`);
    assert.deepEqual(r.fields.map((f) => f.name),
      ['count', 'sum', 'max', '?column?', 'upper', 'a', 'a', 'msg', 'target', 'level', 'int4', 'case', 'count', 'coalesce', '?column?']);
    // pg's row objects keep the last of two same-named columns; rowMode 'array' shows both
    const arr = await c.query({ text: 'SELECT 1 AS a, 2 AS a', rowMode: 'array' });
    assert.deepEqual([arr.fields.map((f) => f.name), arr.rows[0]], [['a', 'a'], [1, 2]]);
    assert.deepEqual((await c.query('SELECT * FROM (SELECT 1 AS x, 2 AS y) t')).fields.map((f) => f.name), ['x', 'y']);
  });

  test('writes are refused with 25006 read_only_sql_transaction', async () => {
    const c = await connect();
    for (const sql of [`INSERT INTO log_entries (msg) VALUES ('x')`, `UPDATE log_entries SET msg = 'x'`, 'DELETE FROM log_entries', 'CREATE TABLE t (a INTEGER)',
      'DROP VIEW log_entries', 'WITH x AS (SELECT 1) DELETE FROM log_entries', 'TRUNCATE log_entries']) {
      await assert.rejects(c.query(sql), (err: pg.DatabaseError) => err.code === '25006' && /read-only/.test(err.message), sql);
      await assert.rejects(c.query(sql + ' RETURNING $1::INTEGER', [1]), (err: pg.DatabaseError) => err.code === '25006', sql);
    }
    assert.equal((await c.query('SELECT 1 AS x')).rows[0].x, 1);
  });

  test('time columns are timestamptz instants; zoned parameters compare with time (pg, postgres.js)', async () => {
    const c = await connect();
    const r = await c.query('SELECT time FROM log_entries ORDER BY time LIMIT 2');
    assert.equal(r.fields[0]!.dataTypeID, 1184);
    assert.deepEqual(r.rows.map((x) => (x.time as Date).toISOString()), ['2024-05-01T00:00:00.000Z', '2024-05-01T00:00:01.000Z']);
    const raw = await c.query({ text: 'SELECT time FROM log_entries ORDER BY time LIMIT 1', rowMode: 'array', types: { getTypeParser: () => (v: string) => v } });
    assert.equal(raw.rows[0][0], '2024-05-01 00:00:00+00');
    const n = async (q: string, v: unknown[]) => (await c.query(q, v)).rows[0].n as number;
    // pg sends a Date as text with the local offset, untyped
    assert.equal(await n('SELECT count(*)::INTEGER AS n FROM log_entries WHERE time >= $1', [new Date('2024-05-01T00:00:05Z')]), 5);
    assert.equal(await n('SELECT count(*)::INTEGER AS n FROM log_entries WHERE time >= $1::timestamptz', ['2024-04-30 17:00:07-07']), 3);
    const sql = postgres({ host: '127.0.0.1', port: gw.port, username: 'sirius', database: 'sirius', max: 1, onnotice: () => undefined });
    try {
      const [row] = await sql`SELECT count(*)::INTEGER AS n FROM log_entries WHERE time < ${new Date('2024-05-01T00:00:02Z')}`;
      assert.equal(row!.n, 2);
      const [first] = await sql`SELECT time FROM log_entries ORDER BY time LIMIT 1`;
      assert.equal((first!.time as Date).toISOString(), '2024-05-01T00:00:00.000Z');
    } finally {
      await sql.end();
    }
  });

  test('Grafana\'s PostgreSQL data source metadata queries answer as PostgreSQL would', async () => {
    const c = await connect();
    assert.equal(Number((await c.query(grafanaVersion)).rows[0].version), 1500);
    const ts = await c.query(grafanaTimescaleVersion);
    assert.deepEqual([ts.fields.map((f) => f.name), ts.rowCount], [['extversion'], 0]);
    assert.deepEqual((await c.query(grafanaSchemas)).rows, [{ name: 'public' }]);
    assert.deepEqual((await c.query(grafanaTables())).rows.map((r) => r.table), VIEWS);
    assert.deepEqual((await c.query(grafanaTables('public'))).rows.map((r) => r.table), VIEWS);
    assert.deepEqual((await c.query(grafanaTables('nope'))).rowCount, 0);
    const stats = [['time_bin', 'timestamp with time zone'], ['process_id', 'text'], ['level', 'integer'], ['target', 'text'], ['count', 'bigint']];
    for (const name of ['log_stats', 'public.log_stats', '"public"."log_stats"', 'PUBLIC.LOG_STATS']) {
      const cols = await c.query(grafanaColumns(name));
      assert.deepEqual(cols.fields.map((f) => f.name), ['column', 'type']);
      assert.deepEqual(cols.rows.map((r) => [r.column, r.type]), stats, name);
    }
    const logs = await c.query(grafanaColumns('log_entries'));
    assert.deepEqual(logs.rows.find((r) => r.column === 'time'), { column: 'time', type: 'timestamp with time zone' });
    assert.equal((await c.query(grafanaColumns('nope'))).rowCount, 0);
    assert.equal((await c.query(grafanaColumns('other.log_stats'))).rowCount, 0);
  });

  test('Python: psycopg2 named cursors, COPY, pandas and SQLAlchemy stream_results; times right under TZ=America/Los_Angeles', { skip: pythonSkip(['psycopg2', 'pandas', 'sqlalchemy']) }, async () => {
    const r = await run(PYTHON, [PY_SCRIPT, String(gw.port)], { TZ: 'America/Los_Angeles', PYTHONIOENCODING: 'utf-8' });
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    const msgs = Array.from({ length: 10 }, (_, i) => `m${i}`);
    assert.equal(out.encoding, 'UTF8');
    assert.deepEqual(out.named_cursor, msgs);
    assert.deepEqual(out.times_epoch, [1_714_521_600, 1_714_521_601]);
    assert.equal(out.times_aware, true);
    assert.equal(out.time_oid, 1184);
    assert.equal(out.count_since_param, 5);
    assert.deepEqual(out.column_names, ['count', 'max', '?column?', 'upper']);
    assert.equal(out.copy_csv, 'msg,level\r\nm0,1\r\nm1,2\r\nm2,3\r\n'.replace(/\r/g, ''));
    assert.equal(out.insert, '25006');
    assert.deepEqual(out.pandas_columns, ['level', 'count']);
    assert.deepEqual(out.pandas_counts, [2, 2, 2, 2, 1, 1]);
    assert.match(out.pandas_time_dtype, /^datetime64\[ns, /);
    assert.equal(new Date(out.pandas_first_time).toISOString(), '2024-05-01T00:00:00.000Z');
    assert.deepEqual(out.sqlalchemy_stream, msgs);
    assert.deepEqual(out.sqlalchemy_tables, VIEWS);
    assert.deepEqual(out.sqlalchemy_pandas, ['m0', 'm6']);
  });
});
