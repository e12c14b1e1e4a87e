/**
 * A page in Debian Chromium sends through a server with a tiny rate limit (one request per 4 s, burst 2): the
 * server answers 429 + Retry-After (exposed to the page by CORS), the SDK's worker waits as told, and every
 * log arrives exactly once. A recording proxy between page and server sees the 429s and the pauses.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { startServer, type RunningServer } from '@sirius/server';
import { readStreams } from '../support/read-lake.js';
import { recordingProxy, sentDuringPause, type RecordingProxy } from '../support/recording-proxy.js';
import { BROWSER_SKIP, buildSdkIfStale, launchChromium, pageServer, type Loopback } from './support.js';

const LOGS = 300;

interface Sdk {
  init(o: object): void;
  info(message: string, o?: object): void;
  flush(o?: { timeoutMs?: number }): Promise<boolean>;
}

describe('a page against a rate-limited server', { skip: BROWSER_SKIP }, () => {
  let dir: string;
  let server: RunningServer;
  let pages: Loopback;
  let proxy: RecordingProxy;
  let browser: Browser;

  before(async () => {
    buildSdkIfStale();
    dir = await mkdtemp(join(tmpdir(), 'sirius-rate-page-'));
    pages = await pageServer();
    server = await startServer({
      roles: ['ingestion'], httpPort: 0, dataDir: dir, sqlConnectionString: 'memory://', objectStoreUri: 'memory://', quiet: true,
      ingestionOrigins: [pages.origin], ingestionRateLimits: { clientRate: 0.25, clientBurst: 2 },
    });
    proxy = await recordingProxy(server.url);
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await proxy?.close();
    await server?.close();
    await pages?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('429 + Retry-After: the worker waits as told and every log arrives exactly once', async () => {
    const page = await browser.newPage();
    try {
      await page.goto(`${pages.origin}/rate-limited`);
      const ok = await page.evaluate(async ([sdkUrl, url, n]) => {
        const s = (await import(sdkUrl)) as Sdk;
        s.init({ url, sampling: false, runtimeHealth: false, properties: { test_run: 'rate-limited' } });
        for (let i = 0; i < n; i++) s.info(`line ${i}`, { target: 'rate' });
        const first = await s.flush({ timeoutMs: 60_000 });
        for (let i = n; i < 2 * n; i++) s.info(`line ${i}`, { target: 'rate' });
        return first && (await s.flush({ timeoutMs: 60_000 }));
      }, [`${server.url}/sdk/tracing.js`, proxy.url, LOGS] as const);
      assert.equal(ok, true, 'both flushes finished within their deadline');
    } finally {
      await page.close();
    }

    const refusals = proxy.log.filter((e) => e.status === 429);
    assert.ok(refusals.length > 0, `the server answered no 429 (${proxy.log.length} requests)`);
    for (const { refusal, during } of sentDuringPause(proxy.log)) {
      assert.ok(during.length <= 1, `${during.length} requests arrived within the ${refusal.retryAfterMs} ms a 429 asked to wait`);
    }
    const streams = await readStreams(server.lake);
    const lines = streams.filter((s) => s.tags.includes('log')).flatMap((s) => s.events.flatMap((e) => (e.kind === 'log' && e.target === 'rate' ? [e.msg] : [])));
    assert.deepEqual(lines.sort(), Array.from({ length: 2 * LOGS }, (_, i) => `line ${i}`).sort());
  });
});
