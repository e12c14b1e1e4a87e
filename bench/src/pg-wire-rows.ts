/**
 * PostgreSQL wire throughput: 1 M rows (a bigint, a double, a text and a timestamptz per row) read by the
 * node `pg` driver from the Sirius gateway, next to PostgreSQL itself serving the same rows from a table,
 * in the same run (target: Sirius ≥ 1× PostgreSQL's rows/s). Both sides are timed from the query to the
 * last row in the client, text format, rows as arrays; median of 5 runs, alternating the servers.
 * The gateway is measured two ways: in this process (it shares one thread with the client decoding its
 * rows) and as a `sirius serve --roles analytics` child process, which is how PostgreSQL itself runs.
 * Those rows are computed by DuckDB for every query (range(), string concatenation, make_timestamp), which
 * PostgreSQL, reading a table, does not do. So the rows are also served from where Sirius keeps them: a
 * whole `sirius serve` ingests 1 M measures sent by @sirius/tracing, its daemon writes them to Parquet, and
 * `SELECT time, name, value, unit FROM measures` is timed next to PostgreSQL serving a table holding the same
 * rows (copied from that result, checked equal as text).
 *
 *   node --import tsx bench/src/pg-wire-rows.ts [--rows 1000000]   (PostgreSQL from SIRIUS_BENCH_PG, default
 *   postgres://postgres@127.0.0.1:5432/test; without it only the Sirius side is measured)
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import pg from 'pg';
import { openLake } from '../../packages/server/src/lake/open-lake.js';
import { createLakehouse } from '../../packages/server/src/lakehouse/index.js';
import { createQueryEngine } from '../../packages/server/src/analytics/query-engine.js';
import { startPgGateway } from '../../packages/server/src/endpoints/pg-wire/index.js';
import { freePort, listeningUrl } from './served-process.js';

const RUNS = 5;
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const PG_URL = process.env.SIRIUS_BENCH_PG ?? 'postgres://postgres@127.0.0.1:5432/test';

function rowsArg(): number {
  const i = process.argv.indexOf('--rows');
  const v = i >= 0 ? Number(process.argv[i + 1]) : 1_000_000;
  if (!Number.isFinite(v) || v < 1) throw new Error(`--rows wants a positive number, got ${process.argv[i + 1]}`);
  return Math.trunc(v);
}

/** ms from sending the query to holding every row */
async function timeQuery(client: pg.Client, sql: string, rows: number): Promise<number> {
  const t = performance.now();
  const r = await client.query({ text: sql, rowMode: 'array' });
  const ms = performance.now() - t;
  if (r.rows.length !== rows) throw new Error(`expected ${rows} rows, got ${r.rows.length}`);
  return ms;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;


/** A child that sends `rows` measures with @sirius/tracing: names cycle over 8, values are i / 2. */
const SENDER = `
import * as tracing from '@sirius/tracing';
const n = Number(process.env.BENCH_ROWS);
tracing.init({ exe: 'pg-wire-bench', runtimeHealth: false, maxBufferBytes: 256 * 1024 * 1024 });
for (let i = 0; i < n; i++) {
  tracing.fmetric('bench.m' + (i % 8), 'ms', i / 2);
  if (i % 100000 === 99999 && !(await tracing.flush({ timeoutMs: 60000 }))) throw new Error('flush timed out');
}
if (!(await tracing.shutdown({ timeoutMs: 60000 }))) throw new Error('shutdown timed out');
`;

function exited(child: ReturnType<typeof spawn>): Promise<number | null> {
  return new Promise((resolve) => child.once('exit', resolve));
}

/** every cell as the text the server sent */
const asText = { getTypeParser: () => (v: string) => v };

async function lakeRows(rows: number, peer: pg.Client | undefined): Promise<Record<string, number | string>> {
  const dir = await mkdtemp(join(tmpdir(), 'sirius-bench-pgwire-lake-'));
  const pgPort = await freePort();
  const server = spawn(process.execPath, ['--import', 'tsx', 'packages/server/src/cli/main.ts', 'serve', '--http-port', '0',
    '--flight-port', 'off', '--pg-port', String(pgPort), '--data-dir', dir], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  const table = `sirius_bench_pgwire_lake_${process.pid}`;
  const client = new pg.Client({ host: '127.0.0.1', port: pgPort, user: 'sirius', database: 'sirius' });
  try {
    const url = await listeningUrl(server);
    const sender = spawn(process.execPath, ['--conditions=sirius-source', '--import', 'tsx', '--input-type=module', '-e', SENDER], {
      cwd: ROOT, env: { ...process.env, SIRIUS_TELEMETRY_URL: url, BENCH_ROWS: String(rows) }, stdio: ['ignore', 'inherit', 'inherit'],
    });
    if ((await exited(sender)) !== 0) throw new Error('the sender child failed');
    await client.connect();
    const sql = `SELECT time, name, value, unit FROM measures WHERE name LIKE 'bench.%'`;
    const deadline = Date.now() + 300_000;
    for (;;) {
      const r = await client.query(`SELECT count(*) AS n FROM measures WHERE name LIKE 'bench.%'`);
      if (Number(r.rows[0].n) === rows) break;
      if (Date.now() > deadline) throw new Error(`the lake holds ${r.rows[0].n} of ${rows} measures after 5 min`);
      await new Promise((res) => setTimeout(res, 500));
    }
    const out: Record<string, number | string> = {};
    await timeQuery(client, sql, rows); // warm
    if (!peer) {
      out['lake rows: sirius ms'] = await timeQuery(client, sql, rows);
      return out;
    }
    // the same rows in a PostgreSQL table, from the text Sirius sent: equal text both ways is checked below
    const all = await client.query({ text: sql, rowMode: 'array', types: asText });
    await peer.query(`CREATE TEMP TABLE ${table} (time timestamptz, name text, value float8, unit text)`);
    for (let i = 0; i < all.rows.length; i += 100_000) {
      const part = all.rows.slice(i, i + 100_000) as string[][];
      await peer.query(`INSERT INTO ${table} SELECT * FROM unnest($1::timestamptz[], $2::text[], $3::float8[], $4::text[])`,
        [0, 1, 2, 3].map((c) => part.map((r) => r[c]!)));
    }
    await peer.query(`ANALYZE ${table}`);
    const peerSql = `SELECT time, name, value, unit FROM ${table}`;
    const order = 'ORDER BY value LIMIT 1000'; // values are unique; times are not, at µs
    const a = await client.query({ text: `${sql} ${order}`, rowMode: 'array', types: asText });
    const b = await peer.query({ text: `${peerSql} ${order}`, rowMode: 'array', types: asText });
    if (JSON.stringify(a.rows) !== JSON.stringify(b.rows)) throw new Error(`PostgreSQL does not send the rows Sirius sends, as text: ${JSON.stringify(a.rows.slice(0, 3))} vs ${JSON.stringify(b.rows.slice(0, 3))}`);
    await timeQuery(peer, peerSql, rows);
    const s: number[] = [];
    const p: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      s.push(await timeQuery(client, sql, rows));
      p.push(await timeQuery(peer, peerSql, rows));
    }
    const sRate = rows / (median(s) / 1000);
    const pRate = rows / (median(p) / 1000);
    out['lake rows (measures, Parquet), sirius serve: ms (median)'] = median(s);
    out['lake rows (measures, Parquet), sirius serve: rows/s'] = Math.round(sRate);
    out['lake rows, PostgreSQL 15 table: ms (median)'] = median(p);
    out['lake rows, PostgreSQL 15 table: rows/s'] = Math.round(pRate);
    out['ratio sirius / PostgreSQL rows/s, rows stored on both sides (target ≥ 1)'] = sRate / pRate;
    return out;
  } finally {
    await client.end().catch(() => undefined);
    await peer?.query(`DROP TABLE IF EXISTS ${table}`).catch(() => undefined);
    const done = exited(server);
    server.kill('SIGTERM');
    await done;
    await rm(dir, { recursive: true, force: true });
  }
}

export async function run(): Promise<Record<string, number | string>> {
  const rows = rowsArg();
  const dir = await mkdtemp(join(tmpdir(), 'sirius-bench-pgwire-'));
  const lake = await openLake({ sqlConnectionString: 'memory://', dataDir: dir, objectStoreUri: 'memory://' });
  const engine = await createQueryEngine({ lake, lakehouse: createLakehouse({ lake, dataDir: dir }), cacheDir: join(dir, 'cache'), limits: { timeoutMs: 300_000 } });
  const gw = await startPgGateway({ engine, port: 0, defaultRange: { begin: '2024-05-01T00:00:00Z', end: '2024-05-02T00:00:00Z' } });
  const sirius = new pg.Client({ host: '127.0.0.1', port: gw.port, user: 'sirius', database: 'sirius' });
  await sirius.connect();
  const childDir = await mkdtemp(join(tmpdir(), 'sirius-bench-pgwire-child-'));
  const childPort = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', 'packages/server/src/cli/main.ts', 'serve', '--roles', 'analytics',
    '--http-port', '0', '--flight-port', 'off', '--pg-port', String(childPort), '--data-dir', childDir], {
    cwd: ROOT, env: { ...process.env, SIRIUS_SQL_CONNECTION_STRING: 'memory://' }, stdio: ['ignore', 'pipe', 'inherit'],
  });
  await listeningUrl(child);
  const served = new pg.Client({ host: '127.0.0.1', port: childPort, user: 'sirius', database: 'sirius' });
  await served.connect();
  let peer: pg.Client | undefined;
  let peerSkip = '';
  try {
    peer = new pg.Client({ connectionString: PG_URL });
    await peer.connect();
  } catch (err) {
    peerSkip = `PostgreSQL at ${PG_URL} unreachable: ${(err as Error).message}`;
    peer = undefined;
  }
  // the same rows on both sides: id, id / 2, 'row <id>', 2024-05-01 + id ms
  const siriusSql = `SELECT i AS id, i / 2 AS value, 'row ' || i AS label, make_timestamp(1714521600000000 + i * 1000)::TIMESTAMPTZ AS time FROM range(${rows}) r(i)`;
  const table = `sirius_bench_pgwire_${process.pid}`;
  try {
    if (peer) {
      await peer.query(`CREATE TEMP TABLE ${table} AS SELECT i::bigint AS id, i / 2.0::float8 AS value, 'row ' || i AS label,
        timestamptz '2024-05-01 00:00:00+00' + i * interval '1 millisecond' AS time FROM generate_series(0, ${rows - 1}) i`);
      await peer.query(`ANALYZE ${table}`);
    }
    const peerSql = `SELECT id, value, label, time FROM ${table}`;
    await timeQuery(sirius, siriusSql, rows); // warm: sandbox, JIT
    await timeQuery(served, siriusSql, rows);
    if (peer) await timeQuery(peer, peerSql, rows);
    const s: number[] = [];
    const c: number[] = [];
    const p: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      s.push(await timeQuery(sirius, siriusSql, rows));
      c.push(await timeQuery(served, siriusSql, rows));
      if (peer) p.push(await timeQuery(peer, peerSql, rows));
    }
    const sRate = rows / (median(s) / 1000);
    const cRate = rows / (median(c) / 1000);
    const out: Record<string, number | string> = {
      rows,
      'sirius gateway in this process: ms (median)': median(s),
      'sirius gateway in this process: rows/s': Math.round(sRate),
      'sirius gateway, own process: ms (median)': median(c),
      'sirius gateway, own process: rows/s': Math.round(cRate),
    };
    if (peer) {
      const pRate = rows / (median(p) / 1000);
      out['PostgreSQL 15 table: ms (median)'] = median(p);
      out['PostgreSQL 15 table: rows/s'] = Math.round(pRate);
      out['ratio sirius (own process) / PostgreSQL rows/s (target ≥ 1)'] = cRate / pRate;
      out['ratio sirius (in this process) / PostgreSQL rows/s'] = sRate / pRate;
    } else {
      out.peer = peerSkip;
    }
    return { ...out, ...(await lakeRows(rows, peer)) };
  } finally {
    await sirius.end().catch(() => undefined);
    await served.end().catch(() => undefined);
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
    await rm(childDir, { recursive: true, force: true });
    await peer?.end().catch(() => undefined);
    await gw.close();
    await engine.close();
    await lake.close?.();
    await rm(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  console.log(await run());
}
