/**
 * The Async spans tab against a real server fed by a real instrumented program: per name, how many ran (and
 * how many never ended), then the slowest ones.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { BROWSER_SKIP, screenshot, useScriptedServer } from './support.js';
import { ASYNC } from './async-run.js';

describe('async spans tab in Chromium', { skip: BROWSER_SKIP }, () => {
  const app = useScriptedServer('async-run.ts', ASYNC.exe);

  test('per name: calls, not ended, durations; then the slowest spans', async () => {
    const page = await app.open(`/process/${app.pid}?tab=async`);
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
    assert.deepEqual(app.errors, []);
  });
});
