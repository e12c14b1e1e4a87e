/**
 * Results cannot take the server's memory: one result is capped as it is copied, results being built
 * share a budget, HTTP sends JSON and Arrow piece by piece as the client reads, and a streamed result (Flight
 * SQL) holds one batch at a time. A query over a limit fails with a clear error while
 * others go on.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Hono } from 'hono';
import { serve } from '@hono/node-server';
import { tableFromIPC } from 'apache-arrow';
import { startEngine, type EngineFixture } from '../analytics/engine-fixture.js';
import { createQueryRoutes, ARROW_STREAM } from '../../src/endpoints/http-query.js';
import { jsonRowChunks, tableToJsonRows } from '../../src/endpoints/result-json.js';
import { MemoryBudget } from '../../src/analytics/memory-budget.js';
import { QueryError } from '../../src/analytics/query-error.js';

const MiB = 2 ** 20;
const RANGE = { begin: '1h', end: 'now' };

describe('result memory', () => {
  let f: EngineFixture;
  let server: Server;
  let url: string;

  before(async () => {
    f = await startEngine({ limits: { maxResultBytes: 16 * MiB, resultMemoryBytes: 64 * MiB, maxConcurrent: 2 } });
    const app = new Hono();
    app.route('/api', createQueryRoutes({ engine: f.engine }));
    server = await new Promise<Server>((resolve, reject) => {
      const s = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }) as Server;
      s.once('listening', () => resolve(s));
      s.once('error', reject);
    });
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await f.close();
  });

  const ask = (sql: string, accept = 'application/json') =>
    fetch(`${url}/api/query`, { method: 'POST', headers: { 'content-type': 'application/json', accept }, body: JSON.stringify({ sql, ...RANGE }) });

  test('a result over the per-query cap answers 413 with the reason, while another query is answered', async () => {
    // 400 rows of 100 kB: 40 MB against a 16 MiB cap, sent together with a small query
    const [big, small] = await Promise.all([ask(`SELECT repeat('x', 100000) AS s FROM range(400)`), ask('SELECT 42 AS answer')]);
    assert.equal(big.status, 413);
    const err = (await big.json()) as { error: string; code: string };
    assert.equal(err.code, 'too_large');
    assert.match(err.error, /the result holds more than 16 MiB: select fewer columns, aggregate, or add a LIMIT/);
    assert.equal(small.status, 200);
    assert.deepEqual(((await small.json()) as { rows: unknown[] }).rows, [{ answer: 42 }]);
    // and the engine is whole afterwards
    assert.equal((await ask('SELECT 1 AS one')).status, 200);
  });

  test('results being built share one budget: a result that does not fit in what is left is refused by name', async () => {
    const tight = await startEngine({ limits: { maxResultBytes: 16 * MiB, resultMemoryBytes: 4 * MiB } });
    try {
      await assert.rejects(tight.engine.query(`SELECT repeat('x', 100000) AS s FROM range(100)`, RANGE), (e: QueryError) => {
        assert.equal(e.code, 'too_large');
        assert.match(e.message, /the server's result memory \(4 MiB\) is in use by other queries' results/);
        return true;
      });
      // what the refused query took is given back: the same budget serves the next result
      const ok = await tight.engine.query(`SELECT repeat('x', 1000) AS s FROM range(1000)`, RANGE);
      assert.equal(ok.table.numRows, 1000);
      assert.ok(ok.stats.resultBytes >= 1000 * 1000, `${ok.stats.resultBytes} bytes counted`);
    } finally {
      await tight.close();
    }
  });

  test('MemoryBudget: takes what fits, refuses what does not, gives back', () => {
    const b = new MemoryBudget(100);
    assert.equal(b.reserve(60), true);
    assert.equal(b.reserve(50), false);
    assert.equal(b.inUse, 60);
    b.release(60);
    assert.equal(b.reserve(100), true);
    b.release(1000);
    assert.equal(b.inUse, 0);
  });

  test('JSON is sent in pieces that make the same text; a multi-piece response parses whole', async () => {
    const out = await f.engine.query(`SELECT i, 'v' || i AS s, NULL::VARCHAR AS n FROM range(5000) r(i)`, RANGE);
    const pieces = [...jsonRowChunks(out.table, 1000)];
    assert.ok(pieces.length > 10, `${pieces.length} pieces`);
    assert.equal(pieces.join(''), tableToJsonRows(out.table));
    assert.deepEqual(JSON.parse(tableToJsonRows(out.table)).at(-1), { i: 4999, s: 'v4999', n: null });
    // ~12 MB of JSON over HTTP, more than the 1 MiB piece size
    const r = await ask(`SELECT i, repeat('y', 1000) AS s FROM range(12000) r(i)`);
    assert.equal(r.status, 200);
    const body = (await r.json()) as { rows: { i: number; s: string }[]; stats: { rows: number } };
    assert.equal(body.rows.length, 12000);
    assert.equal(body.stats.rows, 12000);
    assert.equal(body.rows[11999]!.i, 11999);
  });

  test('Arrow IPC is sent batch by batch and reads back whole', async () => {
    const r = await ask(`SELECT i, repeat('z', 1000) AS s FROM range(10000) r(i)`, ARROW_STREAM);
    assert.equal(r.status, 200);
    const table = tableFromIPC(new Uint8Array(await r.arrayBuffer()));
    assert.equal(table.numRows, 10000);
    assert.ok(table.batches.length >= 4, `${table.batches.length} record batches of ≤ 2 MiB`);
    assert.equal(Number(table.getChild('i')!.get(9999)), 9999);
  });

  test('a streamed result holds one batch: 40 MB pass a 16 MiB per-query cap whole, and the budget is given back', async () => {
    // 1 kB rows: a DuckDB chunk (2 048 rows) is 2 MB, and a batch is cut from whole chunks
    const sql = `SELECT i, repeat('x', 1000) AS s FROM range(40000) r(i)`;
    const stream = await f.engine.stream(sql, RANGE, { batchBytes: 2 * MiB });
    let rows = 0;
    let bytes = 0;
    let batches = 0;
    let sum = 0;
    for await (const batch of stream) {
      batches++;
      rows += batch.numRows;
      const s = batch.getChild('s')!;
      for (let r = 0; r < batch.numRows; r++) bytes += (s.get(r) as string).length;
      for (const v of batch.getChild('i')!) sum += Number(v);
    }
    assert.equal(rows, 40000);
    assert.equal(bytes, 40_000_000);
    assert.equal(sum, (39999 * 40000) / 2);
    assert.ok(batches >= 10, `${batches} batches of about 2 MiB`);
    // the same result in one piece is over the cap
    await assert.rejects(f.engine.query(sql, RANGE), /more than 16 MiB/);
  });
});
