/**
 * The query surface cannot change anything: every kind of statement DuckDB has, bare and wrapped in
 * EXPLAIN, EXPLAIN ANALYZE, a CTE and multi-statement strings, sent over HTTP, the PostgreSQL wire (simple
 * and extended protocol) and Flight SQL (plain and prepared) to a served instance with real data. Then:
 * no file of the data folder changed, nothing appeared in a temp folder the attacks aimed at, the shared
 * functions and the catalog are as before, and the server starts again on the same folder with the same
 * data. Reads are limited too: nothing outside the files a query was planned to read can be opened.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import pg from 'pg';
import { startServer, type RunningServer } from '../../src/serve.js';
import { packAny, unpackAny } from '../../src/endpoints/flight-sql/protocol.js';
import { connect, flightInfo, md, readTicket, streamCall, type Client } from './flight-client.js';
import { logBlock, makeProcess, makeStream, post as ingest, T0, until } from '../lakehouse/lake-fixtures.js';
import { freePort } from '../support/free-port.js';

const EVENTS = 40;
const BEGIN = new Date(Number(T0 / 1_000_000n) - 3_600_000).toISOString();
const END = new Date(Number(T0 / 1_000_000n) + 3_600_000).toISOString();


/** every file under `dir` (but the query cache and PGlite's own files) with a hash of its bytes */
async function snapshot(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  async function walk(d: string): Promise<void> {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      const rel = relative(dir, p);
      if (rel === 'cache' || rel === 'pglite') continue;
      if (e.isDirectory()) await walk(p);
      else out.set(rel, createHash('sha256').update(await readFile(p)).digest('hex'));
    }
  }
  await walk(dir);
  return out;
}

function post(server: RunningServer, sql: string): Promise<Response> {
  return fetch(`${server.url}/api/query`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify({ sql, begin: BEGIN, end: END }),
  });
}

async function httpQuery(server: RunningServer, sql: string): Promise<{ status: number; body: { rows?: Record<string, unknown>[]; error?: string } }> {
  const r = await post(server, sql);
  return { status: r.status, body: (await r.json()) as { rows?: Record<string, unknown>[]; error?: string } };
}

async function queryWithStats(server: RunningServer, sql: string): Promise<{ rows: Record<string, unknown>[]; stats: { files: string[] } }> {
  return (await (await post(server, sql)).json()) as { rows: Record<string, unknown>[]; stats: { files: string[] } };
}

