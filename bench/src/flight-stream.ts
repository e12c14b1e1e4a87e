/**
 * Flight SQL streaming of 10 M rows from a real `sirius serve` child process (its RSS sampled from /proc
 * every 10 ms): time to the first record batch, rows/s, and peak server RSS growth — next to DuckDB
 * producing the same rows in this process, read chunk by chunk (the floor any export pays), and the same
 * DuckDB result converted to Arrow record batches in process (Sirius's conversion without gRPC).
 *
 * DuckDB's own Arrow export (`duckdb_query_arrow`, Python's `.arrow()`) is not reachable here: the Node
 * bindings do not expose it and the Python package is not installed, so the peers are the two above.
 * Runs alone too: `node --import tsx bench/src/flight-stream.ts`.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import { Message } from 'apache-arrow';
import { DuckDBInstance } from '@duckdb/node-api';
import { freePort, listeningUrl, rssMiB } from './served-process.js';
import { connect, flightInfo, md, type Client } from '../../packages/server/test/endpoints/flight-client.js';
import type { FlightData } from '../../packages/server/src/endpoints/flight-sql/protocol.js';
import { ArrowBatchReader } from '../../packages/server/src/analytics/arrow-from-duckdb.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const ROWS = 10_000_000;
// four typical columns: an id, a float, a nanosecond time, a short string
const SQL = `SELECT i, i / 3.0 AS x, make_timestamp_ns(1714521600000000000 + i * 1000) AS time, 'm' || (i % 1000)::VARCHAR AS msg FROM range(${ROWS}) r(i)`;

export async function run(): Promise<Record<string, number | string>> {
  const out: Record<string, number | string> = { rows: ROWS };
  Object.assign(out, await overFlight());
  Object.assign(out, await duckdbInProcess());
  return out;
}

async function overFlight(): Promise<Record<string, number>> {
  const dir = await mkdtemp(join(tmpdir(), 'sirius-flight-stream-'));
  const flightPort = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', 'packages/server/src/cli/main.ts', 'serve', '--roles', 'analytics',
    '--http-port', '0', '--pg-port', 'off', '--flight-port', String(flightPort), '--data-dir', dir], {
    cwd: ROOT, env: { ...process.env, SIRIUS_SQL_CONNECTION_STRING: 'memory://' }, stdio: ['ignore', 'pipe', 'inherit'],
  });
  let client: Client | undefined;
  try {
    await listeningUrl(child);
    client = connect(flightPort);
    const meta = md({ 'x-sirius-begin': '1h', 'x-sirius-end': 'now' });
    // warm up (sandbox pool, code paths) with a small query, then let the server settle
    await readAll(client, await flightInfo(client, 'CommandStatementQuery', { query: 'SELECT 1 AS one' }, meta), meta);
    const out: Record<string, number> = {};
    for (let attempt = 1; attempt <= 2; attempt++) {
      const before = rssMiB(child.pid!);
      let peak = before;
      const sampler = setInterval(() => (peak = Math.max(peak, rssMiB(child.pid!))), 10);
      const started = performance.now();
      const info = await flightInfo(client, 'CommandStatementQuery', { query: SQL }, meta);
      const infoMs = performance.now() - started;
      const got = await readAll(client, info, meta);
      const seconds = (performance.now() - started) / 1000;
      clearInterval(sampler);
      if (got.rows !== ROWS) throw new Error(`expected ${ROWS} rows, got ${got.rows}`);
      const k = `Flight SQL (run ${attempt})`;
      out[`${k}: GetFlightInfo ms`] = infoMs;
      out[`${k}: first batch ms (from GetFlightInfo)`] = got.firstBatchAt - started;
      out[`${k}: first batch ms (from DoGet)`] = got.firstBatchAt - started - infoMs;
      out[`${k}: seconds`] = seconds;
      out[`${k}: M rows/s`] = ROWS / seconds / 1e6;
      out[`${k}: MB/s (IPC bodies)`] = got.bytes / seconds / 1e6;
      out[`${k}: record batches`] = got.batches;
      out[`${k}: server RSS MiB before`] = before;
      out[`${k}: server RSS growth MiB (peak)`] = peak - before;
    }
    return out;
  } finally {
    client?.close();
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    await rm(dir, { recursive: true, force: true });
  }
}

/** DoGet of the ticket, counting rows from each record batch's header (no decoding of the data) */
function readAll(client: Client, info: { endpoint?: { ticket?: unknown }[] }, meta: grpc.Metadata): Promise<{ rows: number; bytes: number; batches: number; firstBatchAt: number }> {
  return new Promise((resolve, reject) => {
    let rows = 0;
    let bytes = 0;
    let batches = 0;
    let firstBatchAt = 0;
    const call = client.DoGet!(info.endpoint![0]!.ticket, meta) as grpc.ClientReadableStream<FlightData>;
    call.on('data', (m: FlightData) => {
      const header = Message.decode(m.data_header!);
      if (!header.isRecordBatch()) return;
      if (batches++ === 0) firstBatchAt = performance.now();
      rows += Number(header.header().length);
      bytes += m.data_body?.byteLength ?? 0;
    });
    call.on('error', reject);
    call.on('end', () => resolve({ rows, bytes, batches, firstBatchAt }));
  });
}

async function duckdbInProcess(): Promise<Record<string, number>> {
  const db = await DuckDBInstance.create(':memory:');
  const conn = await db.connect();
  try {
    const out: Record<string, number> = {};
    // DuckDB alone: its streaming result, chunk by chunk
    let started = performance.now();
    let result = await (await conn.prepare(SQL)).stream();
    let rows = 0;
    let first = 0;
    for (let chunk = await result.fetchChunk(); chunk && chunk.rowCount > 0; chunk = await result.fetchChunk()) {
      if (rows === 0) first = performance.now() - started;
      rows += chunk.rowCount;
    }
    let seconds = (performance.now() - started) / 1000;
    out['DuckDB chunks in process: first chunk ms'] = first;
    out['DuckDB chunks in process: M rows/s'] = rows / seconds / 1e6;
    // the same result as Arrow record batches of ~2 MiB, in process
    started = performance.now();
    result = await (await conn.prepare(SQL)).stream();
    const reader = new ArrowBatchReader(result, { batchBytes: 2 * 2 ** 20 });
    rows = 0;
    for (let b = await reader.read(); b; b = await reader.read()) {
      if (rows === 0) first = performance.now() - started;
      rows += b.numRows;
    }
    seconds = (performance.now() - started) / 1000;
    out['DuckDB → Arrow batches in process: first batch ms'] = first;
    out['DuckDB → Arrow batches in process: M rows/s'] = rows / seconds / 1e6;
    return out;
  } finally {
    conn.closeSync();
    db.closeSync();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(await run());
