/**
 * A server with a tiny rate limit answers 429 + Retry-After; a real child process using the public API must
 * wait as told (no request storm in the announced pause) and still deliver every event exactly once. A
 * loopback proxy in front of the server records when requests arrive and what they were answered.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { startServer } from '@sirius/server';
import { parseRetryAfter } from '../src/core/transport.js';
import { knownLogs, knownMetrics, knownThreadSpans } from './fixtures/expected.js';
import { runChild } from './support/child-process.js';
import { lakeTargets } from './support/lake-targets.js';
import { recordingProxy, sentDuringPause } from './support/recording-proxy.js';
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

const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

for (const target of lakeTargets.filter((t) => t.name.endsWith('+file'))) {
  describe(`tracing against a rate-limited server (${target.name})`, { skip: target.skip }, () => {
    test('429 + Retry-After: the child waits as told and every event arrives exactly once', async () => {
      const lake = await target.open();
      // one request per 4 s after a burst of 2: a process, its streams and its blocks cannot all go at once,
      // even when a loaded host makes each request slow
      const server = await startServer({
        httpPort: 0, dataDir: lake.dataDir, sqlConnectionString: lake.sqlConnectionString, roles: ['ingestion'], quiet: true,
        ingestionRateLimits: { clientRate: 0.25, clientBurst: 2 },
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
      for (const { refusal, during } of sentDuringPause(proxy.log)) {
        assert.ok(during.length <= 1, `${during.length} requests arrived within the ${refusal.retryAfterMs} ms a 429 asked to wait`);
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