describe('the query surface cannot change or read what it was not planned to', () => {
  let dir: string;
  let canaries: string;
  let server: RunningServer;
  let flightPort: number;
  let pgPort: number;
  let partition: string;
  let pgliteFile: string;

  const serve = async () =>
    startServer({ roles: ['analytics'], httpPort: 0, flightPort, pgPort, dataDir: dir, quiet: true });

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sirius-sandbox-'));
    canaries = await mkdtemp(join(tmpdir(), 'sirius-canaries-'));
    flightPort = await freePort();
    pgPort = await freePort();
    // real data through the real pipeline: ingestion, then the daemon writes the log_entries partition
    const writer = await startServer({ roles: ['ingestion', 'daemon', 'analytics'], httpPort: 0, dataDir: dir, quiet: true });
    try {
      const process = makeProcess();
      const stream = makeStream(process.process_id, ['log']);
      await ingest(writer, 'insert_process', process);
      await ingest(writer, 'insert_stream', stream);
      await ingest(writer, 'insert_block', logBlock(stream, 0, EVENTS).body);
      // until the daemon committed a partition (before that, the analytics role reads the blocks just in time)
      await until('the log_entries partition', async () => {
        const out = await queryWithStats(writer, 'SELECT count(*) AS n FROM log_entries');
        return out.rows[0]?.n === EVENTS && out.stats.files.some((f) => !f.startsWith('/'));
      });
    } finally {
      await writer.close();
    }
    server = await serve();
    const out = await httpQuery(server, 'SELECT 1 AS one FROM log_entries LIMIT 1');
    assert.equal(out.status, 200);
    const { stats } = await queryWithStats(server, 'SELECT count(*) FROM log_entries');
    // object keys are partitions; absolute paths are just-in-time files of blocks not yet materialized
    const key = stats.files.find((f) => !f.startsWith('/'));
    assert.ok(key, `a committed partition among ${stats.files.join(', ')}`);
    partition = server.lake.objects.localPath(key)!;
    assert.ok((await stat(partition)).size > 0, 'the partition is a local file');
    pgliteFile = join(dir, 'pglite', 'PG_VERSION');
    assert.ok((await stat(pgliteFile)).isFile(), 'PGlite keeps its files in the data folder');
  });

  after(async () => {
    await server?.close();
    await rm(dir, { recursive: true, force: true });
    await rm(canaries, { recursive: true, force: true });
  });

  /** one statement of every kind DuckDB knows, each aimed at something that matters */
  function attacks(): string[] {
    const TMP = canaries;
    const DATA = dir;
    return [
      `CREATE OR REPLACE MACRO property_get(properties, key) AS 'forged'`,
      `CREATE OR REPLACE MACRO date_bin(a, b) AS 0`,
      `CREATE OR REPLACE MACRO count_star() AS 42`,
      `CREATE TABLE evil AS SELECT 1 AS x`,
      `CREATE VIEW evil_view AS SELECT 1 AS x`,
      `CREATE SCHEMA evil_schema`,
      `CREATE SEQUENCE evil_seq`,
      `CREATE TYPE evil_type AS ENUM ('a')`,
      `CREATE SECRET evil_secret (TYPE s3, KEY_ID 'a', SECRET 'b')`,
      `INSERT INTO log_entries (msg) VALUES ('forged')`,
      `UPDATE log_entries SET msg = 'forged'`,
      `DELETE FROM log_entries`,
      `DROP MACRO property_get`,
      `DROP VIEW log_entries`,
      `ALTER VIEW log_entries RENAME TO gone`,
      `COPY (SELECT 'forged' AS msg) TO '${partition}' (FORMAT parquet, USE_TMP_FILE false)`,
      `COPY (SELECT * FROM log_entries) TO '${partition}' (FORMAT parquet, USE_TMP_FILE false)`,
      `COPY (SELECT 'forged' AS msg) TO '${partition}' (FORMAT parquet)`,
      `COPY (SELECT 1 AS x) TO '${TMP}/copy.csv'`,
      `COPY (SELECT 1 AS x) TO '${DATA}/forged.parquet' (FORMAT parquet)`,
      `COPY (SELECT 1 AS x) TO '${pgliteFile}' (FORMAT csv, USE_TMP_FILE false)`,
      `COPY log_entries FROM '${partition}'`,
      `EXPORT DATABASE '${TMP}/export'`,
      `IMPORT DATABASE '${TMP}/export'`,
      `ATTACH '${DATA}/evil.duckdb' AS evil`,
      `ATTACH '${TMP}/evil.duckdb' AS evil`,
      `ATTACH '${pgliteFile}' AS evil`,
      `ATTACH ':memory:' AS evil_mem`,
      `DETACH evil`,
      `COPY FROM DATABASE memory TO evil_mem`,
      `USE evil_mem`,
      `SET memory_limit = '100GB'`,
      `SET allowed_directories = ['/']`,
      `SET enable_external_access = true`,
      `RESET lock_configuration`,
      `SET VARIABLE forged = 1`,
      `PRAGMA enable_profiling`,
      `PRAGMA threads = 1`,
      `CALL enable_logging(storage = 'file', storage_path = '${TMP}/log')`,
      `SELECT * FROM enable_logging(storage = 'file', storage_path = '${TMP}/log2')`,
      `SELECT * FROM enable_logging(storage = 'file', storage_path = '${DATA}/log')`,
      `LOAD httpfs`,
      `INSTALL httpfs`,
      `UPDATE EXTENSIONS`,
      `CHECKPOINT`,
      `VACUUM`,
      `ANALYZE`,
      `BEGIN TRANSACTION`,
      `COMMIT`,
      `PREPARE evil_p AS COPY (SELECT 1 AS x) TO '${TMP}/prepared.csv'`,
      `EXECUTE evil_p`,
      `DEALLOCATE evil_p`,
      `SUMMARIZE SELECT 1 AS x`,
      `SELECT * FROM read_text('${pgliteFile}')`,
      `SELECT * FROM read_blob('${partition}')`,
      `SELECT * FROM glob('${tmpdir()}/*')`,
      `SELECT * FROM glob('${DATA}/**')`,
      `SELECT * FROM read_csv('/etc/passwd')`,
    ];
  }

  const wrap = (s: string) => [s, `EXPLAIN ${s}`, `EXPLAIN ANALYZE ${s}`, `WITH c AS (SELECT 1 AS y) ${s}`, `SELECT 1; ${s}`, `${s}; SELECT 1`];

  test('every statement kind, bare and wrapped, on every protocol, changes nothing', async () => {
    const before = await snapshot(dir);
    const macrosBefore = (await httpQuery(server, `SELECT count(*) AS n FROM duckdb_functions() WHERE function_type = 'macro' AND NOT internal`)).body.rows![0]!.n;

    const sent: Record<string, number> = { http: 0, pgSimple: 0, pgExtended: 0, flight: 0, flightPrepared: 0 };
    // HTTP: every wrapping
    for (const s of attacks()) for (const q of wrap(s)) {
      const r = await httpQuery(server, q);
      sent.http!++;
      // a SELECT may run (it reads nothing it may not); anything that tried to change something is refused
      if (r.status === 200) assert.match(q.replace(/^WITH c AS \(SELECT 1 AS y\) /, ''), /^(EXPLAIN (ANALYZE )?)?(SELECT|SUMMARIZE)/, `accepted: ${q}`);
    }

    const client = new pg.Client({ host: '127.0.0.1', port: pgPort, user: 'attacker', database: 'sirius' });
    await client.connect();
    try {
      await client.query(`SET sirius.begin = '${BEGIN}'`);
      await client.query(`SET sirius.end = '${END}'`);
      let n = 0;
      for (const s of attacks()) {
        for (const q of [s, `EXPLAIN ANALYZE ${s}`, `SELECT 1; ${s}`]) {
          await client.query(q).catch(() => undefined);
          sent.pgSimple!++;
        }
        // the extended protocol: Parse, Bind, Execute of a named (prepared) statement
        for (const q of [s, `EXPLAIN ANALYZE ${s}`]) {
          await client.query({ name: `attack_${n++}`, text: q }).catch(() => undefined);
          sent.pgExtended!++;
        }
      }
      assert.equal((await client.query('SELECT count(*)::INTEGER AS n FROM log_entries')).rows[0].n, EVENTS, 'the gateway still answers');
    } finally {
      await client.end();
    }

    const flight: Client = connect(flightPort);
    const meta = () => md({ 'x-sirius-begin': BEGIN, 'x-sirius-end': END });
    try {
      for (const s of attacks()) for (const q of [s, `EXPLAIN ANALYZE ${s}`, `SELECT 1; ${s}`]) {
        await flightInfo(flight, 'CommandStatementQuery', { query: q }, meta())
          .then((info) => readTicket(flight, info, meta()))
          .catch(() => undefined);
        sent.flight!++;
        if (q.startsWith('SELECT 1;')) continue; // a prepared statement is one statement by construction
        const prepared = await streamCall<{ body: Buffer }>(flight, 'DoAction', {
          type: 'CreatePreparedStatement',
          body: packAny('ActionCreatePreparedStatementRequest', { query: q }),
        }, meta()).catch(() => null);
        if (prepared?.[0]) {
          const handle = unpackAny(prepared[0].body).message.prepared_statement_handle as Buffer;
          await flightInfo(flight, 'CommandPreparedStatementQuery', { prepared_statement_handle: handle }, meta())
            .then((info) => readTicket(flight, info, meta()))
            .catch(() => undefined);
        }
        sent.flightPrepared!++;
      }
    } finally {
      flight.close();
    }
    for (const [protocol, n] of Object.entries(sent)) assert.ok(n >= attacks().length, `${protocol}: ${n} attacks sent`);

    // nothing on disk changed, nothing appeared where the attacks aimed
    assert.deepEqual(await snapshot(dir), before, 'the data folder is unchanged');
    assert.deepEqual(await readdir(canaries), [], 'nothing was written to the temp folder');
    // the shared functions and catalog are as they were, for a new query of anyone
    const check = await httpQuery(server, `SELECT property_get(MAP {'a': 'b'}, 'a') AS p,
        date_bin(INTERVAL 1 minute, TIMESTAMP '2024-01-01 00:00:30')::VARCHAR AS d,
        (SELECT count(*) FROM log_entries) AS n,
        (SELECT count(*) FROM log_entries WHERE msg = 'forged') AS forged,
        (SELECT count(*) FROM duckdb_functions() WHERE function_type = 'macro' AND NOT internal) AS macros,
        (SELECT count(*) FROM duckdb_tables() WHERE NOT temporary) AS tables,
        (SELECT count(*) FROM duckdb_views() WHERE NOT internal AND NOT temporary) AS views,
        (SELECT count(*) FROM duckdb_databases() WHERE NOT internal) AS databases,
        getvariable('forged') AS variable`);
    assert.equal(check.status, 200, JSON.stringify(check.body));
    assert.deepEqual(check.body.rows, [{
      p: 'b', d: '2024-01-01 00:00:00', n: EVENTS, forged: 0, macros: macrosBefore, tables: 0, views: 0, databases: 1, variable: null,
    }]);
    // and the server starts again on the same folder, PGlite's files intact
    await server.close();
    server = await serve();
    assert.equal((await httpQuery(server, 'SELECT count(*) AS n FROM log_entries')).body.rows![0]!.n, EVENTS);
  });

  test('EXPLAIN ANALYZE runs only around a SELECT, with the reason given', async () => {
    // a file the query was planned to read is the one place the file wall lets a write through: the gate stops it
    const copy = await httpQuery(server, `EXPLAIN ANALYZE COPY (SELECT * FROM log_entries) TO '${partition}' (FORMAT parquet, USE_TMP_FILE false)`);
    assert.equal(copy.status, 400);
    assert.match(copy.body.error!, /only SELECT queries are allowed \(got EXPLAIN of a COPY statement\)/);
    const elsewhere = await httpQuery(server, `EXPLAIN ANALYZE COPY (SELECT 1 AS x) TO '${canaries}/x.csv'`);
    assert.equal(elsewhere.status, 400);
    assert.match(elsewhere.body.error!, /disabled by configuration/);
    const macro = await httpQuery(server, `/* hidden */ explain (analyze) CREATE OR REPLACE MACRO property_get(a, b) AS 1`);
    assert.equal(macro.status, 400);
    assert.match(macro.body.error!, /EXPLAIN of a CREATE/);
    const ok = await httpQuery(server, 'EXPLAIN ANALYZE SELECT count(*) FROM log_entries');
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    assert.match(JSON.stringify(ok.body.rows), /Total Time|QUERY/);
  });

  test('only the files a query was planned to read can be opened', async () => {
    for (const sql of [
      `SELECT * FROM glob('${tmpdir()}/*')`,
      `SELECT * FROM glob('${dir}/**')`,
      `SELECT * FROM read_text('${pgliteFile}')`,
      `SELECT * FROM read_blob('${join(dir, 'pglite', '*')}')`,
      // a partition the query did not plan (it names no view) is as closed as any other file
      `SELECT count(*) FROM read_parquet('${partition}')`,
      `SELECT * FROM read_csv('/etc/passwd')`,
    ]) {
      const r = await httpQuery(server, sql);
      assert.equal(r.status, 400, `${sql}: ${JSON.stringify(r.body)}`);
      assert.match(r.body.error!, /Permission Error|disabled by configuration/, sql);
    }
    // the planned partition reads, through the view and through its own file
    const planned = await httpQuery(server, `SELECT (SELECT count(*) FROM log_entries) AS a, (SELECT count(*) FROM read_parquet('${partition}')) AS b`);
    assert.deepEqual(planned.body.rows, [{ a: EVENTS, b: EVENTS }]);
  });
});
