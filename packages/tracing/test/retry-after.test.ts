/**
 * A server with a tiny rate limit answers 429 + Retry-After; a real child process using the public API must
 * wait as told (no request storm in the announced pause) and still deliver every event exactly once. A
 * loopback proxy in front of the server records when requests arrive and what they were answered.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, describe, test } from 'node:test';
import { startServer } from '@sirius/server';
import { parseRetryAfter } from '../src/core/transport.js';
import { knownLogs, knownMetrics, knownThreadSpans } from './fixtures/expected.js';
import { runChild } from './support/child-process.js';
import { lakeTargets } from './support/lake-targets.js';
import { readStreams } from './support/read-lake.js';

test('Retry-After: seconds or an HTTP date', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');
  assert.equal(parseRetryAfter('3', now), 3000);
  assert.equal(parseRetryAfter(' 0 ', now), 0);
  assert.equal(parseRetryAfter('Thu, 01 Jan 2026 00:00:05 GMT', now), 5000);
  assert.equal(parseRetryAfter('Wed, 31 Dec 2025 00:00:05 GMT', now), 0, 'a date in the past: no wait');
  assert.equal(parseRetryAfter(null, now), undefined);
  assert.equal(parseRetryAfter('soon', now), undefined);
});

interface Exchange {
  /** ms (performance.now) the request arrived at the proxy, and its answer left */
  arrived: number;
  answered: number;
  status: number;
  retryAfterMs: number | undefined;
}

async function recordingProxy(target: string): Promise<{ url: string; log: Exchange[]; close(): Promise<void> }> {
  const log: Exchange[] = [];
  const server = http.createServer(async (req, res) => {
    const arrived = performance.now();
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const headers: Record<string, string> = { 'content-type': req.headers['content-type'] ?? 'application/octet-stream' };
    if (req.headers.authorization) headers.authorization = req.headers.authorization;
    const upstream = await fetch(target + req.url, { method: req.method, headers, body: req.method === 'POST' ? Buffer.concat(chunks) : undefined });
    const body = Buffer.from(await upstream.arrayBuffer());
    const out: Record<string, string> = { 'content-type': upstream.headers.get('content-type') ?? 'application/json' };
    const retryAfter = upstream.headers.get('retry-after');
    if (retryAfter !== null) out['retry-after'] = retryAfter;
    res.writeHead(upstream.status, out).end(body);
    log.push({ arrived, answered: performance.now(), status: upstream.status, retryAfterMs: retryAfter === null ? undefined : Number(retryAfter) * 1000 });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    log,
    close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

for (const target of lakeTargets.filter((t) => t.name.endsWith('+file'))) {
  describe(`tracing against a rate-limited server (${target.name})`, { skip: target.skip }, () => {
    test('429 + Retry-After: the child waits as told and every event arrives exactly once', async () => {
      const lake = await target.open();
      // 2 requests/s after a burst of 4: a process, its streams and its blocks cannot all go at once
      const server = await startServer({
        httpPort: 0, dataDir: lake.dataDir, sqlConnectionString: lake.sqlConnectionString, roles: ['ingestion'], quiet: true,
        ingestionRateLimits: { clientRate: 2, clientBurst: 4 },
      });
      cleanups.push(async () => {
        await server.close();
        await lake.cleanup();
      });
      const proxy = await recordingProxy(server.url);
      cleanups.push(() => proxy.close());
      const n = 2000;
      const child = runChild({ SIRIUS_TELEMETRY_URL: proxy.url, CHILD_MODE: 'known', CHILD_N: String(n), CHILD_SHUTDOWN_MS: '120000' });
      const done = await child.step('done', 180_000);
      assert.equal(done.ok, true, child.stderr());
      assert.equal(await child.exited, 0);

      const refusals = proxy.log.filter((e) => e.status === 429);
      assert.ok(refusals.length > 0, `the server answered no 429 (${proxy.log.length} requests)`);
      assert.ok(refusals.every((e) => e.retryAfterMs !== undefined && e.retryAfterMs >= 1000));
      // in the pause a 429 announces, only the one request that may already have been on its way arrives
      for (const r of refusals) {
        const inPause = proxy.log.filter((e) => e !== r && e.arrived > r.answered && e.arrived < r.answered + r.retryAfterMs! - 5);
        assert.ok(inPause.length <= 1, `${inPause.length} requests arrived within the ${r.retryAfterMs} ms a 429 asked to wait`);
      }

      const streams = await readStreams(server.lake);
      const events = (tag: string) => streams.filter((s) => s.tags.includes(tag)).flatMap((s) => s.events);
      const logs = events('log').map((e) => (e.kind === 'log' ? e.msg : ''));
      assert.deepEqual(logs.sort(), [...knownLogs(n).map((l) => l.msg), 'worker done'].sort());
      assert.equal(events('metrics').filter((e) => e.kind === 'int_metric' || e.kind === 'float_metric').length, knownMetrics(n).length);
      const main = streams.find((s) => s.tags.includes('cpu') && s.properties.thread_name === 'main')!;
      assert.equal(main.events.filter((e) => e.kind.endsWith('thread_span')).length, knownThreadSpans(n).length);
    });
  });
}
