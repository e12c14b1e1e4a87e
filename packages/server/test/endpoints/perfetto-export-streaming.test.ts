/**
 * The streamed Perfetto export end to end: blocks sent over HTTP, the trace read back over HTTP with an
 * independent reader. A range many times the export's memory bound (small windows, batches and pieces)
 * decodes to every span once; the first bytes arrive while later windows are still undecoded;
 * `perfetto_trace_chunks` over the PostgreSQL wire and Arrow Flight SQL concatenates to the same bytes as the
 * HTTP export.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import pg from 'pg';
import { startServer, type RunningServer } from '../../src/serve.js';
import { createLakehouse } from '../../src/lakehouse/index.js';
import { createQueryEngine, type QueryEngine } from '../../src/analytics/query-engine.js';
import { createPerfettoRoutes } from '../../src/endpoints/perfetto-export.js';
import { startPgGateway, type PgGateway } from '../../src/endpoints/pg-wire/index.js';
import { startFlightSqlServer } from '../../src/endpoints/flight-sql/index.js';
import * as flight from './flight-client.js';
import type { TraceExportOptions, TraceExportStats } from '../../src/analytics/perfetto/trace-export.js';
import { post } from '../lakehouse/lake-fixtures.js';
import { decodeTrace, type Decoded } from '../analytics/perfetto-reader.js';
import { traceFixture, type ExpectedSpan } from './perfetto-export-fixtures.js';

let server: RunningServer;
let engine: QueryEngine;
let dir: string;
const fx = traceFixture();
const range = `begin=${iso(fx.begin)}&end=${iso(fx.end)}`;

function iso(ns: bigint): string {
  return new Date(Number(ns / 1_000_000n)).toISOString();
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sirius-perfetto-stream-'));
  server = await startServer({ httpPort: 0, dataDir: dir, sqlConnectionString: 'memory://', objectStoreUri: 'memory://', roles: ['ingestion', 'analytics'], quiet: true });
  await post(server, 'insert_process', fx.process);
  for (const s of fx.streams) await post(server, 'insert_stream', s);
  for (const b of fx.blocks) await post(server, 'insert_block', b);
  // a second engine over the same lake, for routes mounted with the test's own export settings
  engine = await createQueryEngine({ lake: server.lake, lakehouse: createLakehouse({ lake: server.lake, dataDir: dir }), cacheDir: join(dir, 'cache-test') });
});

after(async () => {
  await engine?.close();
  await server?.close();
  await rm(dir, { recursive: true, force: true });
});

/** Serves the Perfetto routes over `eng` with the given export settings; log lines are kept. */
async function routes(eng: Pick<QueryEngine, 'query' | 'stream'>, exportOptions: Omit<TraceExportOptions, 'signal'>) {
  const lines: string[] = [];
  const app = new Hono();
  app.route('/api', createPerfettoRoutes({ engine: eng as QueryEngine, exportOptions, log: { info: (m) => lines.push(m), error: (m, e) => lines.push(`${m}: ${String(e)}`) } }));
  const http = await new Promise<Server>((resolve) => {
    const s = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, () => resolve(s as Server));
  });
  const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  return {
    url,
    lines,
    stats(): TraceExportStats {
      const line = lines.find((l) => l.startsWith('exported process'));
      assert.ok(line, `an export line in ${JSON.stringify(lines)}`);
      return JSON.parse(line.slice(line.indexOf('{')));
    },
    close: () => new Promise<void>((resolve) => http.close(() => resolve())),
  };
}

function keys(d: Decoded): string[] {
  return d.slices
    .map((s) => {
      const t = d.tracks.get(s.track)!;
      return t.threadName !== undefined ? `${t.threadName}|${s.name}|${s.begin}|${s.end}|${s.depth}` : `async|${s.name}|${s.begin}|${s.end}`;
    })
    .sort();
}

