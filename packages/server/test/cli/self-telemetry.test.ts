/**
 * `SIRIUS_SELF_TELEMETRY=1`: a real `sirius serve` records its own process, logs and metrics into its own
 * lake. After a block sent from outside and one query, SQL finds the server's process, its ingestion
 * latency, query duration and ETL lag metrics, and its own log line.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeBlock, makeProcess, makeStream } from '../ingestion/fixtures.js';
import { cleanEnv, serve, type ServeChild } from './serve-process.js';

async function query(url: string, sql: string): Promise<Array<Record<string, unknown>>> {
  const res = await fetch(`${url}/api/query`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ sql, begin: '1h', end: 'now' }),
  });
  const body = (await res.json()) as { rows?: Array<Record<string, unknown>>; error?: string };
  assert.equal(res.status, 200, body.error);
  return body.rows!;
}

async function eventually<T>(what: string, deadlineMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + deadlineMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`${what}: not seen within ${deadlineMs} ms${last ? ` (last error: ${String(last)})` : ''}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe('self-telemetry into the server itself', { timeout: 400_000 }, () => {
  let s: ServeChild;
  let url: string;
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sirius-self-'));
    s = serve(
      ['--roles', 'ingestion,daemon,analytics', '--http-port', '0', '--flight-port', 'off', '--pg-port', 'off', '--retention', 'off', '--data-dir', dir],
      cleanEnv({ SIRIUS_SELF_TELEMETRY: '1' }),
    );
    url = await s.url(240_000);
  });
  after(async () => {
    await s?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  test('the startup line says so', () => {
    assert.match(s.output(), /self-telemetry: this server/);
  });

  test("a block and a query show up as the server's own metrics, found with SQL", async () => {
    // a block from an outside program
    const p = makeProcess();
    const st = makeStream(p.process_id);
    const post = (path: string, body: unknown) =>
      fetch(`${url}/ingestion/${path}`, {
        method: 'POST',
        headers: { 'content-type': body instanceof Uint8Array ? 'application/octet-stream' : 'application/json' },
        body: body instanceof Uint8Array ? (body as Uint8Array<ArrayBuffer>) : JSON.stringify(body),
      });
    assert.equal((await post('insert_process', p)).status, 200);
    assert.equal((await post('insert_stream', st)).status, 200);
    assert.equal((await post('insert_block', makeBlock(st, 5).body)).status, 200);
    await query(url, 'SELECT 1 AS one');

    const self = await eventually('the server process', 120_000, async () => {
      const rows = await query(url, "SELECT process_id, exe FROM processes WHERE exe = 'sirius-server'");
      return rows.length === 1 ? String(rows[0]!.process_id) : undefined;
    });
    const names = await eventually('ingestion_latency and query_duration', 180_000, async () => {
      const rows = await query(url, `SELECT DISTINCT name FROM measures WHERE process_id = '${self}' ORDER BY name`);
      const seen = rows.map((r) => String(r.name));
      return seen.includes('ingestion_latency') && seen.includes('query_duration') ? seen : undefined;
    });
    assert.ok(names.includes('ingestion_block_bytes'), names.join(', '));
    // once log or metric partitions exist, each daemon pass records how far they trail the clock
    await eventually('etl_lag', 180_000, async () => {
      const rows = await query(url, `SELECT value FROM measures WHERE process_id = '${self}' AND name = 'etl_lag'`);
      return rows.length > 0 && rows.every((r) => Number(r.value) >= 0) ? rows : undefined;
    });
    const [lat] = await query(url, `SELECT min(value) AS lo, max(value) AS hi, count(*) AS n FROM measures WHERE process_id = '${self}' AND name = 'ingestion_latency'`);
    assert.ok(Number(lat!.n) >= 1 && Number(lat!.lo) > 0, JSON.stringify(lat));
    const logs = await eventually('its own log', 120_000, async () => {
      const rows = await query(url, `SELECT msg FROM log_entries WHERE process_id = '${self}'`);
      return rows.some((r) => /self-telemetry to http/.test(String(r.msg))) ? rows : undefined;
    });
    assert.ok(logs.length >= 1);
  });
});
