/**
 * The Frames tab and browser processes against a real server fed by real instrumented programs: a
 * browser-like game (`frames-run.ts`: browser properties, one known hitch) and a plain Node program
 * (`threads-run.ts`). The chart and the slowest-frames table show the hitch, one click opens the timeline
 * zoomed on it, the process page shows the device, and the processes search finds it by property.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { startServer } from '@sirius/server';
import { BROWSER_SKIP, ensureBuilt, launchBrowser, newPage, runScript, screenshot, sql, tempDir, until } from './support.js';
import { FRAMES_RUN } from './frames-run.js';
import { THREADS } from './threads-run.js';

describe('Frames tab and browser processes in Chromium', { skip: BROWSER_SKIP }, () => {
  let server: { url: string; close(): Promise<void> } | undefined;
  let data: Awaited<ReturnType<typeof tempDir>> | undefined;
  let browser: Browser | undefined;
  let pid = '';
  /** the hitch span, epoch ns, as the server has it */
  let hitch = { begin: 0n, end: 0n };
  const errors: string[] = [];
  const open = async (path: string): Promise<Page> => {
    const page = await newPage(browser!, errors);
    await page.goto(`${server!.url}${path}`);
    return page;
  };

  before(async () => {
    ensureBuilt();
    data = await tempDir();
    server = await startServer({ httpPort: 0, dataDir: data.dir, quiet: true });
    await runScript(server.url, {}, 'frames-run.ts');
    await runScript(server.url, {}, 'threads-run.ts');
    const url = server.url;
    pid = await until('the frames process', async () => {
      const r = await sql(url, `SELECT process_id FROM processes WHERE exe = '${FRAMES_RUN.exe}'`);
      return r.length === 1 ? String(r[0]!.process_id) : undefined;
    });
    await until(`${FRAMES_RUN.frames} frame_time measures`, async () => {
      const [r] = await sql(url, `SELECT count(*) AS n FROM measures WHERE process_id = '${pid}' AND name = 'frame_time'`);
      return Number(r?.n) === FRAMES_RUN.frames ? true : undefined;
    }, 45_000);
    const [stream] = await sql(url, `SELECT stream_id FROM streams WHERE process_id = '${pid}' AND array_contains(tags, 'cpu')`);
    const [h] = await sql(url, `SELECT CAST(epoch_ns("begin") AS VARCHAR) AS b, CAST(epoch_ns("end") AS VARCHAR) AS e
      FROM view_instance('thread_spans', '${String(stream!.stream_id)}') WHERE name = 'hitch'`);
    hitch = { begin: BigInt(String(h!.b)), end: BigInt(String(h!.e)) };
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await server?.close();
    await data?.remove();
  });

  test('the chart and the slowest frames show the hitch; one click opens the timeline zoomed on it', async () => {
    const page = await open(`/process/${pid}?tab=frames`);
    await page.waitForFunction(() => window.__sirius?.frames !== undefined, undefined, { timeout: 30_000 });
    await page.waitForSelector('[data-testid=frame-chart] .u-over', { timeout: 10_000 });
    const frames = await page.evaluate(() => window.__sirius.frames!);
    assert.equal(frames.frames, FRAMES_RUN.frames, 'one frame_time per frame');
    assert.equal(frames.budget, 25);
    assert.ok(frames.slow >= 1, `slow frames: ${frames.slow}`);
    const top = frames.rows[0]!;
    assert.ok(top.ms >= FRAMES_RUN.hitchMs, `the slowest frame took ${top.ms} ms`);
    // linked to the frame span that holds the hitch
    assert.ok(top.beginNs && top.endNs, 'the slowest frame has its span');
    assert.ok(BigInt(top.beginNs) <= hitch.begin && hitch.end <= BigInt(top.endNs), `frame ${top.beginNs}–${top.endNs} holds the hitch ${hitch.begin}–${hitch.end}`);
    const firstRow = page.locator('[data-testid=slow-frames] tbody tr').first();
    assert.match(await firstRow.innerText(), /\d+ ms/);
    await screenshot(page, 'process-frames');

    await firstRow.locator('[data-testid=frame-link]').click();
    await page.waitForFunction(() => window.__sirius?.timeline?.names.includes('hitch') === true, undefined, { timeout: 30_000 });
    const url = new URL(page.url());
    assert.equal(url.searchParams.get('tab'), 'timeline');
    const tl = await page.evaluate(() => {
      const t = window.__sirius.timeline!;
      return { mode: t.mode, spans: t.spans(), view: window.__sirius.timelineView!.view(), flame: window.__sirius.flame?.nodes() ?? [] };
    });
    assert.equal(tl.mode, 'spans');
    const span = tl.spans.find((s) => s.name === 'hitch')!;
    const frameSpan = tl.spans.find((s) => s.name === 'frame' && s.begin <= span.begin && s.end >= span.end)!;
    assert.ok(frameSpan, 'the hitch frame is loaded');
    const d = frameSpan.end - frameSpan.begin;
    assert.ok(tl.view.begin < frameSpan.begin && tl.view.end > frameSpan.end, `view ${JSON.stringify(tl.view)} holds the frame ${frameSpan.begin}–${frameSpan.end}`);
    assert.ok(tl.view.end - tl.view.begin < 2 * d, 'zoomed on the frame, not on the whole run');
    assert.ok(tl.flame.some((n) => n.name === 'hitch' && n.depth === 1), 'the flame graph of the view has the hitch under the frame');
    await screenshot(page, 'process-frame-timeline');
    await page.close();
  });

  test('the budget control re-reads the slow frames', async () => {
    const page = await open(`/process/${pid}?tab=frames`);
    await page.waitForFunction(() => window.__sirius?.frames !== undefined, undefined, { timeout: 30_000 });
    await page.fill('[data-testid=frame-budget]', '100000');
    await page.press('[data-testid=frame-budget]', 'Enter');
    await page.waitForFunction(() => window.__sirius.frames?.budget === 100000, undefined, { timeout: 30_000 });
    assert.equal(new URL(page.url()).searchParams.get('budget'), '100000');
    const f = await page.evaluate(() => window.__sirius.frames!);
    assert.equal(f.slow, 0);
    assert.deepEqual(f.rows, []);
    await page.waitForSelector('text=No frame over 100000 ms', { timeout: 10_000 });
    await page.close();
  });

  test('a browser process shows its browser and device, and the processes search finds it by property', async () => {
    const page = await open(`/process/${pid}?tab=details`);
    const facts = page.locator('[data-testid=device-facts]');
    await facts.waitFor({ timeout: 30_000 });
    const text = await facts.innerText();
    for (const want of ['Chrome 131.0.6778.85', 'Android 14', '8 cores · 8 GB', '412x915 @2.625x', 'Adreno (TM) 740', 'https://game.example/play']) {
      assert.ok(text.includes(want), `“${want}” in ${JSON.stringify(text)}`);
    }
    await page.goto(`${server!.url}/processes`);
    const rows = page.locator('[data-testid=process-table] tbody tr');
    await until('both processes listed', async () => ((await rows.count()) === 2 ? true : undefined));
    await page.fill('[data-testid=process-search]', 'browser:chrome os:android');
    await until('the search to leave one process', async () => ((await rows.count()) === 1 ? true : undefined));
    assert.match(await rows.first().innerText(), new RegExp(FRAMES_RUN.exe));
    assert.equal(await rows.first().locator('[data-testid=process-device]').innerText(), 'Chrome 131 · Android 14');
    await page.fill('[data-testid=process-search]', 'browser:firefox');
    await page.waitForSelector('text=No process matches', { timeout: 10_000 });
    await page.fill('[data-testid=process-search]', THREADS.exe);
    await until('the plain search to find the Node process', async () => ((await rows.count()) === 1 && (await rows.first().innerText()).includes(THREADS.exe) ? true : undefined));
    await page.close();
    assert.deepEqual(errors, []);
  });
});
