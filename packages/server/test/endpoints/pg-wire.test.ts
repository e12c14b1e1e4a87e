/**
 * The PostgreSQL wire gateway over a real engine and lake, driven by the real `pg` driver (simple and
 * extended protocol) and by psql when it is installed.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { connect as tcpConnect } from 'node:net';
import pg from 'pg';
import { startQueryServer, type QueryServer } from './query-server.js';
import { startPgGateway, type PgGateway } from '../../src/endpoints/pg-wire/index.js';
import { arrowRows } from '../../src/endpoints/pg-wire/row-source.js';
import { logEntriesColumns } from '../../src/lakehouse/view-columns.js';
import { catalogRelations } from '../../src/endpoints/pg-wire/catalog-relations.js';

/** every global view, as the catalog lists them (more views may be added; these six are always there) */
const VIEWS = catalogRelations().map((r) => r.name).sort();
for (const v of ['blocks', 'log_entries', 'log_stats', 'measures', 'processes', 'streams']) assert.ok(VIEWS.includes(v), v);

const PSQL = '/usr/bin/psql';

describe('PostgreSQL wire gateway', () => {
  let s: QueryServer;
  let gw: PgGateway;
  const clients: pg.Client[] = [];
  const connect = async (extra: Partial<pg.ClientConfig> = {}) => {
    const c = new pg.Client({ host: '127.0.0.1', port: gw.port, user: 'sirius', database: 'sirius', ...extra });
    clients.push(c);
    await c.connect();
    return c;
  };

  before(async () => {
    s = await startQueryServer({ timeoutMs: 20_000 });
    gw = await startPgGateway({ engine: s.engine.engine, port: 0, defaultRange: { begin: '2024-05-01T00:00:00Z', end: '2024-05-01T01:00:00Z' } });
  });
  after(async () => {
    for (const c of clients) await c.end().catch(() => undefined);
    await gw?.close();
    await s?.close();
  });

  test('a simple query returns rows and the command tag', async () => {
    const c = await connect();
    const r = await c.query('SELECT level, count(*) AS n FROM log_entries GROUP BY level ORDER BY level');
    assert.equal(r.command, 'SELECT');
    assert.equal(r.rowCount, 6);
    assert.deepEqual(r.fields.map((f) => f.name), ['level', 'n']);
    assert.deepEqual(r.rows.map((x) => [x.level, x.n]), [[1, '2'], [2, '2'], [3, '2'], [4, '2'], [5, '1'], [6, '1']]);
  });

  test('a parameterized query goes through the extended protocol; values are literals, not SQL', async () => {
    const c = await connect();
    const r = await c.query('SELECT msg FROM log_entries WHERE level = $1 AND msg <> $2 ORDER BY time', [2, "it's'; DROP TABLE x; --"]);
    assert.deepEqual(r.rows.map((x) => x.msg), ['m1', 'm7']);
    const named = await c.query({ name: 'by-level', text: 'SELECT count(*)::INTEGER AS n FROM log_entries WHERE level <= $1', values: [3] });
    assert.equal(named.rows[0].n, 6);
    const again = await c.query({ name: 'by-level', text: 'SELECT count(*)::INTEGER AS n FROM log_entries WHERE level <= $1', values: [1] });
    assert.equal(again.rows[0].n, 2);
    const nulls = await c.query('SELECT $1::VARCHAR IS NULL AS isnull', [null]);
    assert.equal(nulls.rows[0].isnull, true);
  });

  test('types map to PostgreSQL OIDs and text formats', async () => {
    const c = await connect();
    const r = await c.query(`SELECT 9007199254740993::BIGINT AS i8, 1.5::DOUBLE AS f8, 'héllo'::VARCHAR AS t, time AS ts, level = 1 AS b,
        7::SMALLINT AS i2, 3::INTEGER AS i4, 0.25::FLOAT AS f4, properties AS props, from_hex('4142') AS bin, DATE '2024-05-01' AS d
      FROM log_entries ORDER BY time LIMIT 1`);
    const oids = Object.fromEntries(r.fields.map((f) => [f.name, f.dataTypeID]));
    assert.deepEqual(oids, { i8: 20, f8: 701, t: 25, ts: 1184, b: 16, i2: 21, i4: 23, f4: 700, props: 114, bin: 17, d: 1082 });
    const row = r.rows[0];
    assert.equal(row.i8, '9007199254740993');
    assert.equal(row.f8, 1.5);
    assert.equal(row.t, 'héllo');
    assert.ok(row.ts instanceof Date);
    assert.equal(row.b, true);
    assert.equal(row.i2, 7);
    assert.equal(row.f4, 0.25);
    assert.deepEqual(row.props, { i: '0' });
    assert.deepEqual(row.bin, Buffer.from('AB'));
    // the raw text forms, as psql shows them
    const raw = await c.query({ text: `SELECT time AS ts, level = 1 AS b, 2.5::DOUBLE AS f FROM log_entries ORDER BY time LIMIT 1`, rowMode: 'array', types: { getTypeParser: () => (v: string) => v } });
    assert.deepEqual(raw.rows[0], ['2024-05-01 00:00:00+00', 't', '2.5']);
  });

  test('binary results when the driver asks for them', async () => {
    const c = await connect({ binary: true } as unknown as Partial<pg.ClientConfig>);
    const r = await c.query({ text: 'SELECT 42::BIGINT AS n, 2.5::DOUBLE AS f, true AS b, $1::VARCHAR AS s, time AS ts FROM log_entries ORDER BY time LIMIT 1', values: ['x'], rowMode: 'array', types: { getTypeParser: () => (v: unknown) => v } });
    assert.deepEqual(r.fields.map((f) => [f.dataTypeID, f.format]), [[20, 'binary'], [701, 'binary'], [16, 'binary'], [25, 'binary'], [1184, 'binary']]);
    // pg hands binary cells over as UTF-8 strings; these values' bytes are all ASCII, so they survive
    const [n, f, b, str] = (r.rows[0] as string[]).map((v) => Buffer.from(v, 'latin1'));
    assert.equal(n!.readBigInt64BE(0), 42n);
    assert.equal(f!.readDoubleBE(0), 2.5);
    assert.deepEqual([...b!], [1]);
    assert.equal(str!.toString(), 'x');
  });

  test('binary encoders: timestamps as µs since 2000-01-01, dates as days; text for timestamptz and dates', async () => {
    const out = await s.engine.engine.query(`SELECT time AS ts, time::TIMESTAMPTZ AS tz, DATE '2024-05-02' AS d FROM log_entries ORDER BY time LIMIT 2`,
      { begin: '2024-05-01T00:00:00Z', end: '2024-05-01T01:00:00Z' });
    const rows = arrowRows(out.table, out.sqlTypes);
    const [ts, tz, d] = rows.encoders(['binary', 'binary', 'binary']);
    assert.equal(ts!.encode(1)!.readBigInt64BE(0), 1_714_521_601_000_000n - 946_684_800_000_000n);
    assert.equal(tz!.type.oid, 1184);
    assert.equal(d!.encode(0)!.readInt32BE(0), 19_845 - 10_957);
    const [tsText, tzText, dText] = rows.encoders(['text', 'text', 'text']);
    assert.equal(tsText!.encode(1)!.toString(), '2024-05-01 00:00:01+00');
    assert.equal(tzText!.encode(1)!.toString(), '2024-05-01 00:00:01+00');
    assert.equal(dText!.encode(0)!.toString(), '2024-05-02');
  });

  test('text encoders: nanosecond times, 64-bit integers and fractions exact at the edges (fast paths and BigInt fallbacks agree)', async () => {
    const out = await s.engine.engine.query(`SELECT * FROM (VALUES
        (make_timestamp_ns(-1::BIGINT), -1::BIGINT, TIMESTAMP '2024-05-01 06:00:00.12'),
        (make_timestamp_ns(-1001::BIGINT), 9223372036854775807::BIGINT, TIMESTAMP '1900-01-01 00:00:00'),
        (make_timestamp_ns(1714521600123456789::BIGINT), (-9223372036854775807 - 1)::BIGINT, NULL),
        (make_timestamp_ns(9223372036854775000::BIGINT), 9007199254740993::BIGINT, NULL),
        (make_timestamp_ns(-9223372036854775000::BIGINT), -4503599627370497::BIGINT, NULL)) t(ns, i8, us)`,
    { begin: '2024-05-01T00:00:00Z', end: '2024-05-01T01:00:00Z' });
    const rows = arrowRows(out.table, out.sqlTypes);
    const enc = rows.encoders(['text', 'text', 'text']);
    const text = (c: number, r: number) => enc[c]!.encode(r)?.toString() ?? null;
    assert.deepEqual(Array.from({ length: 5 }, (_, r) => text(0, r)), ['1969-12-31 23:59:59.999999+00', '1969-12-31 23:59:59.999998+00',
      '2024-05-01 00:00:00.123456+00', '2262-04-11 23:47:16.854775+00', '1677-09-21 00:12:43.145225+00']);
    assert.deepEqual(Array.from({ length: 5 }, (_, r) => text(1, r)), ['-1', '9223372036854775807', '-9223372036854775808', '9007199254740993', '-4503599627370497']);
    assert.deepEqual(Array.from({ length: 3 }, (_, r) => text(2, r)), ['2024-05-01 06:00:00.12+00', '1900-01-01 00:00:00+00', null]);
  });

  test('an error carries its SQLSTATE, message and position, and the session stays usable', async () => {
    const c = await connect();
    await assert.rejects(c.query('SELECT lvl FROM log_entries'), (err: pg.DatabaseError) => {
      assert.match(err.message, /Referenced column "lvl" not found/);
      assert.equal(err.code, '42703');
      assert.equal(err.position, '8');
      return true;
    });
    assert.equal((await c.query('SELECT 1 AS one')).rows[0].one, 1);
    // in the extended protocol too (skip until Sync, then carry on)
    await assert.rejects(c.query('SELECT nope FROM log_entries WHERE level = $1', [1]), (err: pg.DatabaseError) => {
      assert.equal(err.position, '8');
      return true;
    });
    assert.equal((await c.query('SELECT $1::INTEGER + 1 AS two', [1])).rows[0].two, 2);
    await assert.rejects(c.query('SELECT * FROM log_entries WHERE msg = $1', []), (err: pg.DatabaseError) => err.code === '42P02');
    assert.equal((await c.query('SELECT 3 AS three')).rows[0].three, 3);
  });

  test('SET sirius.begin / sirius.end and a begin/end comment choose the time range', async () => {
    const c = await connect();
    const count = async (sql = 'SELECT count(*)::INTEGER AS n FROM log_entries') => (await c.query(sql)).rows[0].n as number;
    assert.equal(await count(), 10);
    await c.query(`SET sirius.begin = '2024-05-01T00:00:05Z'`);
    assert.equal(await count(), 5);
    await c.query(`SET sirius.end TO '2024-05-01T00:00:07Z'`);
    assert.equal(await count(), 2);
    assert.equal((await c.query('SHOW sirius.end')).rows[0]['sirius.end'], '2024-05-01T00:00:07Z');
    assert.equal(await count(`/* begin=1h end=now */ SELECT count(*)::INTEGER AS n FROM log_entries`), 0);
    await c.query(`SET sirius.begin = '1h'`);
    await c.query(`SET sirius.end = 'now'`);
    assert.equal(await count(), 0);
    await assert.rejects(c.query(`SET sirius.begin = 'soon'`), /cannot read time "soon"/);
  });

  test('connect-time probes and catalog queries answer without breaking the session', async () => {
    const c = await connect();
    assert.match((await c.query('SELECT version()')).rows[0].version, /^PostgreSQL 15\.0 \(Sirius\)/);
    assert.equal((await c.query('select current_schema()')).rows[0].current_schema, 'public');
    assert.equal((await c.query('SHOW standard_conforming_strings')).rows[0].standard_conforming_strings, 'on');
    assert.equal((await c.query('SHOW TRANSACTION ISOLATION LEVEL')).rows[0].transaction_isolation, 'read committed');
    assert.equal((await c.query('SET extra_float_digits = 3')).command, 'SET');
    assert.equal((await c.query(`SET application_name = 'test'`)).command, 'SET');
    assert.equal((await c.query('BEGIN')).command, 'BEGIN');
    assert.equal((await c.query('ROLLBACK')).command, 'ROLLBACK');
    const psqlDt = await c.query(`SELECT n.nspname as "Schema", c.relname as "Name", pg_catalog.pg_get_userbyid(c.relowner) as "Owner"
      FROM pg_catalog.pg_class c LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relname OPERATOR(pg_catalog.~) '^(log_entries)$' COLLATE pg_catalog.default AND pg_catalog.pg_table_is_visible(c.oid)`);
    assert.deepEqual(psqlDt.fields.map((f) => f.name), ['Schema', 'Name', 'Owner']);
    const hstore = await c.query(`SELECT t.oid, typarray FROM pg_type t JOIN pg_namespace ns ON typnamespace = ns.oid WHERE typname = 'hstore'`);
    assert.equal(hstore.rowCount, 0);
    const multi = await c.query('SET TIME ZONE UTC; SELECT 1 AS a; SELECT 2 AS b') as unknown as pg.QueryResult[];
    assert.equal(multi.length, 3);
    assert.equal(multi[2]!.rows[0].b, 2);
    assert.equal((await c.query('')).command, null);
    assert.equal((await c.query('SELECT 5 AS five')).rows[0].five, 5);
  });

  test('information_schema describes the Sirius views with their columns and PostgreSQL types', async () => {
    const c = await connect();
    const tables = await c.query(`SELECT table_schema, table_name, table_type FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name`, ['public']);
    assert.deepEqual(tables.rows.map((r) => r.table_name), VIEWS);
    assert.ok(tables.rows.every((r) => r.table_type === 'BASE TABLE'));
    const cols = await c.query(`SELECT column_name, data_type, udt_name FROM information_schema.columns
      WHERE table_schema = 'public' AND table_name = 'log_entries' ORDER BY ordinal_position`);
    assert.deepEqual(cols.rows.map((r) => r.column_name), logEntriesColumns.map((x) => x.name));
    const types = Object.fromEntries(cols.rows.map((r) => [r.column_name, r.data_type]));
    assert.equal(types.time, 'timestamp with time zone');
    assert.equal(types.level, 'integer');
    assert.equal(types.msg, 'text');
    assert.equal(types.properties, 'json');
    assert.equal((await c.query(`SELECT count(*)::INTEGER AS n FROM information_schema.columns WHERE table_name = 'nope'`)).rows[0].n, 0);
    // Grafana's table picker, search_path arithmetic included
    const grafana = await c.query(`select quote_ident(table_name) as "table" from information_schema.tables
      where quote_ident(table_schema) not in ('information_schema','pg_catalog') and table_type = 'BASE TABLE'
      and quote_ident(table_schema) IN (SELECT CASE WHEN trim(s[i]) = '"$user"' THEN user ELSE trim(s[i]) END
        FROM generate_series(array_lower(string_to_array(current_setting('search_path'),','),1),
          array_upper(string_to_array(current_setting('search_path'),','),1)) as i, string_to_array(current_setting('search_path'),',') s)
      order by 1`);
    assert.deepEqual(grafana.rows.map((r) => r.table), VIEWS);
  });

  test('pg_class, pg_namespace and pg_attribute answer SQLAlchemy-style lookups; catalog types match query results', async () => {
    const c = await connect();
    const names = await c.query(`SELECT pg_catalog.pg_class.relname FROM pg_catalog.pg_class JOIN pg_catalog.pg_namespace
      ON pg_catalog.pg_namespace.oid = pg_catalog.pg_class.relnamespace WHERE pg_catalog.pg_class.relkind = ANY (ARRAY[$1::VARCHAR, $2::VARCHAR])
      AND pg_catalog.pg_table_is_visible(pg_catalog.pg_class.oid) AND pg_catalog.pg_namespace.nspname != $3::VARCHAR ORDER BY 1`, ['r', 'p', 'pg_catalog']);
    assert.deepEqual(names.rows.map((r) => r.relname), VIEWS);
    const stats = await c.query(`SELECT a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull
      FROM pg_catalog.pg_attribute a WHERE a.attrelid = 'public.log_stats'::regclass AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`);
    assert.deepEqual(stats.rows.map((r) => [r.attname, r.type]), [['time_bin', 'timestamp with time zone'], ['process_id', 'text'],
      ['level', 'integer'], ['target', 'text'], ['count', 'bigint']]);
    // every view's catalog columns are the columns, in order and with the type OIDs, that a query returns
    for (const view of ['log_entries', 'measures', 'log_stats', 'processes', 'streams', 'blocks']) {
      const described = await c.query(`SELECT a.attname, a.atttypid::INTEGER AS oid FROM pg_attribute a JOIN pg_class k ON k.oid = a.attrelid
        WHERE k.relname = $1 ORDER BY a.attnum`, [view]);
      const result = await c.query(`SELECT * FROM ${view} LIMIT 0`);
      assert.deepEqual(described.rows.map((r) => [r.attname, r.oid]), result.fields.map((f) => [f.name, f.dataTypeID]), view);
    }
    // a catalog query the gateway cannot answer still leaves the session usable
    const odd = await c.query(`SELECT foo FROM pg_catalog.pg_no_such_table`);
    assert.equal(odd.rowCount, 0);
    assert.equal((await c.query('SELECT 1 AS x')).rows[0].x, 1);
  });

  test('a CancelRequest stops the running query with 57014', async () => {
    const c = await connect();
    const { processID, secretKey } = c as unknown as { processID: number; secretKey: number };
    const running = c.query('SELECT count(*) FROM range(1000000000) a, range(1000000000) b');
    const failed = assert.rejects(running, (err: pg.DatabaseError) => err.code === '57014' && /cancelled/.test(err.message));
    const packet = Buffer.alloc(16);
    packet.writeInt32BE(16, 0);
    packet.writeInt32BE(80877102, 4);
    packet.writeInt32BE(processID, 8);
    packet.writeInt32BE(secretKey, 12);
    // As in PostgreSQL, a cancel that reaches an idle session is ignored: wait until pg_stat_activity shows
    // the query running (a lost cancel would show up as the time-budget message, failing the assertion above)
    const watcher = await connect();
    const deadline = Date.now() + 30_000;
    while ((await watcher.query('SELECT state FROM pg_stat_activity WHERE pid = $1', [processID])).rows[0]?.state !== 'active') {
      assert.ok(Date.now() < deadline, 'the query never showed as active');
      await new Promise((r) => setTimeout(r, 20));
    }
    await new Promise<void>((resolve) => {
      const sock = tcpConnect(gw.port, '127.0.0.1', () => sock.end(packet));
      sock.on('close', () => resolve());
      sock.on('error', () => resolve());
    });
    await failed;
    assert.equal((await c.query('SELECT 1 AS x')).rows[0].x, 1);
  });

  test('API keys: the password must be one of them', async () => {
    const locked = await startPgGateway({ engine: s.engine.engine, port: 0, apiKeys: ['s3cret'] });
    try {
      const bad = new pg.Client({ host: '127.0.0.1', port: locked.port, user: 'sirius', password: 'wrong' });
      await assert.rejects(bad.connect(), (err: pg.DatabaseError) => err.code === '28P01');
      await bad.end().catch(() => undefined);
      const good = new pg.Client({ host: '127.0.0.1', port: locked.port, user: 'sirius', password: 's3cret' });
      await good.connect();
      assert.equal((await good.query('SELECT 1 AS x')).rows[0].x, 1);
      await good.end();
    } finally {
      await locked.close();
    }
  });

  test('psql runs a query; \\d, \\dt and \\d+ describe the views', { skip: existsSync(PSQL) ? false : `${PSQL} is not installed` }, async () => {
    const run = (args: string[]) =>
      new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
        execFile(PSQL, args, { env: { ...process.env, PGCONNECT_TIMEOUT: '10', PGSSLMODE: 'prefer' }, timeout: 20_000 }, (err, stdout, stderr) => {
          resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
        });
      });
    const ok = await run(['-h', '127.0.0.1', '-p', String(gw.port), '-U', 'sirius', '-At', '-c', 'select 1']);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(ok.stdout.trim(), '1');
    const rows = await run(['-h', '127.0.0.1', '-p', String(gw.port), '-U', 'sirius', '-At', '-c', 'SELECT msg FROM log_entries WHERE level = 1 ORDER BY time']);
    assert.equal(rows.stdout.trim(), 'm0\nm6');
    const bad = await run(['-h', '127.0.0.1', '-p', String(gw.port), '-U', 'sirius', '-c', 'SELECT lvl FROM log_entries']);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /Referenced column "lvl" not found/);
    const d = await run(['-h', '127.0.0.1', '-p', String(gw.port), '-U', 'sirius', '-c', '\\d log_entries']);
    assert.equal(d.code, 0, d.stderr);
    assert.match(d.stdout, /Table "public\.log_entries"/);
    for (const [col, type] of [['time', 'timestamp with time zone'], ['level', 'integer'], ['msg', 'text'], ['properties', 'json']]) {
      assert.match(d.stdout, new RegExp(`^ ${col} +\\| ${type} `, 'm'), col);
    }
    const dt = await run(['-h', '127.0.0.1', '-p', String(gw.port), '-U', 'sirius', '-At', '-c', '\\dt']);
    assert.equal(dt.code, 0, dt.stderr);
    assert.deepEqual(dt.stdout.trim().split('\n').map((l) => l.split('|').slice(0, 3).join(' ')),
      VIEWS.map((v) => `public ${v} table`));
    const dplus = await run(['-h', '127.0.0.1', '-p', String(gw.port), '-U', 'sirius', '-c', '\\d+ processes']);
    assert.equal(dplus.code, 0, dplus.stderr);
    assert.match(dplus.stdout, /^ start_time +\| timestamp with time zone /m);
  });
});
