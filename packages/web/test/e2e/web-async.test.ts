/**
 * The Async spans tab against a real server fed by a real instrumented program: per name, how many ran (and
 * how many never ended), then the slowest ones; a process without async spans says so.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { startServer } from '@sirius/server';
import { BROWSER_SKIP, ensureBuilt, launchBrowser, newPage, ROOT, screenshot, sql, tempDir, until, WEB_DIR } from './support.js';
import { ASYNC } from './async-run.js';

function runAsyncScript(url: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(WEB_DIR, 'test', 'e2e', 'async-run.ts')], {
      cwd: ROOT, env: { ...process.env, SIRIUS_TELEMETRY_URL: url }, stdio: ['ignore', 'inherit', 'inherit'],
    });
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`async run exited with ${code}`))));
  });
}

describe('async spans tab in Chromium', { skip: BROWSER_SKIP }, () => {
  let server: { url: string; close(): Promise<void> };
  let data: Awaited<ReturnType<typeof tempDir>>;
  let browser: Browser;
  let pid = '';
  const errors: string[] = [];

  before(async () => {
    ensureBuilt();
    data = await tempDir();
    server = await startServer({ httpPort: 0, dataDir: data.dir, quiet: true });
    await runAsyncScript(server.url);
    const rows = await until('the async process', async () => {
      const r = await sql(server.url, `SELECT process_id FROM processes WHERE exe = '${ASYNC.exe}'`);
      return r.length === 1 ? r : undefined;
    });
    pid = String(rows[0]!.process_id);
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await server?.close();
    await data?.remove();
  });

  test('per name: calls, not ended, durations; then the slowest spans', async () => {
    const page = await newPage(browser, errors);
    await page.goto(`${server.url}/process/${pid}?tab=async`);
    const table = page.locator('[data-testid=async-by-name]');
    await table.locator('tbody tr').first().waitFor({ timeout: 30_000 });
    const rows = (await table.locator('tbody tr').allInnerTexts()).map((r) => r.split('\t').map((c) => c.trim()));
    const byName = new Map(rows.map((r) => [r[0]!, r]));
    assert.deepEqual([...byName.keys()].sort(), ['decode', 'fetch_profile', 'load_asset', 'long_poll']);
    // name, target, calls, not ended, median, p95, longest, total
    assert.equal(byName.get('load_asset')![2], String(ASYNC.loads));
    assert.equal(byName.get('decode')![2], String(ASYNC.loads));
    assert.equal(byName.get('fetch_profile')![2], String(ASYNC.loads / ASYNC.fetchEvery));
    assert.deepEqual(byName.get('long_poll')!.slice(2, 4), ['1', '1'], 'the span that never ended');
    assert.match(byName.get('load_asset')![4]!, /\d (ms|µs)$/, 'a median duration');
    assert.equal(byName.get('long_poll')![4], '—', 'no duration for a span that never ended');
    // the slowest list holds ended spans only, longest first
    const slow = (await page.locator('[data-testid=async-slowest] tbody tr').allInnerTexts()).map((r) => r.split('\t')[0]!.trim());
    assert.equal(slow.length, ASYNC.loads * 2 + ASYNC.loads / ASYNC.fetchEvery);
    assert.equal(slow[0], 'load_asset', 'a load (which holds a decode) is the slowest');
    assert.ok(!slow.includes('long_poll'));
    assert.match(await page.locator('[data-testid=async-info]').innerText(), new RegExp(`^${ASYNC.loads * 2 + ASYNC.loads / ASYNC.fetchEvery + 1} async spans, 4 names$`));
    await screenshot(page, 'process-async');
    await page.close();
    assert.deepEqual(errors, []);
  });
});
