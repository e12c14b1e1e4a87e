/**
 * The timeline reads only its window, against a real server fed by a real program with more spans than it
 * loads one by one: zoomed out it draws per-pixel aggregates computed by the server (which account for
 * every span exactly once), zoomed in it loads the window's spans themselves, and the view is in the URL.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { BROWSER_SKIP, useScriptedServer, screenshot } from './support.js';
import { MANY } from './many-spans-run.js';
import { DETAIL_LIMIT } from '../../src/lib/timeline-window.js';

describe('windowed timeline in Chromium', { skip: BROWSER_SKIP }, () => {
  const app = useScriptedServer('many-spans-run.ts', MANY.exe);
  const total = MANY.frames * MANY.spansPerFrame;

  test('zoomed out: per-pixel aggregates of every span; zoomed in: the window\'s spans one by one', async () => {
    assert.ok(total > DETAIL_LIMIT, 'the run has more spans than a window loads one by one');
    const page = await app.open(`/process/${app.pid}?tab=timeline`);
    await page.waitForFunction(() => (window.__sirius?.timeline?.loads ?? 0) >= 1, undefined, { timeout: 60_000 });
    const out = await page.evaluate(() => {
      const t = window.__sirius.timeline!;
      const spans = t.spans();
      return { mode: t.mode, total: t.total, count: t.count, sumN: spans.reduce((a, s) => a + (s.n ?? 1), 0), lanes: new Set(spans.map((s) => s.depth)).size };
    });
    assert.equal(out.mode, 'aggregates');
    assert.equal(out.total, total);
    assert.equal(out.sumN, total, 'each span counted in exactly one aggregate');
    const width = await page.locator('[data-testid=timeline-canvas]').evaluate((c) => c.clientWidth);
    assert.ok(out.count <= out.lanes * (width + 2), `${out.count} rows for ${out.lanes} lanes of ${width} px`);
    assert.match(await page.locator('[data-testid=timeline-info]').innerText(), /per-pixel aggregates/);
    await screenshot(page, 'process-timeline-aggregates');

    // zoom in to a fiftieth of the view, around the middle frames (blocks may begin and end in idle time):
    // a new window, small enough to load span by span
    const view = await page.evaluate(() => window.__sirius.timelineView!.view());
    const w = (view.end - view.begin) / 50;
    const mid = await page.evaluate(() => {
      const top = window.__sirius.timeline!.spans().filter((s) => s.depth === 0);
      const s = top[Math.floor(top.length / 2)]!;
      return (s.begin + s.end) / 2;
    });
    await page.evaluate(([b, e]) => window.__sirius.timelineView!.setView(b!, e!), [mid - w / 2, mid + w / 2]);
    await page.waitForFunction(() => window.__sirius.timeline?.mode === 'spans', undefined, { timeout: 60_000 });
    const zoomed = await page.evaluate(() => {
      const t = window.__sirius.timeline!;
      const spans = t.spans();
      const win = t.window!;
      return {
        count: t.count, total: t.total, loads: t.loads, win,
        allSingle: spans.every((s) => s.n === 1), allOverlap: spans.every((s) => s.end > win.begin && s.begin < win.end),
        names: [...new Set(spans.map((s) => s.name))].sort(),
      };
    });
    assert.equal(zoomed.count, zoomed.total, 'every span of the window');
    assert.ok(zoomed.count > 0 && zoomed.count < total / 2, `${zoomed.count} spans in the window`);
    assert.ok(zoomed.allSingle && zoomed.allOverlap);
    assert.deepEqual(zoomed.names, ['frame', 'render', 'update']);
    assert.ok(zoomed.win.end - zoomed.win.begin < (view.end - view.begin) / 10, 'only the window around the view was read');
    assert.ok(zoomed.win.begin <= mid - w / 2 && zoomed.win.end >= mid + w / 2, 'the window holds the view');
    assert.match(new URL(page.url()).searchParams.get('zoom') ?? '', /^\d+-\d+$/, 'the view is in the URL');
    await page.waitForFunction(() => (window.__sirius.flame?.count ?? 0) > 0, undefined, { timeout: 30_000 });
    await page.close();
    assert.deepEqual(app.errors, []);
  });
});
