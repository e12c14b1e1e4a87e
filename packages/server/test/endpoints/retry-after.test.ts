/**
 * Every retryable 503 the HTTP side answers carries `Retry-After`: the query queue full (`/api/query`, the
 * Perfetto export), the metadata database gone (ingestion, `/api/query`, `/ready`), and a managed API key that
 * cannot be checked because the database is gone. (Lake outages of each kind are also in lake/outages.test.ts;
 * the PostgreSQL gateway and Flight SQL say "retry" in their messages instead, having no headers.)
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Hono } from 'hono';
import { serve } from '@hono/node-server';
import { startEngine, type EngineFixture } from '../analytics/engine-fixture.js';
import { createQueryRoutes } from '../../src/endpoints/http-query.js';
import { createPerfettoRoutes } from '../../src/endpoints/perfetto-export.js';
import { startServer, type RunningServer } from '../../src/serve.js';
import { createKey } from '../../src/lake/key-store.js';
import { pgBackends } from '../support/pg.js';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.js';
import { makeProcess } from '../ingestion/fixtures.js';

interface Answer {
  status: number;
  retryAfter: string | null;
  body: string;
}

async function call(url: string, init?: RequestInit): Promise<Answer> {
  const r = await fetch(url, { ...init, signal: AbortSignal.timeout(30_000) });
  return { status: r.status, retryAfter: r.headers.get('retry-after'), body: await r.text() };
}

function assertRetryable(a: Answer, what: string): void {
  assert.equal(a.status, 503, `${what}: ${a.body}`);
  assert.match(a.retryAfter ?? '', /^[1-9]\d*$/, `${what}: Retry-After in whole seconds`);
}

/** polls `answer` until it gives a 503 or the deadline passes, and returns the last answer */
async function until503(ms: number, answer: () => Promise<Answer>): Promise<Answer> {
  const deadline = Date.now() + ms;
  for (;;) {
    const a = await answer();
    if (a.status === 503 || Date.now() > deadline) return a;
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('Retry-After when every query slot is taken', () => {
  let f: EngineFixture;
  let server: Server;
  let url: string;
  before(async () => {
    // one query at a time, none waiting: a second query while one runs is refused as busy
    f = await startEngine({ limits: { maxConcurrent: 1, maxQueued: 0, timeoutMs: 120_000 } });
    const app = new Hono();
    app.route('/api', createQueryRoutes({ engine: f.engine }));
    app.route('/api', createPerfettoRoutes({ engine: f.engine }));
    server = await new Promise<Server>((resolve, reject) => {
      const s = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }) as Server;
      s.once('listening', () => resolve(s));
      s.once('error', reject);
    });
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    server?.closeAllConnections();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    await f?.close();
  });

  test('/api/query and /api/perfetto answer 503 busy with Retry-After', async () => {
    const long = new AbortController();
    const running = fetch(`${url}/api/query`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, signal: long.signal,
      body: JSON.stringify({ sql: 'SELECT count(*) FROM range(100000000000) a', begin: '1h' }),
    }).catch(() => undefined);
    try {
      const ask = () => call(`${url}/api/query`, {
        method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ sql: 'SELECT 1 AS one', begin: '1h' }),
      });
      const busy = await until503(30_000, ask);
      assertRetryable(busy, '/api/query');
      assert.equal((JSON.parse(busy.body) as { code: string }).code, 'busy');
      assertRetryable(await call(`${url}/api/perfetto/00000000-0000-4000-8000-000000000001`), '/api/perfetto');
    } finally {
      long.abort();
      await running;
    }
  });
});

const pgServer = pgBackends.find((b) => b.name === 'postgres')!;

describe('Retry-After when the metadata database is gone', { skip: pgServer.skip }, () => {
  let dir: string;
  let db: { connectionString: string | undefined; drop(): Promise<void> };
  let proxy: TcpProxy;
  let server: RunningServer;
  let readerKey: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sirius-retry-after-'));
    db = await pgServer.create();
    const target = new URL(db.connectionString!);
    proxy = await startTcpProxy(target.hostname, Number(target.port || 5432));
    const viaProxy = new URL(target);
    viaProxy.hostname = '127.0.0.1';
    viaProxy.port = String(proxy.port);
    server = await startServer({
      roles: ['ingestion', 'analytics'], httpPort: 0, dataDir: dir, sqlConnectionString: viaProxy.toString(),
      objectStoreUri: 'memory://', quiet: true, lakeTimeoutMs: 1000, ingestionKeys: ['env-ingest'],
    });
    readerKey = (await createKey(server.lake.sql, 'reader', 'query')).secret;
  });
  after(async () => {
    await proxy?.start().catch(() => undefined);
    await server?.close();
    await proxy?.close();
    await db?.drop();
    await rm(dir, { recursive: true, force: true });
  });

  test('ingestion, /ready and a managed key that cannot be checked answer 503 with Retry-After', async () => {
    const ingest = () => call(`${server.url}/ingestion/insert_process`, {
      method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer env-ingest' }, body: JSON.stringify(makeProcess()),
    });
    const query = () => call(`${server.url}/api/query`, {
      method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${readerKey}` },
      body: JSON.stringify({ sql: 'SELECT 1 AS one', begin: '1h' }),
    });
    // up: once the server's key snapshot has the new key, the query side wants one, and the key passes
    const anonymous = () => call(`${server.url}/api/query`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ sql: 'SELECT 1 AS one', begin: '1h' }),
    });
    const deadline = Date.now() + 10_000;
    while ((await anonymous()).status !== 401 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    assert.equal((await anonymous()).status, 401);
    const up = await query();
    assert.equal(up.status, 200, up.body);

    await proxy.stop();
    assertRetryable(await until503(15_000, ingest), 'ingestion with an environment key, database down');
    assertRetryable(await until503(15_000, () => call(`${server.url}/ready`)), '/ready');
    const refused = await until503(15_000, query);
    assertRetryable(refused, '/api/query with a managed key, database down');
  });
});
