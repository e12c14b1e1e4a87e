/**
 * The timeline's "All threads" view against a real server fed by a real two-threaded program: one timeline
 * per thread with every span, on one time axis, panned and zoomed together.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { BROWSER_SKIP, screenshot, useScriptedServer } from './support.js';
import { THREADS } from './threads-run.js';

describe('all-threads timeline in Chromium', { skip: BROWSER_SKIP }, () => {
  const app = useScriptedServer('threads-run.ts', THREADS.exe);

  test('one timeline per thread with all its spans; panning one pans the others', async () => {
    const page = await app.open(`/process/${app.pid}?tab=timeline&thread=*`);
    await page.waitForFunction(() => window.__sirius?.threads !== undefined, undefined, { timeout: 30_000 });
    const threads = await page.evaluate(() => {
      const t = window.__sirius.threads!;
      return { names: t.names, counts: t.counts, firstBegins: t.firstBegins };
    });
    const byName = new Map(threads.names.map((n, i) => [n, threads.counts[i]!]));
    assert.equal(byName.get('main'), THREADS.frames * 2, 'frame > update on the main thread');
    const worker = threads.names.find((n) => /^worker-\d+$/.test(n));
    assert.ok(worker, `a worker thread among ${threads.names.join(', ')}`);
    assert.equal(byName.get(worker), THREADS.jobs * 3, 'job > step, step on the worker');
    // one time axis: the worker (started after the main thread's first frame) begins later on it
    const first = (name: string) => threads.firstBegins[threads.names.indexOf(name)]!;
    assert.ok(first('main') >= 0);
    assert.ok(first(worker) > first('main'), `the worker's first span at ${first(worker)} ns on the common axis, main's at ${first('main')}`);
    const counts = await page.locator('[data-testid=thread-canvas]').evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-span-count'))));
    // one canvas per lane; lanes other than main and the worker are the runtime's own (gc pauses)
    assert.deepEqual(counts, threads.counts);
    assert.deepEqual(threads.names.filter((n) => n !== 'main' && n !== worker && n !== 'gc'), []);
    assert.equal(await page.locator('[data-testid=thread-select]').inputValue(), '*');
    await screenshot(page, 'process-all-threads');
    // zoom in and pan on the first timeline: every timeline shows the same stretch of time
    await page.locator('[data-testid=thread-canvas]').first().focus();
    for (const key of ['+', '+', 'ArrowRight']) await page.keyboard.press(key);
    const views = await page.evaluate(() => window.__sirius!.threads!.views());
    assert.equal(views.length, threads.names.length);
    assert.ok(views[0]!.end - views[0]!.begin > 0);
    for (const v of views.slice(1)) assert.deepEqual(v, views[0], 'the other timelines followed');
    await page.close();
    assert.deepEqual(app.errors, []);
  });
});
