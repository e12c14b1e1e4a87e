/**
 * Attack: a client streams a 300 MiB chunked body (no Content-Length, so nothing can be refused up front)
 * at every route that reads a body. Each must answer 413 once its cap is passed, having buffered at most
 * the cap plus one chunk: the server's memory stays flat and the client is cut off long before 300 MiB.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, type RunningServer } from '../../src/serve.js';
import { NOTEBOOK_LIMITS } from '../../src/endpoints/notebooks.js';

const TOTAL = 300 * 1024 * 1024;
const CHUNK = 64 * 1024;
const MAX_BLOCK = 1024 * 1024;

interface Outcome {
  status: number;
  body: string;
  /** bytes the client got to write before the server answered or closed */
  sent: number;
}

/** Streams `total` bytes of `fill` as a chunked body, with backpressure, until the server answers. */
function streamChunked(url: string, method: string, headers: Record<string, string>, total: number, fill = 0x20): Promise<Outcome> {
  const chunk = Buffer.alloc(CHUNK, fill);
  return new Promise((resolve, reject) => {
    let sent = 0;
    let answered = false;
    const req = request(url, { method, headers: { ...headers, 'transfer-encoding': 'chunked' } }, (res) => {
      answered = true;
      const parts: Buffer[] = [];
      res.on('data', (d: Buffer) => parts.push(d));
      res.on('end', () => {
        req.destroy();
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(parts).toString('utf8'), sent });
      });
      res.on('error', reject);
    });
    // the server closing mid-upload is the expected end; the response (already on its way) is what counts
    req.on('error', (err) => {
      if (!answered) setTimeout(() => (answered ? undefined : reject(err)), 2000).unref();
    });
    const pump = () => {
      while (!answered && sent < total && !req.destroyed) {
        sent += CHUNK;
        if (!req.write(chunk)) return void req.once('drain', pump);
      }
      if (!answered && sent >= total) req.end();
    };
    pump();
  });
}

describe('request bodies are capped while reading (300 MiB chunked)', () => {
  let server: RunningServer;
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sirius-body-caps-'));
    server = await startServer({
      roles: ['ingestion', 'analytics'],
      httpPort: 0,
      dataDir: dir,
      sqlConnectionString: 'memory://',
      maxBlockBytes: MAX_BLOCK,
      quiet: true,
    });
  });
  after(async () => {
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  const routes: Array<{ name: string; method: string; path: string; type: string; cap: number }> = [
    { name: 'POST /api/query', method: 'POST', path: '/api/query', type: 'application/json', cap: 1024 * 1024 },
    { name: 'PUT /api/notebooks/:id', method: 'PUT', path: '/api/notebooks/big', type: 'application/json', cap: NOTEBOOK_LIMITS.bodyBytes },
    { name: 'POST /ingestion/insert_block', method: 'POST', path: '/ingestion/insert_block', type: 'application/octet-stream', cap: MAX_BLOCK },
    { name: 'POST /ingestion/insert_process', method: 'POST', path: '/ingestion/insert_process', type: 'application/json', cap: 1024 * 1024 },
    { name: 'POST /v1/logs', method: 'POST', path: '/v1/logs', type: 'application/x-protobuf', cap: MAX_BLOCK },
  ];

  for (const r of routes) {
    test(`${r.name}: 413 after the cap, memory flat`, async () => {
      const base = process.memoryUsage().rss;
      let peak = base;
      const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 5);
      let out: Outcome;
      try {
        out = await streamChunked(`${server.url}${r.path}`, r.method, { 'content-type': r.type }, TOTAL);
      } finally {
        clearInterval(sampler);
      }
      peak = Math.max(peak, process.memoryUsage().rss);
      const growthMiB = (peak - base) / 1024 / 1024;
      console.log(`${r.name}: 413 after the client wrote ${(out.sent / 1024 / 1024).toFixed(1)} MiB; RSS growth ${growthMiB.toFixed(1)} MiB`);
      assert.equal(out.status, 413, out.body);
      assert.match(out.body, /larger than|too large/);
      // what the client could write is the cap plus socket buffers: nowhere near the whole body
      assert.ok(out.sent < r.cap + 32 * 1024 * 1024, `the client wrote ${out.sent} bytes before being cut off`);
      assert.ok(growthMiB < 64, `RSS grew by ${growthMiB.toFixed(1)} MiB`);
    });
  }

  test('a body just under the cap is still read (POST /api/query)', async () => {
    const sql = `SELECT 1 AS one -- ${'x'.repeat(512 * 1024)}`;
    const r = await fetch(`${server.url}/api/query`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ sql, begin: '1h', end: 'now' }),
    });
    assert.equal(r.status, 200, await r.clone().text());
    assert.deepEqual(((await r.json()) as { rows: unknown[] }).rows, [{ one: 1 }]);
  });
});
