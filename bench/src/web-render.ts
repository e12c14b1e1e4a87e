/**
 * Web app rendering in headless Chromium: time to first render of each page over demo-like data (a million
 * log lines, 100 000 spans on one thread, metrics, six processes), and the frame rate while panning the
 * thread timeline with all 100 000 spans on screen and zoomed in.
 *
 * The data comes from the web package's fixture server (the real query engine, routes and static handler
 * over Parquet files generated up front), so the figures measure the app and the query path, not ingestion.
 *
 * ```sh
 * node --import tsx bench/src/web-render.ts
 * ```
 */
import { chromium, type Page } from 'playwright-core';
import { ensureBuilt, CHROMIUM_ARGS } from '../../packages/web/test/e2e/support.js';
import { startFixtureServer } from '../../packages/web/test/support/fixture-server.js';
import type {} from '../../packages/web/src/app/debug.js'; // window.__sirius

const LOGS = Number(process.env.BENCH_WEB_LOGS ?? 1_000_000);
const SPANS = Number(process.env.BENCH_WEB_SPANS ?? 100_000);

export async function run(): Promise<Record<string, number | string>> {
  ensureBuilt();
  const genStart = performance.now();
  const server = await startFixtureServer({ logs: LOGS, spans: SPANS });
  const out: Record<string, number | string> = {
    'data: log lines / spans': `${LOGS.toLocaleString('en-US')} / ${SPANS.toLocaleString('en-US')}`,
    'data generation (s)': +((performance.now() - genStart) / 1000).toFixed(1),
  };
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    const pid = server.mainProcessId;
    const pages: [string, string, string][] = [
      ['processes', '/processes', `[data-testid=process-table] tr[data-key="${pid}"]`],
      ['overview', '/overview', '[data-testid=top-targets] li'],
      ['process logs (1 M lines)', `/process/${pid}?tab=logs`, '[data-testid=log-list] .log-row:not(.placeholder)'],
      ['process metrics', `/process/${pid}?tab=metrics`, '[data-testid=metric-chart] .u-over'],
      ['thread timeline (100 k spans)', `/process/${pid}?tab=timeline`, '[data-testid=flame-canvas]'],
      ['notebook (3 cells)', '/notebooks/bench?new=1', '[data-testid=cell-bars] li'],
    ];
    // one warm-up pass (engine caches, browser code cache), then the measured pass
    for (const pass of [0, 1]) {
      for (const [name, path, ready] of pages) {
        const ms = await firstRender(page, `${server.url}${path}`, ready);
        if (pass === 1) out[`first render: ${name} (ms)`] = Math.round(ms);
      }
    }
    await page.goto(`${server.url}/process/${pid}?tab=timeline`);
    await page.waitForFunction(() => (window.__sirius?.timeline?.count ?? 0) > 0 && !!window.__sirius.timelineView, undefined, { timeout: 60_000 });
    const full = await pan(page, 1);
    out['pan, all spans on screen: fps'] = Math.round(full.fps);
    out['pan, all spans on screen: draw ms p50 / p95'] = `${full.p50.toFixed(2)} / ${full.p95.toFixed(2)}`;
    const zoomed = await pan(page, 1 / 200);
    out['pan, zoomed 200×: fps'] = Math.round(zoomed.fps);
    out['pan, zoomed 200×: draw ms p50 / p95'] = `${zoomed.p50.toFixed(2)} / ${zoomed.p95.toFixed(2)}`;
  } finally {
    await browser.close();
    await server.close();
  }
  return out;
}

/** ms from navigation start until `ready` is in the DOM */
async function firstRender(page: Page, url: string, ready: string): Promise<number> {
  await page.goto('about:blank');
  await page.goto(url);
  await page.waitForSelector(ready, { timeout: 60_000 });
  return page.evaluate(() => performance.now());
}

/** Pans the timeline for 240 animation frames at `zoom` × the full width; reports fps and draw times. */
async function pan(page: Page, zoom: number): Promise<{ fps: number; p50: number; p95: number }> {
  // a string, not a function: tsx's name-keeping helpers do not exist inside the page
  return page.evaluate(`(async (z) => {
    const tl = window.__sirius.timelineView;
    const v0 = tl.view();
    const full = v0.end - v0.begin;
    const w = full * z;
    const frames = 240;
    const draws = [];
    let b = v0.begin;
    const t0 = performance.now();
    await new Promise((resolve) => {
      let i = 0;
      function step() {
        b += (full - w) / frames;
        tl.setView(b, b + w);
        draws.push(tl.draw());
        if (++i < frames) requestAnimationFrame(step);
        else resolve();
      }
      requestAnimationFrame(step);
    });
    const elapsed = performance.now() - t0;
    tl.setView(v0.begin, v0.end);
    draws.sort((a, c) => a - c);
    return { fps: (frames / elapsed) * 1000, p50: draws[Math.floor(frames / 2)], p95: draws[Math.floor(frames * 0.95)] };
  })(${zoom})`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = await run();
  for (const [k, v] of Object.entries(r)) console.log(`${k.padEnd(50)} ${v}`);
}