function expectedKeys(spans: ExpectedSpan[]): string[] {
  return spans.map((s) => (s.track === 'async' ? `async|${s.name}|${s.begin}|${s.end}` : `${s.track}|${s.name}|${s.begin}|${s.end}|${s.depth}`)).sort();
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) (out.set(p, at), (at += p.length));
  return out;
}

test('a range many times the memory bound exports every span once, crossing windows at its true times', async () => {
  const batchRows = 2048;
  const pieceBytes = 16 * 1024;
  const r = await routes(engine, { windowNs: 1_000_000_000n, batchRows, pieceBytes });
  try {
    const res = await fetch(`${r.url}/api/perfetto/${fx.process.process_id}?${range}`);
    assert.equal(res.status, 200, await res.clone().text());
    const bytes = new Uint8Array(await res.arrayBuffer());
    const trace = decodeTrace(bytes);
    assert.deepEqual(keys(trace), expectedKeys(fx.expected));
    assert.ok(fx.expected.some((s) => s.end - s.begin > 2_000_000_000n), 'spans longer than two windows');

    // the bound, from what the export reports it held at most, against what it wrote
    const stats = r.stats();
    assert.equal(stats.bytes, bytes.length);
    assert.ok(stats.windows >= 17, `${stats.windows} windows`);
    assert.ok(stats.maxBatchRows <= batchRows, `batches of at most ${batchRows} rows (${stats.maxBatchRows})`);
    assert.ok(stats.rows >= 10 * stats.maxBatchRows, `${stats.rows} rows, batches of ${stats.maxBatchRows}`);
    // one piece plus what one batch adds to it (a begin and an end per row, a few dozen bytes each)
    const heldBound = pieceBytes + batchRows * 2 * 64;
    assert.ok(stats.maxHeldBytes <= heldBound, `held at most ${stats.maxHeldBytes} bytes (bound ${heldBound})`);
    assert.ok(bytes.length >= 4 * heldBound, `the trace (${bytes.length} bytes) is several times the bound`);
    // open spans: the nesting depth of each thread plus the async requests in flight, not the range
    assert.ok(stats.maxOpenSpans < 500, `${stats.maxOpenSpans} spans open at most`);
  } finally {
    await r.close();
  }
});

test('the first bytes arrive while later windows are not decoded yet', async () => {
  // the real engine, with window queries past the second held until the test has read the first bytes
  let windowsStarted = 0;
  let openGate!: () => void;
  const gate = new Promise<void>((resolve) => (openGate = resolve));
  const gated: Pick<QueryEngine, 'query' | 'stream'> = {
    query: (sql, rng, o) => engine.query(sql, rng, o),
    async stream(sql, rng, o) {
      windowsStarted++;
      if (windowsStarted > 2) await gate;
      return engine.stream(sql, rng, o);
    },
  };
  const r = await routes(gated, { windowNs: 1_000_000_000n, batchRows: 2048, pieceBytes: 1024 });
  try {
    const res = await fetch(`${r.url}/api/perfetto/${fx.process.process_id}?${range}`);
    assert.equal(res.status, 200);
    const reader = res.body!.getReader();
    const first = await reader.read();
    assert.ok(!first.done && first.value.length > 0, 'bytes before the export is complete');
    assert.ok(windowsStarted <= 3, `at most the third window had started (${windowsStarted})`);
    assert.equal(r.lines.length, 0, 'the export has not finished');
    openGate();
    const parts = [first.value];
    for (let c = await reader.read(); !c.done; c = await reader.read()) parts.push(c.value);
    assert.deepEqual(keys(decodeTrace(concat(parts))), expectedKeys(fx.expected));
    assert.ok(windowsStarted >= 17);
  } finally {
    openGate();
    await r.close();
  }
});

