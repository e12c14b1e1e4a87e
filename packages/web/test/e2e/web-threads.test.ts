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
    // one time axis: the main thread's first frame is its origin, the worker (started after it) begins later
    const first = (name: string) => threads.firstBegins[threads.names.indexOf(name)]!;
    assert.equal(first('main'), 0);
    assert.ok(first(worker) > 0, `the worker's first span at ${first(worker)} ns on the common axis`);
    const counts = await page.locator('[data-testid=thread-canvas]').evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-span-count'))));
    assert.deepEqual(counts.sort((a, b) => a - b), [THREADS.frames * 2, THREADS.jobs * 3].sort((a, b) => a - b));
    assert.equal(await page.locator('[data-testid=thread-select]').inputValue(), '*');
    await screenshot(page, 'process-all-threads');
    // zoom in and pan on the first timeline: every timeline shows the same stretch of time
    await page.locator('[data-testid=thread-canvas]').first().focus();
    for (const key of ['+', '+', 'ArrowRight']) await page.keyboard.press(key);
    const views = await page.evaluate(() => window.__sirius!.threads!.views());
    assert.equal(views.length, 2);
    assert.ok(views[0]!.end - views[0]!.begin < views[1]!.end - views[1]!.begin + 1e-6 && views[0]!.end - views[0]!.begin > 0);
    assert.deepEqual(views[1], views[0], 'the other timeline followed');
    await page.close();
    assert.deepEqual(app.errors, []);
  });
});
