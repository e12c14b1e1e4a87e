/**
 * A server started with query keys (SIRIUS_QUERY_KEYS): `/api` answers 401 without one, the web app asks for a
 * key, refuses a wrong one with the server's reason, shows the data with the right one, and remembers it.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { Browser } from 'playwright-core';
import { startServer } from '@sirius/server';
import { BROWSER_SKIP, ensureBuilt, launchBrowser, newPage, screenshot, takeExpectedError, tempDir, until } from './support.js';

const KEY = 'e2e-query-key';

describe('query keys in Chromium', { skip: BROWSER_SKIP }, () => {
  let server: { url: string; close(): Promise<void> };
  let data: Awaited<ReturnType<typeof tempDir>>;
  let browser: Browser;
  const errors: string[] = [];
  const processId = randomUUID();

  before(async () => {
    ensureBuilt();
    data = await tempDir();
    server = await startServer({ httpPort: 0, dataDir: data.dir, quiet: true, queryKeys: [KEY] });
    const process = {
      process_id: processId, exe: 'auth-e2e-game', username: 'e2e', realname: 'e2e', computer: 'box', distro: 'linux', cpu_brand: 'cpu',
      tsc_frequency: 1e9, start_time: String(BigInt(Date.now()) * 1_000_000n), start_ticks: '0', parent_process_id: null, properties: {},
    };
    const r = await fetch(`${server.url}/ingestion/insert_process`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(process) });
    assert.equal(r.status, 200, 'ingestion keeps its own keys (none here)');
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await server?.close();
    await data?.remove();
  });

  test('/api answers 401 without the key and 200 with it', async () => {
    const ask = (headers: Record<string, string>) =>
      fetch(`${server.url}/api/query`, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json', ...headers }, body: '{"sql":"SELECT 1 AS one","begin":"1h"}' });
    const none = await ask({});
    assert.equal(none.status, 401);
    assert.match(((await none.json()) as { error: string }).error, /missing API key/);
    assert.equal((await ask({ authorization: 'Bearer wrong' })).status, 401);
    assert.equal((await ask({ authorization: `Bearer ${KEY}` })).status, 200);
    assert.equal((await fetch(`${server.url}/health`)).status, 200, 'health stays open');
  });

  test('the app asks for a key, refuses a wrong one, shows the data with the right one and remembers it', async () => {
    const page = await newPage(browser, errors);
    await page.goto(`${server.url}/processes`);
    const dialog = page.locator('[data-testid=sign-in]');
    await dialog.waitFor();
    await page.fill('[data-testid=api-key-input]', 'not-the-key');
    await page.click('[data-testid=sign-in-submit]');
    await until('the dialog to come back with the server\'s reason', async () =>
      /not accepted.*unknown API key/.test(await page.locator('[data-testid=sign-in-reason]').innerText()) ? true : undefined);
    await screenshot(page, 'sign-in');
    await page.fill('[data-testid=api-key-input]', KEY);
    await page.click('[data-testid=sign-in-submit]');
    const row = page.locator(`[data-testid=process-table] tr[data-key="${processId}"]`);
    await row.waitFor();
    assert.equal(await dialog.count(), 0, 'the dialog is gone');
    // the key is kept: a new visit shows the data without asking
    await page.reload();
    await row.waitFor();
    assert.equal(await dialog.count(), 0);
    await page.close();
    // each refused request logged its 401; nothing else went wrong
    while (takeExpectedError(errors, /status of 401/));
    assert.deepEqual(errors, []);
  });
});
