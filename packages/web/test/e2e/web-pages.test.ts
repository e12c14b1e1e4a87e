/**
 * The web app end to end: a real server (all roles) fed by the scripted instrumented run, the built app in
 * headless Chromium. Each page loads with the known data; filters, search, zoom and the flame graph change
 * what is shown as they should; nothing logs a console error. Screenshots land in test-output/screenshots/.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { screenshot, until, runScript, startTailScript, sql, useFedApp, BROWSER_SKIP } from './support.js';
import { EXPECTED, SCRIPT, TAIL_LINES } from './scripted-run.js';

describe('web pages in Chromium', { skip: BROWSER_SKIP }, () => {
  const app = useFedApp();
  const open = app.open;

  test('processes: the scripted process is listed; search filters the list', async () => {
    const page = await open('/processes');
    const row = page.locator(`[data-testid=process-table] tr[data-key="${app.pid}"]`);
    await row.waitFor();
    assert.match(await row.innerText(), new RegExp(SCRIPT.exe));
    assert.equal((await row.locator('[data-col=errors]').innerText()).trim(), String(EXPECTED.error));
    await page.fill('[data-testid=process-search]', 'no-such-process-zzz');
    await page.getByText('No process matches').waitFor();
    await page.fill('[data-testid=process-search]', SCRIPT.exe);
    await row.waitFor();
    assert.match(page.url(), new RegExp(`q=${SCRIPT.exe}`));
    await page.click('button[data-sort=errors]');
    await screenshot(page, 'processes');
    await page.close();
  });

  test('log viewer: counts, level filter, text search and target filter', async () => {
    const page = await open(`/process/${app.pid}?tab=logs`);
    const count = page.locator('[data-testid=log-count]');
    await until('all lines counted', async () => ((await count.innerText()) === `${EXPECTED.logs} lines` ? true : undefined));
    await page.locator('[data-testid=log-list] .log-row:not(.placeholder)').first().waitFor();
    await page.selectOption('[data-testid=log-level]', '2');
    await until('errors only', async () => ((await count.innerText()) === `${EXPECTED.error} lines` ? true : undefined));
    await page.getByText('e2e failure 0').waitFor();
    assert.match(page.url(), /level=2/);
    await screenshot(page, 'process-logs-errors');
    await page.selectOption('[data-testid=log-level]', '6');
    await page.fill('[data-testid=log-search]', 'slow frame');
    await until('search applied', async () => ((await count.innerText()) === `${EXPECTED.warn} lines` ? true : undefined));
    await page.fill('[data-testid=log-search]', '');
    await page.fill('[data-testid=log-target]', 'game/net');
    await until('target filter applied', async () => ((await count.innerText()) === `${EXPECTED.error} lines` ? true : undefined));
    await page.fill('[data-testid=log-target]', 'no-such-target');
    await page.getByText('No log line matches').waitFor();
    await page.close();
    const all = await open(`/process/${app.pid}?tab=logs`);
    await all.locator('[data-testid=log-list] .log-row:not(.placeholder)').first().waitFor();
    await screenshot(all, 'process-logs');
    await all.close();
  });

  test('metrics: one chart per metric; dragging zooms the time range', async () => {
    const from = new Date(app.fed.runBegin - 100).toISOString();
    const to = new Date(app.fed.runEnd + 100).toISOString();
    const page = await open(`/process/${app.pid}?tab=metrics&from=${from}&to=${to}`);
    const charts = page.locator('[data-testid=metric-chart]');
    await until('two charts', async () => ((await charts.count()) === SCRIPT.metrics.length ? true : undefined));
    const names = await charts.locator('figcaption').allInnerTexts();
    for (const m of SCRIPT.metrics) assert.ok(names.some((n) => n.startsWith(m)), `chart for ${m} in ${names}`);
    await screenshot(page, 'process-metrics');
    const over = charts.first().locator('.u-over');
    const box = (await over.boundingBox())!;
    const before = page.url();
    await page.mouse.move(box.x + box.width * 0.2, box.y + box.height / 2);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.5, box.y + box.height / 2, { steps: 5 });
    await page.mouse.move(box.x + box.width * 0.8, box.y + box.height / 2, { steps: 5 });
    await page.mouse.up();
    await until('zoomed URL', async () => (page.url() !== before ? true : undefined));
    const u = new URL(page.url());
    const span = Date.parse(u.searchParams.get('to')!) - Date.parse(u.searchParams.get('from')!);
    const whole = app.fed.runEnd - app.fed.runBegin + 200;
    assert.ok(span > whole * 0.4 && span < whole * 0.8, `zoomed range ${span} ms is about 60 % of ${whole} ms`);
    await until('charts redrawn', async () => ((await charts.count()) === SCRIPT.metrics.length ? true : undefined));
    await page.close();
  });

  test('timeline and flame graph: the scripted spans are laid out', async () => {
    const page = await open(`/process/${app.pid}?tab=timeline`);
    await page.waitForFunction((n) => window.__sirius?.timeline?.count === n, EXPECTED.spans, { timeout: 30_000 });
    const tl = await page.evaluate(() => {
      const spans = window.__sirius.timeline!.spans();
      const byName: Record<string, { n: number; depth: number }> = {};
      for (const s of spans) byName[s.name] = { n: (byName[s.name]?.n ?? 0) + 1, depth: s.depth };
      return byName;
    });
    assert.deepEqual(Object.keys(tl).sort(), [...SCRIPT.spanNames].sort());
    assert.deepEqual(tl.frame, { n: SCRIPT.frames, depth: 0 });
    assert.deepEqual(tl.draw, { n: SCRIPT.frames, depth: 2 });
    const flame = await page.evaluate(() => window.__sirius.flame!.nodes());
    assert.deepEqual(flame.map((f) => [f.name, f.depth, f.calls]), [
      ['frame', 0, SCRIPT.frames], ['render', 1, SCRIPT.frames], ['draw', 2, SCRIPT.frames], ['update', 1, SCRIPT.frames],
    ]);
    assert.equal(await page.getAttribute('[data-testid=timeline-canvas]', 'data-span-count'), String(EXPECTED.spans));
    // pan and zoom with the keyboard: the flame graph follows the visible part
    await page.focus('[data-testid=timeline-canvas]');
    for (let i = 0; i < 6; i++) await page.keyboard.press('+');
    await page.waitForFunction((n) => (window.__sirius.flame?.nodes()[0]?.calls ?? n) < n, SCRIPT.frames, { timeout: 10_000 });
    await screenshot(page, 'process-timeline');
    // the Perfetto link serves the process's trace over the same range
    const href = await page.getAttribute('[data-testid=perfetto-download]', 'href');
    assert.ok(href, 'no Perfetto link');
    const trace = await fetch(new URL(href, app.fed.url));
    assert.equal(trace.status, 200, await trace.clone().text());
    assert.ok((await trace.arrayBuffer()).byteLength > 100, 'an empty Perfetto trace');
    await page.close();
  });

  test('overview: volume, noisiest targets, processes with errors', async () => {
    const page = await open('/overview');
    await page.locator('[data-testid=top-targets]').getByText('game/loop').waitFor();
    await page.locator('[data-testid=top-error-processes]').getByText(SCRIPT.exe).waitFor();
    await page.locator('[data-testid=volume-chart] .u-over').waitFor();
    await screenshot(page, 'overview');
    await page.click('[data-testid=theme-toggle]');
    assert.equal(await page.getAttribute('html', 'data-theme'), 'dark');
    await screenshot(page, 'overview-dark');
    await page.close();
  });

  test('phone width: pages fit without horizontal scrolling', async () => {
    for (const [path, name] of [['/processes', 'phone-processes'], [`/process/${app.pid}?tab=logs`, 'phone-logs']] as const) {
      const page = await open(path, { width: 390, height: 844 });
      await page.locator('.status-loading').first().waitFor({ state: 'detached', timeout: 20_000 }).catch(() => {});
      await page.waitForSelector('[data-testid=process-table], [data-testid=log-list]');
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert.ok(overflow <= 1, `${path} overflows by ${overflow}px at 390px wide`);
      await screenshot(page, name);
      await page.close();
    }
  });

  test('processes: a process that starts while the page is open appears without a reload', async () => {
    const page = await open('/processes');
    await page.locator(`[data-testid=process-table] tr[data-key="${app.pid}"]`).waitFor();
    const navigations: string[] = [];
    page.on('framenavigated', (f) => navigations.push(f.url()));
    await runScript(app.fed.url, { SIRIUS_E2E_EXE: 'e2e-live' });
    await page.locator('[data-testid=process-table] tr', { hasText: 'e2e-live' }).waitFor({ timeout: 30_000 });
    assert.deepEqual(navigations, [], 'the list refreshed itself');
    await page.close();
  });

  test('log viewer: the live tail follows lines logged while it is open', async () => {
    const script = await startTailScript(app.fed.url, 'e2e-tail');
    try {
      const tailPid = await until('the tail process', async () => {
        const rows = await sql(app.fed.url, "SELECT process_id FROM processes WHERE exe LIKE '%e2e-tail%'");
        return rows[0] ? String(rows[0].process_id) : undefined;
      });
      const page = await open(`/process/${tailPid}?tab=logs`);
      const count = page.locator('[data-testid=log-count]');
      await until('first batch counted', async () => ((await count.innerText()) === `${EXPECTED.logs} lines` ? true : undefined), 30_000);
      assert.equal(await page.isChecked('[data-testid=log-tail]'), true);
      await script.more();
      await until('tail lines counted', async () => ((await count.innerText()) === `${EXPECTED.logs + TAIL_LINES} lines` ? true : undefined), 30_000);
      // following the tail: the newest line is on screen without scrolling by hand
      await page.locator('[data-testid=log-list] .log-row', { hasText: `tail line ${TAIL_LINES - 1}` }).waitFor({ timeout: 15_000 });
      await screenshot(page, 'process-logs-tail');
      await page.close();
    } finally {
      await script.stop();
    }
  });

  test('no console errors on any page', () => {
    assert.deepEqual(app.errors, []);
  });
});
