/**
 * The trace pages in Chromium against a real server fed over OTLP/HTTP: two services share one trace; the
 * list of traces links to it, the search box opens it by id, and the waterfall shows every span once under
 * its parent, colored by service, with a span's details (status, attributes, events) on click.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { Browser } from 'playwright-core';
import { startServer } from '@sirius/server';
import { BROWSER_SKIP, ensureBuilt, launchBrowser, newPage, screenshot, sql, tempDir, until } from './support.js';

const hex = (bytes: number) => randomBytes(bytes).toString('hex');
const str = (stringValue: string) => ({ stringValue });
const TRACE = hex(16);
const OTHER_TRACE = hex(16);
const ids = { root: hex(8), call: hex(8), charge: hex(8), db: hex(8), other: hex(8) };
const T0 = BigInt(Date.now() - 60_000) * 1_000_000n;
const ms = (n: number) => String(T0 + BigInt(n) * 1_000_000n);

function resourceSpans(service: string, spans: object[]) {
  return { resource: { attributes: [{ key: 'service.name', value: str(service) }] }, scopeSpans: [{ scope: { name: `${service}-scope` }, spans }] };
}
const span = (id: string, parent: string, name: string, kind: number, begin: number, end: number, extra: object = {}) =>
  ({ traceId: TRACE, spanId: id, parentSpanId: parent, name, kind, startTimeUnixNano: ms(begin), endTimeUnixNano: ms(end), ...extra });

describe('trace waterfall in Chromium', { skip: BROWSER_SKIP }, () => {
  let server: { url: string; close(): Promise<void> };
  let data: Awaited<ReturnType<typeof tempDir>>;
  let browser: Browser;
  const errors: string[] = [];

  before(async () => {
    ensureBuilt();
    data = await tempDir();
    server = await startServer({ httpPort: 0, dataDir: data.dir, quiet: true });
    const post = async (body: object) => {
      const r = await fetch(`${server.url}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      assert.equal(r.status, 200, await r.text());
    };
    await post({ resourceSpans: [resourceSpans('web-frontend', [
      span(ids.root, '', 'GET /checkout', 2, 0, 120),
      span(ids.call, ids.root, 'POST payments', 3, 10, 100),
      { ...span(ids.other, '', 'unrelated', 1, 5, 6), traceId: OTHER_TRACE },
    ])] });
    await post({ resourceSpans: [resourceSpans('payments', [
      span(ids.charge, ids.call, 'POST /charge', 2, 20, 95),
      span(ids.db, ids.charge, 'db.query', 1, 30, 80, {
        attributes: [{ key: 'db.system', value: str('postgresql') }],
        events: [{ timeUnixNano: ms(40), name: 'retry', attributes: [{ key: 'attempt', value: { intValue: '2' } }] }],
        status: { code: 2, message: 'deadlock detected' },
      }),
    ])] });
    await until('the five spans', async () => ((await sql(server.url, 'SELECT count(*) AS n FROM otel_spans'))[0]?.n === 5 ? true : undefined));
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await server?.close();
    await data?.remove();
  });

  test('from the list of traces to the waterfall: every span under its parent, colored by service, details on click', async () => {
    const page = await newPage(browser, errors);
    await page.goto(`${server.url}/traces?from=now-1h&to=now`);
    const table = page.locator('[data-testid=traces-table]');
    await table.locator('tbody tr').first().waitFor({ timeout: 30_000 });
    assert.equal(await table.locator('tbody tr').count(), 2, 'two traces in the range');
    const row = table.locator('tbody tr', { hasText: 'GET /checkout' });
    assert.match(await row.innerText(), /payments, web-frontend/);
    assert.match(await row.innerText(), /\b4\b/, 'four spans');
    await row.locator('a').click();

    await page.waitForURL(new RegExp(`/traces/${TRACE}`));
    const wf = page.locator('[data-testid=waterfall]');
    await wf.locator('.wf-row').first().waitFor({ timeout: 30_000 });
    const rows = await wf.locator('.wf-row').evaluateAll((els) => els.map((e) => {
      const el = e as HTMLElement;
      return [el.dataset.spanId, el.dataset.depth, el.dataset.service, (el.querySelector('.wf-bar') as HTMLElement).style.background];
    }));
    assert.deepEqual(rows.map((r) => r.slice(0, 3)), [
      [ids.root, '0', 'web-frontend'], [ids.call, '1', 'web-frontend'], [ids.charge, '2', 'payments'], [ids.db, '3', 'payments'],
    ]);
    assert.equal(rows[0]![3], rows[1]![3], 'one color per service');
    assert.notEqual(rows[1]![3], rows[2]![3], 'another service, another color');
    assert.equal(await page.locator('[data-testid=trace-title]').innerText(), 'GET /checkout');
    assert.equal(await page.locator('[data-testid=trace-services]').innerText(), 'payments, web-frontend');

    await wf.locator(`[data-span-id="${ids.db}"]`).click();
    const details = page.locator('[data-testid=span-details]');
    const text = await details.innerText();
    assert.match(text, /db\.query/);
    assert.match(text, /error: deadlock detected/);
    assert.match(text, /db\.system\s+postgresql/);
    assert.match(text, /retry \{"attempt":"2"\}/);
    assert.match(text, new RegExp(ids.charge), 'its parent span id');
    assert.equal(await wf.locator(`[data-span-id="${ids.db}"]`).getAttribute('aria-pressed'), 'true');
    await screenshot(page, 'trace-waterfall');

    // the search box opens a trace by id, and says what is wrong with something else
    await page.goto(`${server.url}/traces?from=now-1h&to=now`);
    await page.locator('[data-testid=trace-search]').fill('not a trace');
    await page.keyboard.press('Enter');
    await page.getByText('A trace id is 32 hexadecimal digits.').waitFor();
    await page.locator('[data-testid=trace-search]').fill(OTHER_TRACE.toUpperCase());
    await page.keyboard.press('Enter');
    await page.waitForURL(new RegExp(`/traces/${OTHER_TRACE}`));
    await wf.locator('.wf-row').first().waitFor({ timeout: 30_000 });
    assert.deepEqual(await wf.locator('.wf-row').evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset.spanId)), [ids.other]);
    await page.close();
    assert.deepEqual(errors, []);
  });
});
