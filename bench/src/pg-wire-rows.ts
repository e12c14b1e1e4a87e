/**
 * PostgreSQL wire throughput: 1 M rows (a bigint, a double, a text and a timestamptz per row) read by the
 * node `pg` driver from the Sirius gateway, next to PostgreSQL itself serving the same rows from a table,
 * in the same run (target: Sirius ≥ 1× PostgreSQL's rows/s). Both sides are timed from the query to the
 * last row in the client, text format, rows as arrays; median of the runs, alternating the servers.
 * The gateway is measured two ways: in this process (it shares one thread with the client decoding its
 * rows) and as a `sirius serve --roles analytics` child process, which is how PostgreSQL itself runs.
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

const RUNS = 3;
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
    return out;
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
