/**
 * Slow HTTP clients (slowloris headers, a stalled body, a silent connection) are cut off after the server's
 * timeouts, shortened here, while ordinary and slow-but-steady requests are answered.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, type RunningServer } from '../../src/serve.js';
import { makeProcess } from '../ingestion/fixtures.js';
import { rawConnect, within } from '../support/raw-client.js';

const HEADERS_MS = 300;
const REQUEST_MS = 3_000;
/** far beyond both timeouts plus node's checking interval, still short next to node's own defaults (60 s, 300 s) */
const CUT_WITHIN_MS = 10_000;

describe('HTTP server against slow clients', () => {
  let server: RunningServer;
  let dir: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sirius-http-slow-'));
    server = await startServer({
      roles: ['ingestion'], httpPort: 0, dataDir: dir, sqlConnectionString: 'memory://', quiet: true,
      limits: { httpHeadersTimeoutMs: HEADERS_MS, httpRequestTimeoutMs: REQUEST_MS },
    });
  });
  after(async () => {
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('half the headers, then nothing: 408 and closed after the headers timeout', async () => {
    const c = await rawConnect(server.port);
    const start = Date.now();
    c.socket.write('POST /ingestion/insert_process HTTP/1.1\r\nHost: sirius\r\nContent-Type: appl');
    // the connection is held meanwhile, yet the server answers others
    assert.equal((await fetch(`${server.url}/health`)).status, 200);
    assert.ok(await within(c.closed, CUT_WITHIN_MS), 'the slow client is still connected');
    assert.ok(Date.now() - start >= HEADERS_MS - 50, 'cut before the headers timeout');
    assert.match(c.received().toString('latin1'), /^HTTP\/1\.1 408/);
  });

  test('a connection that sends nothing is closed after the headers timeout', async () => {
    const c = await rawConnect(server.port);
    assert.ok(await within(c.closed, CUT_WITHIN_MS), 'the silent client is still connected');
  });

  test('headers with a Content-Length, then a stalled body: 408 and closed after the request timeout', async () => {
    const c = await rawConnect(server.port);
    const start = Date.now();
    c.socket.write('POST /ingestion/insert_process HTTP/1.1\r\nHost: sirius\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"process_id":');
    assert.ok(await within(c.closed, REQUEST_MS + CUT_WITHIN_MS), 'the stalled upload is still connected');
    assert.ok(Date.now() - start >= REQUEST_MS - 50, 'cut before the request timeout');
    assert.match(c.received().toString('latin1'), /^HTTP\/1\.1 408/);
  });

  test('a body trickling in for longer than the headers timeout but within the request timeout is answered', async () => {
    const body = Buffer.from(JSON.stringify(makeProcess()));
    const c = await rawConnect(server.port);
    c.socket.write(`POST /ingestion/insert_process HTTP/1.1\r\nHost: sirius\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`);
    const pieces = 6;
    const step = Math.ceil(body.length / pieces);
    // paced, as a slow link would deliver it: 6 × 100 ms is twice the headers timeout
    for (let i = 0; i < pieces; i++) {
      await new Promise((r) => setTimeout(r, 100));
      c.socket.write(body.subarray(i * step, (i + 1) * step));
    }
    assert.ok(await within(c.closed, CUT_WITHIN_MS), 'no answer');
    const answer = c.received().toString('utf8');
    assert.match(answer, /^HTTP\/1\.1 200/);
    assert.match(answer, /"inserted":true/);
  });

  test('ordinary requests work, several on one keep-alive connection', async () => {
    for (let i = 0; i < 3; i++) {
      const r = await fetch(`${server.url}/health`);
      assert.equal(r.status, 200);
      assert.deepEqual(await r.json(), { status: 'alive' });
    }
    const r = await fetch(`${server.url}/ingestion/insert_process`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(makeProcess()),
    });
    assert.equal(r.status, 200);
  });
});

describe('HTTP server connection bound', () => {
  let server: RunningServer;
  let dir: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sirius-http-bound-'));
    // long timeouts: the held connections must stay until the test lets them go
    server = await startServer({
      roles: ['ingestion'], httpPort: 0, dataDir: dir, sqlConnectionString: 'memory://', quiet: true,
      limits: { httpMaxConnections: 8, httpHeadersTimeoutMs: 30_000, httpRequestTimeoutMs: 30_000 },
    });
  });
  after(async () => {
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('connections over the bound are closed on arrival; after the holders leave, clients are served again', async () => {
    const held = [];
    for (let i = 0; i < 8; i++) held.push(await rawConnect(server.port));
    // each extra one is accepted by the kernel, then closed by the server without an answer
    const extra = await Promise.all(Array.from({ length: 5 }, () => rawConnect(server.port)));
    for (const c of extra) assert.ok(await within(c.closed, CUT_WITHIN_MS), 'a connection over the bound was kept');
    for (const c of extra) assert.equal(c.received().length, 0);
    assert.ok(held.every((c) => !c.isClosed()), 'a connection within the bound was closed');
    for (const c of held) c.socket.destroy();
    await Promise.all(held.map((c) => c.closed));
    const deadline = Date.now() + CUT_WITHIN_MS;
    // the server sees the holders' closes a moment after they happen
    for (;;) {
      const ok = await fetch(`${server.url}/health`).then((r) => r.status === 200, () => false);
      if (ok) break;
      assert.ok(Date.now() < deadline, '/health never answered after the holders left');
      await new Promise((r) => setTimeout(r, 20));
    }
  });
});