test('a failure after the first bytes aborts the body: the reader sees an error, not a short trace', async () => {
  let windows = 0;
  const failing: Pick<QueryEngine, 'query' | 'stream'> = {
    query: (sql, rng, o) => engine.query(sql, rng, o),
    async stream(sql, rng, o) {
      if (++windows === 4) return engine.stream('SELECT no_such_column FROM processes', rng, o);
      return engine.stream(sql, rng, o);
    },
  };
  const r = await routes(failing, { windowNs: 1_000_000_000n, batchRows: 2048, pieceBytes: 1024 });
  try {
    const res = await fetch(`${r.url}/api/perfetto/${fx.process.process_id}?${range}`);
    assert.equal(res.status, 200);
    await assert.rejects(res.arrayBuffer(), 'the body ends in an error');
    assert.ok(r.lines.some((l) => /failed after the first bytes/.test(l)), 'logged');
  } finally {
    await r.close();
  }
});

test('bad ranges and ids get a 400 with a reason before any byte', async () => {
  const bad = await fetch(`${server.url}/api/perfetto/${fx.process.process_id}?begin=yesterday-ish&end=now`);
  assert.equal(bad.status, 400);
  assert.match((await bad.json()).error, /yesterday-ish/);
  const empty = await fetch(`${server.url}/api/perfetto/${fx.process.process_id}?begin=${iso(fx.end)}&end=${iso(fx.begin)}`);
  assert.equal(empty.status, 400);
  assert.match((await empty.json()).error, /range is empty/);
});

test('perfetto_trace_chunks over the PostgreSQL wire concatenates to the HTTP export', async () => {
  const http = new Uint8Array(await (await fetch(`${server.url}/api/perfetto/${fx.process.process_id}?${range}`)).arrayBuffer());
  let gw: PgGateway | undefined;
  try {
    gw = await startPgGateway({ engine, port: 0 });
    const c = new pg.Client({ host: '127.0.0.1', port: gw.port, user: 'sirius', database: 'sirius' });
    await c.connect();
    try {
      const res = await c.query(
        `SELECT chunk_id, chunk_payload FROM perfetto_trace_chunks('${fx.process.process_id}', '${iso(fx.begin)}', '${iso(fx.end)}') ORDER BY chunk_id`,
      );
      assert.ok(res.rows.length >= 1);
      assert.deepEqual(res.rows.map((row) => Number(row.chunk_id)), res.rows.map((_, i) => i));
      const sqlBytes = concat(res.rows.map((row) => new Uint8Array(row.chunk_payload as Buffer)));
      assert.equal(Buffer.compare(Buffer.from(sqlBytes), Buffer.from(http)), 0, 'the same bytes');
      assert.deepEqual(keys(decodeTrace(sqlBytes)), expectedKeys(fx.expected));
      await assert.rejects(c.query(`SELECT * FROM perfetto_trace_chunks('not-a-process', '1h', 'now')`), /not a process id/);
    } finally {
      await c.end();
    }
  } finally {
    await gw?.close();
  }
});

test('perfetto_trace_chunks over Arrow Flight SQL (GetFlightInfo, then DoGet) concatenates to the HTTP export', async () => {
  const http = new Uint8Array(await (await fetch(`${server.url}/api/perfetto/${fx.process.process_id}?${range}`)).arrayBuffer());
  const fs = await startFlightSqlServer({ engine, port: 0 });
  const client = flight.connect(fs.port);
  try {
    const meta = flight.md({ 'x-sirius-begin': iso(fx.begin), 'x-sirius-end': iso(fx.end) });
    const query = `SELECT chunk_id, chunk_payload FROM perfetto_trace_chunks('${fx.process.process_id}', '${iso(fx.begin)}', '${iso(fx.end)}') ORDER BY chunk_id`;
    const info = await flight.flightInfo(client, 'CommandStatementQuery', { query }, meta);
    const { table } = await flight.readTicket(client, info, meta);
    assert.deepEqual(table.schema.fields.map((f) => f.name), ['chunk_id', 'chunk_payload']);
    const payloads = table.getChild('chunk_payload')!.toArray() as Uint8Array[];
    assert.equal(Buffer.compare(Buffer.from(concat([...payloads])), Buffer.from(http)), 0, 'the same bytes');
  } finally {
    client.close();
    await fs.close();
  }
});
